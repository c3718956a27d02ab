package org.fedseal.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import org.fedseal.protocol.CanonicalHash;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.Signatures;
import org.fedseal.protocol.SigningKeyPair;
import org.fedseal.protocol.WireCodec;
import org.fedseal.protocol.wire.LogEntry;
import org.fedseal.protocol.wire.LogEntryKind;
import org.fedseal.protocol.wire.ModelVersionPublished;
import org.fedseal.protocol.wire.SignedTreeHead;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code fedseal audit ...} catches each kind of tampering, over real HTTP and a real database file. */
class AuditTest {
    @TempDir
    Path dir;

    private static final String M = "audited";

    private Fixture.RoundRun populate(RegistryServer s) {
        RegistryClient c = Fixture.client(s);
        SigningKeyPair holder = Fixture.setUpModel(c, M);
        return Fixture.fullRound(s, c, M, holder, 0.9);
    }

    private void sql(String update, Object... args) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("registry.db"));
                PreparedStatement ps = c.prepareStatement(update)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            ps.executeUpdate();
        }
    }

    private long firstIndexOf(String kind) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("registry.db"));
                PreparedStatement ps = c.prepareStatement("SELECT MIN(idx) FROM log_entries WHERE kind = ?")) {
            ps.setString(1, kind);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private String entryRow(long idx) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("registry.db"));
                PreparedStatement ps = c.prepareStatement("SELECT entry FROM log_entries WHERE idx = ?")) {
            ps.setLong(1, idx);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }

    @Test
    void cleanRegistryPassesAndProvesInclusion() {
        try (RegistryServer s = Fixture.server(dir)) {
            Fixture.RoundRun run = populate(s);
            Fixture.Cli v = Fixture.cli(s, "audit", "verify");
            assertEquals(0, v.code(), v.out());
            assertTrue(v.out().contains("PASS"), v.out());
            Fixture.Cli p = Fixture.cli(
                    s, "audit", "prove", "--update", run.updateHashes().get(0).toHex());
            assertEquals(0, p.code(), p.out());
            Fixture.Cli missing = Fixture.cli(
                    s, "audit", "prove", "--update", Hash.sha256(new byte[2]).toHex());
            assertEquals(1, missing.code(), missing.out());
            Fixture.Cli r = Fixture.cli(s, "audit", "recompute", "--model", M, "--round", "1");
            assertEquals(0, r.code(), r.out());
            assertTrue(r.out().contains("bit for bit"), r.out());
        }
    }

    @Test
    void tamperedLogEntryIsCaught() throws Exception {
        try (RegistryServer s = Fixture.server(dir)) {
            populate(s);
        }
        // edit the first UPDATE_ACCEPTED row: claim another client contributed
        long idx = firstIndexOf("UPDATE_ACCEPTED");
        byte[] bytes = Base64.getDecoder().decode(entryRow(idx));
        LogEntry e = WireCodec.UNBOUNDED.decode(bytes, LogEntry.class);
        assertEquals(LogEntryKind.UPDATE_ACCEPTED, e.getKind());
        e.setClientId("mallory");
        sql(
                "UPDATE log_entries SET entry = ? WHERE idx = ?",
                Base64.getEncoder().encodeToString(WireCodec.UNBOUNDED.encode(e)),
                idx);
        try (RegistryServer s = Fixture.server(dir)) {
            Fixture.Cli v = Fixture.cli(s, "audit", "verify");
            assertEquals(1, v.code(), v.out());
            assertTrue(v.out().contains("FAIL entry " + idx + " was altered"), v.out());
        }
    }

    @Test
    void removedEntryIsCaught() throws Exception {
        Path saved = dir.resolve("sth.json");
        long size;
        try (RegistryServer s = Fixture.server(dir)) {
            populate(s);
            Fixture.Cli v = Fixture.cli(s, "audit", "verify", "--save-sth", saved.toString());
            assertEquals(0, v.code(), v.out());
            size = Fixture.client(s).signedTreeHead().getTreeSize();
        }
        sql("DELETE FROM log_entries WHERE idx = ?", size - 1);
        sql("DELETE FROM tree_heads"); // a thorough attacker also drops the heads it issued
        try (RegistryServer s = Fixture.server(dir)) {
            Fixture.Cli v = Fixture.cli(s, "audit", "verify", "--sth-file", saved.toString());
            assertEquals(1, v.code(), v.out());
            assertTrue(v.out().contains("FAIL entries were removed"), v.out());
        }
    }

    @Test
    void forkedTreeHeadIsCaught() throws Exception {
        try (RegistryServer s = Fixture.server(dir)) {
            populate(s);
            RegistryClient c = Fixture.client(s);
            SignedTreeHead real = c.signedTreeHead();
            // the registry's own key signs a second head of the same size with another root (a fork shown to someone
            // else)
            SignedTreeHead fork = SignedTreeHead.newBuilder(real)
                    .setRootHash(Hash.sha256(new byte[7]).toByteBuffer())
                    .setSignature(ByteBuffer.allocate(0))
                    .build();
            fork = Signatures.sign(fork, s.service().logKey().privateKey());
            Path file = dir.resolve("fork.json");
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("record", Base64.getEncoder().encodeToString(WireCodec.UNBOUNDED.encode(fork)));
            m.put("logKey", Base64.getEncoder().encodeToString(c.logPublicKey().toX509()));
            Files.write(file, new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsBytes(m));
            Fixture.Cli v = Fixture.cli(s, "audit", "verify", "--sth-file", file.toString());
            assertEquals(1, v.code(), v.out());
            assertTrue(v.out().contains("FAIL forked tree heads"), v.out());

            // an inconsistent pair: a smaller head whose root is not a prefix of the current log
            SignedTreeHead smaller = SignedTreeHead.newBuilder(real)
                    .setTreeSize(real.getTreeSize() - 1)
                    .setRootHash(Hash.sha256(new byte[9]).toByteBuffer())
                    .setSignature(ByteBuffer.allocate(0))
                    .build();
            m.put(
                    "record",
                    Base64.getEncoder()
                            .encodeToString(WireCodec.UNBOUNDED.encode(Signatures.sign(
                                    smaller, s.service().logKey().privateKey()))));
            Files.write(file, new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsBytes(m));
            Fixture.Cli v2 = Fixture.cli(s, "audit", "verify", "--sth-file", file.toString());
            assertEquals(1, v2.code(), v2.out());
            assertTrue(v2.out().contains("FAIL the log is inconsistent with the saved tree head"), v2.out());
        }
    }

    @Test
    void versionWithWrongParentIsCaught() {
        try (RegistryServer s = Fixture.server(dir)) {
            RegistryClient c = Fixture.client(s);
            SigningKeyPair holder = Fixture.setUpModel(c, M);
            Fixture.RoundRun run = Fixture.fullRound(s, c, M, holder, 0.9);
            // a misbehaving registry logs (and signs tree heads over) a version whose parent is not a version of the
            // model
            byte[] w = new byte[Fixture.PARAMS * 4];
            ModelVersionPublished bad = Fixture.nextVersion(M, Hash.sha256(new byte[5]), run, w, holder);
            s.service()
                    .log()
                    .append(LogEntry.newBuilder()
                            .setKind(LogEntryKind.MODEL_VERSION_PUBLISHED)
                            .setModelId(M)
                            .setRound(1)
                            .setSubjectHash(CanonicalHash.of(bad).toByteBuffer())
                            .setClientId(M + "-holder")
                            .setUpdateId(null)
                            .setReason(null)
                            .setVersionHash(bad.getVersionHash())
                            .setPayload(bad)
                            .setAtEpochMillis(System.currentTimeMillis())
                            .build());
            Fixture.Cli v = Fixture.cli(s, "audit", "verify");
            assertEquals(1, v.code(), v.out());
            assertTrue(v.out().contains("which is not an earlier version of " + M), v.out());
        }
    }

    @Test
    void aggregateThatDiffersFromArchivedUpdatesIsCaught() {
        try (RegistryServer s = Fixture.server(dir)) {
            RegistryClient c = Fixture.client(s);
            Fixture.setUpModel(c, M);
            RoundInfo r = c.openRound(M, 2, java.time.Duration.ofMinutes(5), 1, 6);
            Fixture.RoundRun run = Fixture.simulateRound(M, r.round(), Hash.fromHex(r.baseModelHash()), 2, true);
            Fixture.ingest(s, run);
            Fixture.Cli v = Fixture.cli(s, "audit", "recompute", "--model", M, "--round", "1");
            assertEquals(1, v.code(), v.out());
            assertTrue(v.out().contains("FAIL ciphertext 0: the published aggregate differs"), v.out());
        }
    }
}
