package org.fedseal.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.InclusionProof;
import org.fedseal.protocol.MerkleVerifier;
import org.fedseal.protocol.SigningKeyPair;
import org.fedseal.protocol.SigningPublicKey;
import org.fedseal.protocol.wire.ReasonCode;
import org.fedseal.protocol.wire.RecordKind;
import org.fedseal.protocol.wire.SignedTreeHead;
import org.fedseal.protocol.wire.UpdateAccepted;
import org.fedseal.protocol.wire.UpdateRejected;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 50 clients at once against one registry (a HikariCP pool over SQLite, and over PostgreSQL when
 * {@code FEDSEAL_TEST_POSTGRES_URL} is set, as {@code ./fedseal test} does): every request succeeds,
 * no log entry or row is lost, and every tree head a client saw is consistent with the final one.
 */
class ConcurrentClientsTest {
    private static final int CLIENTS = 50;

    @TempDir
    Path dir;

    @Test
    void fiftyConcurrentClientsOnSqlite() throws Exception {
        try (RegistryServer s = Fixture.server(dir.resolve("data"))) {
            drive(s, "conc", true);
        }
    }

    @Test
    void fiftyConcurrentClientsOnPostgresql() throws Exception {
        String url = System.getenv("FEDSEAL_TEST_POSTGRES_URL");
        assumeTrue(
                url != null && !url.isBlank(),
                "no PostgreSQL available: set FEDSEAL_TEST_POSTGRES_URL (and FEDSEAL_TEST_POSTGRES_USER/PASSWORD) to run this test");
        try (RegistryServer s = RegistryServer.builder()
                .dataDir(dir.resolve("pg"))
                .port(0)
                .adminToken("test-token")
                .jdbcUrl(url)
                .jdbcCredentials(
                        System.getenv().getOrDefault("FEDSEAL_TEST_POSTGRES_USER", ""),
                        System.getenv().getOrDefault("FEDSEAL_TEST_POSTGRES_PASSWORD", ""))
                .build()
                .start()) {
            // The test database is shared with earlier runs whose blob directories are gone, so the full
            // audit (which fetches every logged aggregate) runs on SQLite only; the log itself is checked here too.
            drive(s, "pgconc" + System.nanoTime() % 1_000_000, false);
        }
    }

    /** What one client thread saw. */
    private record Seen(
            String clientId, Hash updateHash, SigningPublicKey key, SignedTreeHead before, SignedTreeHead after) {}

    private static void drive(RegistryServer s, String model, boolean fullAudit) throws Exception {
        RegistryClient admin = Fixture.client(s);
        Fixture.setUpModel(admin, model);
        int round =
                admin.openRound(model, CLIENTS, Duration.ofMinutes(10), 1, 6).round();
        SigningPublicKey logKey = admin.logPublicKey();
        long sizeBefore = admin.signedTreeHead().getTreeSize();

        ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<Seen>> futures = new ArrayList<>();
        try {
            for (int i = 0; i < CLIENTS; i++) {
                int k = i;
                futures.add(pool.submit(() -> {
                    RegistryClient c = Fixture.client(s);
                    String clientId = model + "-client" + k;
                    SigningKeyPair key = SigningKeyPair.generate();
                    start.await();
                    SignedTreeHead before = c.signedTreeHead();
                    c.enrollClient(clientId, key.publicKey(), List.of(model));
                    Hash updateHash =
                            Hash.sha256((clientId + "/update").getBytes(java.nio.charset.StandardCharsets.UTF_8));
                    // What the aggregator's Kafka topics deliver, concurrently with the HTTP traffic.
                    s.service()
                            .onAccepted(UpdateAccepted.newBuilder()
                                    .setModelId(model)
                                    .setRound(round)
                                    .setClientId(clientId)
                                    .setUpdateId("u" + k)
                                    .setUpdateHash(updateHash.toByteBuffer())
                                    .setWeight(10 + k)
                                    .setAcceptedAtEpochMillis(System.currentTimeMillis())
                                    .build());
                    if (k % 5 == 0) {
                        s.service()
                                .onRejected(UpdateRejected.newBuilder()
                                        .setModelId(model)
                                        .setRound(round)
                                        .setClientId(clientId)
                                        .setUpdateId("late" + k)
                                        .setRecordKind(RecordKind.UPDATE_COMMIT)
                                        .setReason(ReasonCode.DUPLICATE)
                                        .setDetail("test duplicate " + k)
                                        .setAtEpochMillis(System.currentTimeMillis())
                                        .build());
                    }
                    c.model(model);
                    c.rounds(model);
                    c.logEntries(0, 5);
                    SignedTreeHead after = c.signedTreeHead();
                    return new Seen(clientId, updateHash, key.publicKey(), before, after);
                }));
            }
            start.countDown();
            List<Seen> seen = new ArrayList<>();
            for (Future<Seen> f : futures) {
                seen.add(f.get(5, TimeUnit.MINUTES)); // any failed request fails here
            }

            int rejects = (CLIENTS + 4) / 5;
            SignedTreeHead last = admin.signedTreeHead();
            assertEquals(
                    sizeBefore + 2L * CLIENTS + rejects,
                    last.getTreeSize(),
                    "one enrolment and one acceptance per client, one rejection per fifth client: no log entry lost or doubled");
            RoundInfo r = admin.roundStatus(model, round);
            assertEquals(CLIENTS, r.acceptedCount(), "every accepted update counted");
            assertEquals(rejects, r.rejectedCount(), "every rejection counted");
            assertEquals(CLIENTS, r.participants().size(), "every participant listed");
            assertEquals(CLIENTS, admin.acceptedUpdates(model, round).size(), "every accepted update stored");

            Set<Long> indices = new HashSet<>();
            for (Seen v : seen) {
                assertEquals(v.key(), admin.clientKey(v.clientId()), "enrolled key of " + v.clientId());
                Optional<Long> idx = admin.findLogEntry(v.updateHash(), "UPDATE_ACCEPTED");
                assertTrue(idx.isPresent(), "acceptance of " + v.clientId() + " is in the log");
                assertTrue(indices.add(idx.get()), "one leaf per acceptance");
                InclusionProof p = admin.inclusionProof(idx.get(), last.getTreeSize());
                byte[] entry = java.util.Base64.getDecoder()
                        .decode(admin.logEntries(idx.get(), idx.get() + 1)
                                .get(0)
                                .entry());
                assertTrue(
                        MerkleVerifier.verifyInclusion(entry, p, last, logKey),
                        "inclusion of " + v.clientId() + "'s acceptance");
                for (SignedTreeHead h : List.of(v.before(), v.after())) {
                    assertTrue(
                            MerkleVerifier.verifyConsistency(
                                    admin.consistencyProof(h.getTreeSize(), last.getTreeSize()), h, last, logKey),
                            v.clientId() + " saw a tree head of size " + h.getTreeSize()
                                    + " consistent with the final one");
                }
            }
            assertEquals(
                    Boolean.TRUE, admin.verifyLogOnServer().get("ok"), "server-side recomputation of the whole log");
            if (fullAudit) {
                Fixture.Cli audit = Fixture.cli(s, "audit", "verify");
                assertEquals(
                        0, audit.code(), "the auditor verifies the log and every tree head issued:\n" + audit.out());
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
