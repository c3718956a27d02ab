package org.fedseal.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import org.fedseal.protocol.wire.ReasonCode;
import org.fedseal.protocol.wire.RoundOpened;
import org.junit.jupiter.api.Test;

/**
 * {@link ClientSampling}: determinism, the size rule, dependence on the round, the minimum and its
 * cap, the definition written out independently, and the {@link UpdateValidator}'s NOT_SAMPLED rejects.
 */
class ClientSamplingTest {
    static final List<String> TWENTY = IntStream.range(0, 20)
            .mapToObj(i -> String.format("client-%02d", i))
            .toList();

    static RoundOpened sampledRound(String model, int round, double fraction, int min) {
        RoundOpened r = RoundOpened.newBuilder(Fixtures.round(model, round))
                .setSamplingFraction(fraction)
                .setMinSampledClients(min)
                .build();
        r.setSampledClients(new ArrayList<>(ClientSampling.sample(r, TWENTY)));
        return r;
    }

    @Test
    void sameRoundAndClientsGiveTheSameSampleWhateverTheInputOrder() {
        RoundOpened r = RoundOpened.newBuilder(Fixtures.round("mnist", 1))
                .setSamplingFraction(0.25)
                .build();
        List<String> a = ClientSampling.sample(r, TWENTY);
        List<String> shuffled = new ArrayList<>(TWENTY);
        Collections.shuffle(shuffled, new java.util.Random(5));
        shuffled.add(TWENTY.get(3)); // duplicates are ignored
        assertEquals(a, ClientSampling.sample(RoundOpened.newBuilder(r).build(), shuffled));
        assertEquals(5, a.size());
        assertEquals(a.stream().sorted().toList(), a, "sorted by id");
        assertTrue(TWENTY.containsAll(a));
    }

    /** The definition of the class documentation, written out here without the class's helpers. */
    @Test
    void sampleIsTheFiveSmallestSha256KeysOfTheDocumentedSeed() throws Exception {
        RoundOpened r = RoundOpened.newBuilder(Fixtures.round("mnist", 1))
                .setSamplingFraction(0.25)
                .build();
        RoundOpened withSample =
                RoundOpened.newBuilder(r).setSampledClients(List.of("x", "y")).build();
        byte[] body = WireCodec.encodeUnchecked(
                RoundOpened.newBuilder(withSample).setSampledClients(List.of()).build());
        java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
        md.update("FedSeal-ClientSampling-v1\n".getBytes(StandardCharsets.US_ASCII));
        byte[] seed = md.digest(body);
        assertEquals(Hash.of(seed), ClientSampling.seed(withSample), "the seed ignores sampledClients");
        List<String> byKey = new ArrayList<>(TWENTY);
        java.util.Map<String, String> key = new java.util.HashMap<>();
        for (String id : TWENTY) {
            java.security.MessageDigest d = java.security.MessageDigest.getInstance("SHA-256");
            d.update(seed);
            key.put(id, java.util.HexFormat.of().formatHex(d.digest(id.getBytes(StandardCharsets.UTF_8))));
        }
        byKey.sort(java.util.Comparator.comparing(key::get));
        assertEquals(byKey.subList(0, 5).stream().sorted().toList(), ClientSampling.sample(withSample, TWENTY));
    }

    @Test
    void sizeIsMaxOfMinimumAndCeilFractionCappedAtN() {
        assertEquals(5, ClientSampling.sampleSize(20, 0.25, 0));
        assertEquals(6, ClientSampling.sampleSize(21, 0.25, 0), "ceil(5.25)");
        assertEquals(3, ClientSampling.sampleSize(30, 0.1, 0), "0.1 x 30 is 3, not ceil(3.0000000000000004)");
        assertEquals(1, ClientSampling.sampleSize(3, 0.01, 0), "ceil(0.03)");
        assertEquals(8, ClientSampling.sampleSize(20, 0.25, 8), "the minimum wins");
        assertEquals(20, ClientSampling.sampleSize(20, 0.25, 50), "the minimum is capped at n");
        assertEquals(0, ClientSampling.sampleSize(0, 0.5, 3));
        assertEquals(20, ClientSampling.sampleSize(20, 1.0, 0));
        assertThrows(IllegalArgumentException.class, () -> ClientSampling.sampleSize(20, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> ClientSampling.sampleSize(20, Double.NaN, 0));
        assertThrows(IllegalArgumentException.class, () -> ClientSampling.sampleSize(20, 1.5, 0));
        assertThrows(IllegalArgumentException.class, () -> ClientSampling.sampleSize(20, 0.5, -1));
        assertEquals(20, sampledRound("mnist", 1, 0.25, 50).getSampledClients().size());
        assertEquals(8, sampledRound("mnist", 1, 0.25, 8).getSampledClients().size());
    }

    @Test
    void sampleChangesWithTheRound() {
        Set<List<String>> samples = new HashSet<>();
        for (int round = 1; round <= 10; round++) {
            samples.add(sampledRound("mnist", round, 0.25, 0).getSampledClients());
        }
        assertTrue(samples.size() >= 9, "10 rounds gave only " + samples.size() + " distinct samples");
        RoundOpened r = sampledRound("mnist", 1, 0.25, 0);
        RoundOpened later = RoundOpened.newBuilder(r)
                .setSampledClients(List.of())
                .setOpenedAtEpochMillis(r.getOpenedAtEpochMillis() + 1)
                .build();
        assertNotEquals(ClientSampling.seed(r), ClientSampling.seed(later), "the seed binds the opening time");
        RoundOpened otherBase = RoundOpened.newBuilder(r)
                .setBaseModelHash(Hash.sha256(new byte[] {1}).toByteBuffer())
                .build();
        assertNotEquals(ClientSampling.seed(r), ClientSampling.seed(otherBase), "the seed binds the base version");
    }

    @Test
    void everyClientIsSampledAboutEquallyOften() {
        java.util.Map<String, Integer> count = new java.util.HashMap<>();
        for (int round = 1; round <= 400; round++) {
            for (String c : sampledRound("m", round, 0.25, 0).getSampledClients()) {
                count.merge(c, 1, Integer::sum);
            }
        }
        // expected 100 each (400 rounds x 5 of 20); binomial sd ~8.7
        for (String c : TWENTY) {
            int n = count.getOrDefault(c, 0);
            assertTrue(n > 60 && n < 140, c + " sampled " + n + " times of 400");
        }
    }

    @Test
    void fractionOneMeansNoSampleAndEveryoneIsAdmitted() {
        RoundOpened r = Fixtures.round("mnist", 1);
        assertEquals(1.0, r.getSamplingFraction());
        assertEquals(List.of(), ClientSampling.sample(r, TWENTY));
        assertTrue(ClientSampling.admits(r, "anyone"));
        RoundOpened s = sampledRound("mnist", 1, 0.25, 0);
        String in = s.getSampledClients().get(0);
        String out = TWENTY.stream()
                .filter(c -> !s.getSampledClients().contains(c))
                .findFirst()
                .orElseThrow();
        assertTrue(ClientSampling.admits(s, in));
        assertFalse(ClientSampling.admits(s, out));
    }

    @Test
    void validatorRejectsCommitsAndChunksOfClientsNotSampled() {
        RoundOpened r = sampledRound("mnist", 1, 0.25, 0);
        String in = r.getSampledClients().get(0);
        String out = TWENTY.stream()
                .filter(c -> !r.getSampledClients().contains(c))
                .findFirst()
                .orElseThrow();
        SigningKeyPair inKey = SigningKeyPair.generate();
        SigningKeyPair outKey = SigningKeyPair.generate();
        Fixtures.Ctx ctx = new Fixtures.Ctx().add(r, false);
        ctx.keys.put(in, inKey.publicKey());
        ctx.keys.put(out, outKey.publicKey());
        UpdateValidator v = new UpdateValidator(ctx);
        Chunker.PreparedUpdate good = Chunker.prepare(
                in,
                r,
                "u-in",
                Fixtures.ciphertexts(7, 2000, 1),
                50,
                Fixtures.NOW,
                inKey.privateKey(),
                Chunker.DEFAULT_MAX_RECORD_BYTES);
        assertTrue(v.validateComplete(good.commit(), good.chunks()).isAccepted());
        Chunker.PreparedUpdate bad = Chunker.prepare(
                out,
                r,
                "u-out",
                Fixtures.ciphertexts(7, 2000, 2),
                50,
                Fixtures.NOW,
                outKey.privateKey(),
                Chunker.DEFAULT_MAX_RECORD_BYTES);
        ValidationResult commit = v.validateCommit(bad.commit());
        assertEquals(ReasonCode.NOT_SAMPLED, commit.reasonCode(), commit.toString());
        assertTrue(commit.toString().contains(out), commit.toString());
        assertEquals(
                ReasonCode.NOT_SAMPLED, v.validateChunk(bad.chunks().get(0)).reasonCode());
        assertEquals(
                ReasonCode.NOT_SAMPLED,
                v.validateComplete(bad.commit(), bad.chunks()).reasonCode());
        // a round without a sample admits the same client
        Fixtures.Ctx open = new Fixtures.Ctx()
                .add(RoundOpened.newBuilder(r).setSampledClients(List.of()).build(), false);
        open.keys.put(out, outKey.publicKey());
        Chunker.PreparedUpdate again = Chunker.prepare(
                out,
                RoundOpened.newBuilder(r).setSampledClients(List.of()).build(),
                "u-out2",
                Fixtures.ciphertexts(7, 2000, 2),
                50,
                Fixtures.NOW,
                outKey.privateKey(),
                Chunker.DEFAULT_MAX_RECORD_BYTES);
        assertTrue(new UpdateValidator(open)
                .validateComplete(again.commit(), again.chunks())
                .isAccepted());
    }
}
