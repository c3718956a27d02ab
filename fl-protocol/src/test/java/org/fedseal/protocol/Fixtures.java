package org.fedseal.protocol;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.fedseal.protocol.wire.RoundOpened;

/** Shared test data. */
final class Fixtures {
    static final long NOW = 1_700_000_000_000L;
    static final Hash BASE = Hash.sha256(new byte[] {1, 2, 3});

    /** ckks-8192-v1's headroom (he-native HeParameters.maxSumNorm, which fl-protocol does not depend on). */
    static final RoundBounds BOUNDS = new RoundBounds(1.0, 1_000, 10_000, 3.3554e7);

    static RoundOpened round(String model, int round) {
        return BOUNDS.applyTo(RoundOpened.newBuilder())
                .setModelId(model)
                .setRound(round)
                .setBaseModelHash(BASE.toByteBuffer())
                .setHeParamsId("ckks-8192-v1")
                .setPublicKeyHash(Hash.sha256(new byte[] {9}).toByteBuffer())
                .setQuorum(2)
                .setDeadlineEpochMillis(NOW + 60_000)
                .setChunkLayout(Chunker.layout(7 * 4096L - 100, 4096, 3))
                .setLocalEpochs(1)
                .setOpenedAtEpochMillis(NOW - 1000)
                .build();
    }

    static List<byte[]> ciphertexts(int count, int size, long seed) {
        Random r = new Random(seed);
        List<byte[]> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            byte[] b = new byte[size];
            r.nextBytes(b);
            out.add(b);
        }
        return out;
    }

    /** A mutable in-memory context. */
    static class Ctx implements ValidationContext {
        final Map<String, RoundState> rounds = new HashMap<>();
        final Map<String, SigningPublicKey> keys = new HashMap<>();
        long now = NOW;

        Ctx add(RoundOpened r, boolean closed) {
            rounds.put(r.getModelId() + "/" + r.getRound(), new RoundState(r, closed));
            return this;
        }

        @Override
        public Optional<RoundState> round(String modelId, int round) {
            return Optional.ofNullable(rounds.get(modelId + "/" + round));
        }

        @Override
        public Optional<SigningPublicKey> clientKey(String clientId) {
            return Optional.ofNullable(keys.get(clientId));
        }

        @Override
        public long nowEpochMillis() {
            return now;
        }
    }

    static ByteBuffer empty() {
        return ByteBuffer.allocate(0);
    }

    private Fixtures() {}
}
