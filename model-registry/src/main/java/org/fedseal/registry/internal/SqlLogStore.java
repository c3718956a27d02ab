package org.fedseal.registry.internal;

import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.LogStore;
import org.fedseal.protocol.WireCodec;
import org.fedseal.protocol.WireFormatException;
import org.fedseal.protocol.wire.LogEntry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A durable {@link LogStore} in the registry database (table {@code log_entries}). Each append is
 * committed (or joins the caller's transaction). Leaf hashes and row ids are mirrored in memory so
 * that size and leaf lookups cost no query; the entry bytes are read from the database.
 */
public final class SqlLogStore implements LogStore {
    private static final Logger LOG = LoggerFactory.getLogger(SqlLogStore.class);
    private final Database db;
    private final List<Long> rowIds = new ArrayList<>();
    private final List<Hash> leafHashes = new ArrayList<>();

    /** Loads the leaf index from {@code db}. */
    public SqlLogStore(Database db) {
        this.db = db;
        db.query("SELECT idx, leaf_hash FROM log_entries ORDER BY idx", rs -> {
            rowIds.add(rs.getLong(1));
            leafHashes.add(Hash.fromHex(rs.getString(2)));
            return null;
        });
        for (int i = 0; i < rowIds.size(); i++) {
            if (rowIds.get(i) != i) {
                LOG.error("provenance log has a gap: row {} is at position {} (entries were removed)", rowIds.get(i), i);
                break;
            }
        }
    }

    @Override
    public synchronized long append(byte[] entry, Hash leafHash) {
        long index = rowIds.isEmpty() ? 0 : rowIds.get(rowIds.size() - 1) + 1;
        String kind = "UNKNOWN";
        String model = "";
        int round = -1;
        String subject = "";
        try {
            LogEntry e = WireCodec.UNBOUNDED.decode(entry, LogEntry.class);
            kind = e.getKind().name();
            model = e.getModelId();
            round = e.getRound();
            subject = Hash.of(e.getSubjectHash()).toHex();
        } catch (WireFormatException | IllegalArgumentException e) {
            LOG.warn("appending an entry that is not a LogEntry: {}", e.getMessage());
        }
        db.update("INSERT INTO log_entries (idx, entry, leaf_hash, kind, model_id, round_no, subject_hash) VALUES (?,?,?,?,?,?,?)",
                index, Base64.getEncoder().encodeToString(entry), leafHash.toHex(), kind, model, round, subject);
        rowIds.add(index);
        leafHashes.add(leafHash);
        return leafHashes.size() - 1L;
    }

    @Override
    public synchronized long size() {
        return leafHashes.size();
    }

    @Override
    public synchronized Hash leafHash(long index) {
        return leafHashes.get(check(index));
    }

    @Override
    public synchronized byte[] entry(long index) {
        long row = rowIds.get(check(index));
        return db.queryOne("SELECT entry FROM log_entries WHERE idx = ?", rs -> Base64.getDecoder().decode(rs.getString(1)), row)
                .orElseThrow(() -> new IndexOutOfBoundsException("log entry " + index + " vanished"));
    }

    /** Position of the first entry about {@code subjectHash} (optionally of {@code kind}), or -1. */
    public synchronized long findSubject(Hash subjectHash, String kind) {
        List<Long> rows = db.query("SELECT idx FROM log_entries WHERE subject_hash = ?"
                + (kind == null ? "" : " AND kind = ?") + " ORDER BY idx",
                rs -> rs.getLong(1), kind == null ? new Object[] {subjectHash.toHex()} : new Object[] {subjectHash.toHex(), kind});
        return rows.isEmpty() ? -1 : rowIds.indexOf(rows.get(0));
    }

    private int check(long index) {
        if (index < 0 || index >= leafHashes.size()) {
            throw new IndexOutOfBoundsException("no leaf " + index + " in a log of size " + leafHashes.size());
        }
        return (int) index;
    }
}
