package org.fedseal.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.MerkleHashes;
import org.fedseal.protocol.wire.LogEntry;
import org.fedseal.protocol.wire.LogEntryKind;
import org.fedseal.registry.internal.Database;
import org.fedseal.registry.internal.ProvenanceLog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The pooled database's transactions and the provenance log on top of them. */
class DatabaseTest {
    @TempDir
    Path dir;

    private static LogEntry entry(int i) {
        return LogEntry.newBuilder()
                .setKind(LogEntryKind.CLIENT_ENROLLED)
                .setModelId("m")
                .setRound(0)
                .setSubjectHash(Hash.sha256(new byte[] {(byte) i}).toByteBuffer())
                .setClientId("c" + i)
                .setAtEpochMillis(i)
                .build();
    }

    @Test
    void aLogEntryOfARolledBackTransactionIsDroppedEverywhere() {
        String url = "jdbc:sqlite:" + dir.resolve("r.db");
        try (Database db = new Database(url, null, null, 4)) {
            ProvenanceLog log = new ProvenanceLog(db);
            for (int i = 0; i < 15; i++) {
                log.append(entry(i));
            }
            Hash before = log.log().rootHash();
            // The 16th entry would complete a cached subtree of 16 leaves: the cache must not keep it.
            assertThrows(
                    IllegalStateException.class,
                    () -> db.tx(c -> {
                        log.append(entry(100));
                        assertEquals(16, log.log().size(), "visible inside its own transaction");
                        throw new IllegalStateException("abort");
                    }));
            assertEquals(15, log.log().size(), "dropped from memory");
            assertEquals(before, log.log().rootHash(), "root as before");
            assertEquals(15L, db.queryLong("SELECT COUNT(*) FROM log_entries"), "and from the table");
            for (int i = 15; i < 20; i++) {
                log.append(entry(i));
            }
            List<Hash> leaves = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                leaves.add(MerkleHashes.leafHash(log.log().entry(i)));
            }
            assertEquals(
                    MerkleHashes.rootOfLeafHashes(leaves),
                    log.log().rootHash(),
                    "the tree is the tree of the committed entries");
            Hash root = log.log().rootHash();
            assertTrue(log.signedTreeHead().getTreeSize() == 20);
            ProvenanceLog reopened = new ProvenanceLog(db);
            assertEquals(root, reopened.log().rootHash(), "the same log after a restart");
            assertNull(reopened.integrityProblem(), "no integrity problem at start");
        }
    }

    @Test
    void aWriteCannotStartInsideARead() {
        try (Database db = new Database("jdbc:sqlite:" + dir.resolve("w.db"), null, null, 2)) {
            assertThrows(
                    IllegalStateException.class,
                    () -> db.read(c -> db.update("INSERT INTO settings (name, value) VALUES ('a', 'b')")));
            assertEquals(0L, db.queryLong("SELECT COUNT(*) FROM settings WHERE name = 'a'"));
            int inserted = db.tx(c -> db.update("INSERT INTO settings (name, value) VALUES ('a', 'b')"));
            assertEquals(1, inserted);
            assertEquals(
                    "b",
                    db.setting("a").orElseThrow(),
                    "a read after the commit sees it, on another pooled connection");
        }
    }
}
