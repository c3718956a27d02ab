package org.fedseal.registry;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.fedseal.he.HeParameters;
import org.fedseal.he.SecretKeyAccess;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.MerkleVerifier;
import org.fedseal.protocol.Signatures;
import org.fedseal.protocol.SigningKeyPair;
import org.fedseal.protocol.wire.ModelVersionPublished;
import org.fedseal.protocol.wire.SignedTreeHead;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The service over real HTTP and a real SQLite file, across a restart. */
class RegistryPersistenceTest {
    @TempDir
    Path dir;

    @Test
    void restartKeepsEverythingAndTreeHeadsStayConsistent() {
        SignedTreeHead before;
        List<VersionInfo> versionsBefore;
        String logKeyBefore;
        SigningKeyPair holder;
        try (RegistryServer s = Fixture.server(dir)) {
            RegistryClient c = Fixture.client(s);
            holder = Fixture.setUpModel(c, "mnist");
            Fixture.fullRound(s, c, "mnist", holder, 0.81);
            before = c.signedTreeHead();
            versionsBefore = c.versions("mnist");
            logKeyBefore = c.logPublicKey().fingerprint().toHex();
            assertEquals(2, versionsBefore.size());
            assertEquals("closed", c.roundStatus("mnist", 1).status());
        }
        try (RegistryServer s = Fixture.server(dir)) {
            RegistryClient c = Fixture.client(s);
            assertEquals(logKeyBefore, c.logPublicKey().fingerprint().toHex(), "log key persisted");
            assertEquals(versionsBefore, c.versions("mnist"));
            ModelInfo m = c.model("mnist");
            assertEquals(2, m.versionCount());
            assertEquals(1, m.roundCount());
            RoundInfo r = c.roundStatus("mnist", 1);
            assertEquals("closed", r.status());
            assertEquals(List.of("mnist-c0", "mnist-c1"), r.participants());
            assertTrue(r.latencyMillis() >= 0);
            assertArrayEquals(Fixture.HE_KEYS.publicKey().toBytes(), c.hePublicKey(Hash.fromHex(m.hePublicKeyHash())));
            assertEquals(
                    10, c.weightsAsFloats(Hash.fromHex(versionsBefore.get(1).versionHash())).length);
            assertEquals(0.81, c.versions("mnist").get(1).accuracy());

            SignedTreeHead same = c.signedTreeHead();
            assertEquals(before.getTreeSize(), same.getTreeSize());
            assertEquals(before.getRootHash(), same.getRootHash());
            // grow the log after the restart and prove consistency with the pre-restart head
            Fixture.fullRound(s, c, "mnist", holder, 0.85);
            SignedTreeHead after = c.signedTreeHead();
            assertTrue(MerkleVerifier.verifyConsistency(
                    c.consistencyProof(before.getTreeSize(), after.getTreeSize()), before, after, c.logPublicKey()));
            assertEquals(0, Fixture.cli(s, "audit", "verify").code());
        }
    }

    @Test
    void treeHeadsAreConsistentAcrossRestart() {
        SignedTreeHead before;
        try (RegistryServer s = Fixture.server(dir)) {
            RegistryClient c = Fixture.client(s);
            Fixture.setUpModel(c, "m1");
            c.openRound("m1", 1, Duration.ofMinutes(5), 1, 6);
            before = c.signedTreeHead();
        }
        try (RegistryServer s = Fixture.server(dir)) {
            RegistryClient c = Fixture.client(s);
            SigningKeyPair holder = SigningKeyPair.generate();
            c.enrollClient("m2-holder", holder.publicKey(), List.of());
            c.registerModel("m2", "cnn", HeParameters.CKKS_8192.id(), new float[] {1, 2, 3});
            SignedTreeHead after = c.signedTreeHead();
            assertTrue(after.getTreeSize() > before.getTreeSize());
            assertTrue(MerkleVerifier.verifyConsistency(
                    c.consistencyProof(before.getTreeSize(), after.getTreeSize()), before, after, c.logPublicKey()));
            assertTrue((Boolean) c.verifyLogOnServer().get("ok"));
        }
    }

    @Test
    void requestsAreValidatedAndVersionChainIsEnforced() throws Exception {
        try (RegistryServer s = Fixture.server(dir)) {
            RegistryClient c = Fixture.client(s);
            SigningKeyPair holder = Fixture.setUpModel(c, "m");
            // unknown model / version -> 404
            assertEquals(
                    404,
                    assertThrows(RegistryException.class, () -> c.model("nope")).status());
            assertEquals(
                    404,
                    assertThrows(RegistryException.class, () -> c.version(Hash.sha256(new byte[1])))
                            .status());
            // mutating without a token -> 401, JSON error body
            HttpResponse<String> r = HttpClient.newHttpClient()
                    .send(
                            HttpRequest.newBuilder(URI.create(s.uri() + "/api/models"))
                                    .POST(HttpRequest.BodyPublishers.ofString("{}"))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
            assertEquals(401, r.statusCode());
            assertTrue(r.body().contains("\"code\":\"unauthorized\""), r.body());
            RegistryClient noToken = RegistryClient.create(s.uri());
            assertEquals(
                    401,
                    assertThrows(RegistryException.class, () -> noToken.openRound("m", 1, Duration.ofMinutes(1), 1, 6))
                            .status());
            // malformed input -> 400
            assertEquals(
                    400,
                    assertThrows(
                                    RegistryException.class,
                                    () -> c.registerModel("bad id!", "x", HeParameters.CKKS_8192.id(), new float[] {1}))
                            .status());
            assertEquals(
                    400,
                    assertThrows(
                                    RegistryException.class,
                                    () -> c.registerModel("x", "x", "no-such-params", new float[] {1}))
                            .status());
            // a secret key (or anything but a public key of the parameter set) is refused
            byte[] secret = Fixture.HE_KEYS.secretKey().toBytes(SecretKeyAccess.insecureSecretKeyAccess());
            RegistryException e = assertThrows(RegistryException.class, () -> c.putHePublicKey("m", secret));
            assertEquals(400, e.status());
            assertEquals(
                    400,
                    assertThrows(RegistryException.class, () -> c.putHePublicKey("m", new byte[1000]))
                            .status());

            RoundInfo round = c.openRound("m", 2, Duration.ofMinutes(10), 1, 6);
            assertEquals(
                    409,
                    assertThrows(RegistryException.class, () -> c.openRound("m", 2, Duration.ofMinutes(10), 1, 6))
                            .status());
            Hash base = Hash.fromHex(round.baseModelHash());
            Fixture.RoundRun run = Fixture.simulateRound("m", 1, base, 2, false);
            byte[] w = RegistryClient.floatsToBytes(new float[Fixture.PARAMS]);
            // before the aggregate arrives
            RegistryException noAgg = assertThrows(
                    RegistryException.class,
                    () -> c.publishVersion(Fixture.nextVersion("m", base, run, w, holder), "m-holder", w, null));
            assertEquals("aggregate_mismatch", noAgg.code());
            Fixture.ingest(s, run);
            // wrong parent
            RegistryException wrongParent = assertThrows(
                    RegistryException.class,
                    () -> c.publishVersion(
                            Fixture.nextVersion("m", Hash.sha256(new byte[3]), run, w, holder), "m-holder", w, null));
            assertEquals(409, wrongParent.status());
            assertEquals("parent_mismatch", wrongParent.code());
            // wrong aggregate
            Fixture.RoundRun other = Fixture.simulateRound("m", 1, base, 1, false);
            RegistryException wrongAgg = assertThrows(
                    RegistryException.class,
                    () -> c.publishVersion(Fixture.nextVersion("m", base, other, w, holder), "m-holder", w, null));
            assertEquals("aggregate_mismatch", wrongAgg.code());
            // signed by someone else
            RegistryException badSig = assertThrows(
                    RegistryException.class,
                    () -> c.publishVersion(
                            Fixture.nextVersion("m", base, run, w, SigningKeyPair.generate()), "m-holder", w, null));
            assertEquals(403, badSig.status());
            // tampered record (hash no longer recomputes)
            ModelVersionPublished good = Fixture.nextVersion("m", base, run, w, holder);
            ModelVersionPublished forged = ModelVersionPublished.newBuilder(good)
                    .setRound(1)
                    .setPublishedAtEpochMillis(1)
                    .build();
            RegistryException mismatch = assertThrows(
                    RegistryException.class,
                    () -> c.publishVersion(Signatures.sign(forged, holder.privateKey()), "m-holder", w, null));
            assertEquals("version_hash_mismatch", mismatch.code());
            VersionInfo v = c.publishVersion(good, "m-holder", w, 0.5);
            assertEquals(1, v.sequence());
            assertEquals(base.toHex(), v.parentHash());
            assertEquals(0.7, c.setAccuracy(Hash.fromHex(v.versionHash()), 0.7).accuracy());
            // OpenAPI document and web page are served
            String openapi = HttpClient.newHttpClient()
                    .send(
                            HttpRequest.newBuilder(URI.create(s.uri() + "/openapi.json"))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString())
                    .body();
            assertTrue(openapi.contains("\"/api/models/{modelId}/versions\""));
            assertTrue(Files.exists(dir.resolve("registry.db")));
        }
    }
}
