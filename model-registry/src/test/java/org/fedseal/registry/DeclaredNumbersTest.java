package org.fedseal.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import org.fedseal.he.HeParameters;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.RoundBounds;
import org.fedseal.protocol.Signatures;
import org.fedseal.protocol.SigningKeyPair;
import org.fedseal.protocol.WireCodec;
import org.fedseal.protocol.wire.AggregatePublished;
import org.fedseal.protocol.wire.RoundOpened;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 14, cases 1 and 3 at the registry: no round that could wrap, no non-finite weights stored or served. */
class DeclaredNumbersTest {
    @TempDir
    Path dir;

    private static HttpResponse<String> post(RegistryServer s, String path, String json) throws Exception {
        return HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create(s.uri() + path))
                                .header("Authorization", "Bearer " + s.adminToken())
                                .header("Content-Type", "application/json")
                                .POST(HttpRequest.BodyPublishers.ofString(json))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void nonFiniteWeightsAreRefusedNamingTheIndex() throws Exception {
        try (RegistryServer s = Fixture.server(dir)) {
            // 1e39 is +Inf as float32
            HttpResponse<String> r = post(
                    s,
                    "/api/models",
                    "{\"modelId\":\"inf\",\"architecture\":\"x\",\"heParamsId\":\"ckks-8192-v1\",\"weights\":[0.5,1e39]}");
            assertEquals(400, r.statusCode(), r.body());
            assertTrue(r.body().contains("[1]") && r.body().contains("Infinity"), r.body());
            byte[] nan = RegistryClient.floatsToBytes(new float[] {0, 1, 2, Float.NaN});
            r = post(
                    s,
                    "/api/models",
                    "{\"modelId\":\"nan\",\"architecture\":\"x\",\"heParamsId\":\"ckks-8192-v1\",\"weightsBase64\":\""
                            + Base64.getEncoder().encodeToString(nan) + "\"}");
            assertEquals(400, r.statusCode(), r.body());
            assertTrue(r.body().contains("[3]") && r.body().contains("NaN"), r.body());
            RegistryClient c = Fixture.client(s);
            for (float bad : new float[] {Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, Float.NaN}) {
                assertEquals(
                        400,
                        assertThrows(
                                        RegistryException.class,
                                        () -> c.registerModel("m", "x", "ckks-8192-v1", new float[] {1, bad}))
                                .status());
            }
            assertEquals(
                    404,
                    assertThrows(RegistryException.class, () -> c.model("inf")).status(),
                    "nothing stored");

            // a version with a NaN weight is refused too (the checks run before any state changes)
            SigningKeyPair holder = Fixture.setUpModel(c, "v");
            RoundInfo round = c.openRound("v", 2, Duration.ofMinutes(10), 1, 6);
            Fixture.RoundRun run = Fixture.simulateRound("v", 1, Hash.fromHex(round.baseModelHash()), 2, false);
            float[] next = new float[Fixture.PARAMS];
            next[7] = Float.NaN;
            byte[] w = RegistryClient.floatsToBytes(next);
            RegistryException e = assertThrows(
                    RegistryException.class,
                    () -> c.publishVersion(
                            Fixture.nextVersion("v", Hash.fromHex(round.baseModelHash()), run, w, holder),
                            "v-holder",
                            w,
                            null));
            assertEquals(400, e.status());
            assertTrue(e.getMessage().contains("[7]"), e.getMessage());
        }
    }

    @Test
    void anAggregateWithANonsensicalTotalWeightIsNotStored() {
        try (RegistryServer s = Fixture.server(dir)) {
            RegistryClient c = Fixture.client(s);
            Fixture.setUpModel(c, "agg");
            Hash base = Hash.fromHex(c.model("agg").latestVersionHash());
            c.openRound("agg", 2, Duration.ofMinutes(5), 1, 6, 1, 300, 150);
            Fixture.RoundRun run = Fixture.simulateRound("agg", 1, base, 2, false);
            long logBefore = c.signedTreeHead().getTreeSize();
            for (long w : new long[] {Long.MIN_VALUE, 0, 301}) {
                AggregatePublished bad = Signatures.sign(
                        AggregatePublished.newBuilder(run.aggregate())
                                .setTotalWeight(w)
                                .setSignature(java.nio.ByteBuffer.allocate(0))
                                .build(),
                        Fixture.AGGREGATOR.privateKey());
                assertFalse(s.service().onAggregate(bad), "totalWeight " + w);
            }
            assertEquals("open", c.roundStatus("agg", 1).status());
            assertEquals(logBefore, c.signedTreeHead().getTreeSize(), "nothing logged");
            assertTrue(s.service().onAggregate(run.aggregate()), "200 of at most 300 is stored");
        }
    }

    @Test
    void roundsThatCouldWrapAreRefusedAndBoundsArePublished() throws Exception {
        try (RegistryServer s = Fixture.server(dir)) {
            RegistryClient c = Fixture.client(s);
            c.registerModel("t", "x", HeParameters.CKKS_8192_T50.id(), new float[] {1, 2, 3});
            c.putHePublicKey("t", Fixture.HE_KEYS.publicKey().toBytes());
            // the demo's former client settings on the threshold set: clip 10, total weight 20,000
            RegistryException e = assertThrows(
                    RegistryException.class, () -> c.openRound("t", 4, Duration.ofMinutes(5), 1, 6, 10, 20_000, 1_500));
            assertEquals(400, e.status());
            assertTrue(e.getMessage().contains("sumNormBound") && e.getMessage().contains("3276"), e.getMessage());
            assertEquals(
                    400,
                    post(s, "/api/models/t/rounds", "{\"quorum\":1,\"deadlineSeconds\":60,\"clipNorm\":\"ten\"}")
                            .statusCode());
            assertEquals(
                    400,
                    post(s, "/api/models/t/rounds", "{\"quorum\":1,\"deadlineSeconds\":60,\"maxTotalWeight\":1.5}")
                            .statusCode());
            assertEquals(
                    400,
                    post(s, "/api/models/t/rounds", "{\"quorum\":1,\"deadlineSeconds\":60,\"maxUpdateWeight\":-1}")
                            .statusCode());

            // defaults: clip 1, the largest total that fits, an equal share per quorum member
            RoundInfo r = c.openRound("t", 4, Duration.ofMinutes(5), 1, 6, 10, 0, 0);
            assertEquals(10.0, r.clipNorm());
            assertEquals(3276, r.maxTotalWeight());
            assertEquals(819, r.maxUpdateWeight());
            assertEquals(HeParameters.CKKS_8192_T50.maxSumNorm(), r.sumNormBound());
            byte[] raw = HttpClient.newHttpClient()
                    .send(
                            HttpRequest.newBuilder(
                                            URI.create(s.uri() + "/api/models/t/rounds/" + r.round() + "/record"))
                                    .build(),
                            HttpResponse.BodyHandlers.ofByteArray())
                    .body();
            RoundOpened record = WireCodec.UNBOUNDED.decode(raw, RoundOpened.class);
            assertEquals(
                    new RoundBounds(10, 819, 3276, HeParameters.CKKS_8192_T50.maxSumNorm()), RoundBounds.of(record));
        }
    }
}
