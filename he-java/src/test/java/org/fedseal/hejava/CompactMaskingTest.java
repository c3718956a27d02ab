package org.fedseal.hejava;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class CompactMaskingTest {
    private static final int N = CompactMasking.N;
    private static final int SCALE_BITS = CompactMasking.DEFAULT_SCALE_BITS;
    private static final double DELTA = Math.scalb(1.0, SCALE_BITS);
    private static final byte[] BASE_HASH = "base-model".getBytes(StandardCharsets.UTF_8);

    /** The round's modulus as fl-protocol's CompactRounds.modulusFor sizes it (smallest NTT prime that holds the bound). */
    static long modulusFor(double bound, int scaleBits, int maxClients) {
        double half = bound * Math.scalb(1.0, scaleBits) + (double) CompactMasking.NOISE_PER_CLIENT * maxClients + 1;
        long q = ((long) Math.ceil(2 * half) / (2L * N)) * 2L * N + 1; // first candidate at or below the need
        while (!BigInteger.valueOf(q).isProbablePrime(64) || coefficientBound(q, scaleBits, maxClients) < bound) {
            q += 2L * N;
        }
        return q;
    }

    /** fl-protocol's CompactRounds.coefficientBound: the largest |sum| per coefficient that decodes correctly. */
    static double coefficientBound(long q, int scaleBits, int maxClients) {
        return ((q >>> 1) - 1 - (double) CompactMasking.NOISE_PER_CLIENT * maxClients) / Math.scalb(1.0, scaleBits);
    }

    /** A 32-byte public seed per model, round and base (fl-protocol's CompactRounds.roundSeed in production). */
    static byte[] roundSeed(String model, int round, byte[] base) {
        try {
            java.security.MessageDigest d = java.security.MessageDigest.getInstance("SHA-256");
            d.update(model.getBytes(StandardCharsets.UTF_8));
            d.update(java.nio.ByteBuffer.allocate(4).putInt(round).array());
            return d.digest(base);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A reproducible SecureRandom (SHA1PRNG seeded before first use is deterministic). */
    private static SecureRandom seeded(long seed) throws Exception {
        SecureRandom r = SecureRandom.getInstance("SHA1PRNG");
        r.setSeed(seed);
        return r;
    }

    private static CompactMasking round(long q, int round) {
        return CompactMasking.forRound(q, SCALE_BITS, roundSeed("model-a", round, BASE_HASH));
    }

    private static float[] uniformValues(long seed, int count) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[count];
        for (int i = 0; i < count; i++) {
            v[i] = (float) r.nextDouble(-1, 1);
        }
        return v;
    }

    /** S as the aggregator gets it: the CKKS decryption of Σ s_i (here with a small error), rounded. */
    private static long[] keySum(List<double[]> secrets, int maxClients, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] sum = new double[N];
        for (double[] s : secrets) {
            for (int k = 0; k < N; k++) {
                sum[k] += s[k];
            }
        }
        for (int k = 0; k < N; k++) {
            sum[k] += r.nextDouble(-1e-3, 1e-3);
        }
        return CompactMasking.roundKeySum(sum, maxClients);
    }

    private static void addInto(long[] acc, long[] b, long q) {
        for (int k = 0; k < N; k++) {
            long s = acc[k] + b[k];
            acc[k] = s >= q ? s - q : s;
        }
    }

    @Test
    void unmaskingIsExactAndTheMeanIsWithin1e6() throws Exception {
        int clients = 20;
        long q = modulusFor(100, SCALE_BITS, 100);
        CompactMasking m = round(q, 1);
        int total = 2 * N + N / 2; // three blocks, the last one partial
        int blocks = m.blockCount(total);
        assertEquals(3, blocks);
        SecureRandom random = seeded(1);
        List<MaskingKey> keys = new ArrayList<>();
        List<double[]> secrets = new ArrayList<>();
        float[][] values = new float[clients][];
        for (int i = 0; i < clients; i++) {
            MaskingKey key = m.newKey(random);
            keys.add(key);
            secrets.add(key.valuesForKeyEncryption());
            values[i] = uniformValues(100 + i, total);
        }
        long[] s = keySum(secrets, clients, 7);
        double maxError = 0;
        for (int j = 0; j < blocks; j++) {
            int offset = j * N;
            int length = Math.min(N, total - offset);
            long[] sum = new long[N];
            long[] noisePlusEncoding = new long[N];
            double[] trueSum = new double[N];
            for (int i = 0; i < clients; i++) {
                long[] e = new long[N];
                long[] enc = new long[N];
                long[] b = m.mask(keys.get(i), j, values[i], offset, length, e, enc);
                for (int k = 0; k < N; k++) {
                    assertTrue(b[k] >= 0 && b[k] < q);
                    assertTrue(Math.abs(e[k]) <= 19);
                    noisePlusEncoding[k] += e[k] + enc[k];
                    if (k < length) {
                        assertTrue(Math.abs(enc[k] - values[i][offset + k] * DELTA) < 1);
                        trueSum[k] += values[i][offset + k];
                    } else {
                        assertEquals(0, enc[k]);
                    }
                }
                addInto(sum, b, q);
            }
            // Σ b + a·S = Σ e + Σ Encode(m), bit for bit.
            assertArrayEquals(noisePlusEncoding, m.unmaskIntegers(sum, j, s), "block " + j);
            double[] decoded = m.unmask(sum, j, s);
            for (int k = 0; k < N; k++) {
                assertEquals(noisePlusEncoding[k] / DELTA, decoded[k], 0.0);
                maxError = Math.max(maxError, Math.abs(decoded[k] / clients - trueSum[k] / clients));
            }
        }
        System.out.printf("%d clients, %d blocks: max |error of the mean| = %.3g%n", clients, blocks, maxError);
        assertTrue(maxError <= 1e-6, "max error of the mean " + maxError);
        assertTrue(maxError > 0, "the noise is there");
    }

    @Test
    void anUpdateUnmaskedWithAnotherSetsKeySumIsNoise() throws Exception {
        int clients = 5;
        long q = modulusFor(1e5, SCALE_BITS, 10);
        CompactMasking m = round(q, 2);
        SecureRandom random = seeded(2);
        MaskingKey victim = m.newKey(random);
        victim.valuesForKeyEncryption();
        float[] values = uniformValues(5, N);
        long[] b = m.mask(victim, 0, values, 0, N);
        List<double[]> others = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            others.add(m.newKey(random).valuesForKeyEncryption());
        }
        double[] x = m.unmask(b, 0, keySum(others, clients, 3));
        double meanAbs = 0;
        double trueMeanAbs = 0;
        for (int k = 0; k < N; k++) {
            meanAbs += Math.abs(x[k]) / N;
            trueMeanAbs += Math.abs(values[k]) / N;
        }
        double halfRange = (q >>> 1) / DELTA;
        System.out.printf(
                "foreign key sum: mean |x| = %.4g (true %.4g, uniform would be %.4g)%n",
                meanAbs, trueMeanAbs, halfRange / 2);
        assertTrue(meanAbs > 1e3 * trueMeanAbs);
        assertEquals(0.5, meanAbs / halfRange, 0.02, "about uniform over (-q/2, q/2]");
        // ... while its own key unmasks it.
        List<double[]> own = new ArrayList<>();
        double[] ownS = new double[N];
        byte[] secret = victim.secret();
        for (int k = 0; k < N; k++) {
            ownS[k] = secret[k];
        }
        own.add(ownS);
        double[] y = m.unmask(b, 0, keySum(own, 1, 4));
        for (int k = 0; k < N; k++) {
            assertEquals(values[k], y[k], 20 / DELTA);
        }
    }

    @Test
    void aReusedKeyIsRefused() throws Exception {
        long q = modulusFor(100, SCALE_BITS, 100);
        CompactMasking round1 = round(q, 1);
        CompactMasking round1Again = round(q, 1);
        CompactMasking round2 = round(q, 2);
        float[] v = uniformValues(1, N);
        MaskingKey key = round1.newKey(seeded(3));
        round1.mask(key, 0, v, 0, N);
        assertThrows(IllegalStateException.class, () -> round2.mask(key, 1, v, 0, N));
        assertThrows(IllegalStateException.class, () -> round1.mask(key, 0, v, 0, N));
        assertThrows(IllegalStateException.class, () -> round1Again.mask(key, 0, v, 0, N));
        long otherQ = modulusFor(1000, SCALE_BITS, 100);
        CompactMasking sameSeedOtherModulus =
                CompactMasking.forRound(otherQ, SCALE_BITS, roundSeed("model-a", 1, BASE_HASH));
        assertThrows(IllegalStateException.class, () -> sameSeedOtherModulus.mask(key, 1, v, 0, N));
        // A refused value does not use up the block.
        float[] bad = v.clone();
        bad[7] = Float.NaN;
        assertThrows(IllegalArgumentException.class, () -> round1.mask(key, 1, bad, 0, N));
        round1Again.mask(key, 1, v, 0, N);
        assertThrows(IllegalStateException.class, () -> round1.mask(key, 1, v, 0, N));
        // A key first used in round 2 is refused in round 1.
        MaskingKey key2 = round1.newKey(seeded(4));
        round2.mask(key2, 0, v, 0, 10);
        assertThrows(IllegalStateException.class, () -> round1.mask(key2, 5, v, 0, 10));
        key.close();
        assertThrows(IllegalStateException.class, () -> round1.mask(key, 2, v, 0, N));
    }

    @Test
    void maskChecksItsArguments() throws Exception {
        long q = modulusFor(100, SCALE_BITS, 100);
        CompactMasking m = round(q, 1);
        MaskingKey key = m.newKey(seeded(5));
        float[] v = new float[N + 1];
        assertThrows(IllegalArgumentException.class, () -> m.mask(key, 0, v, 0, N + 1));
        assertThrows(IllegalArgumentException.class, () -> m.mask(key, -1, v, 0, 1));
        assertThrows(IndexOutOfBoundsException.class, () -> m.mask(key, 0, v, 2, N));
        float[] inf = {Float.POSITIVE_INFINITY};
        assertThrows(IllegalArgumentException.class, () -> m.mask(key, 0, inf, 0, 1));
        double oneClient = coefficientBound(q, SCALE_BITS, 1);
        float[] tooBig = {(float) (oneClient * 1.01)};
        assertThrows(IllegalArgumentException.class, () -> m.mask(key, 0, tooBig, 0, 1));
        long[] b = m.mask(key, 0, v, 0, 0); // empty block: all padding, still masked
        assertEquals(N, b.length);
        assertThrows(IllegalArgumentException.class, () -> m.unmask(new long[N - 1], 0, new long[N]));
        long[] outOfRange = new long[N];
        outOfRange[3] = q;
        assertThrows(IllegalArgumentException.class, () -> m.unmask(outOfRange, 0, new long[N]));
    }

    @Test
    void aDiffersPerRoundAndBlockAndIsPublic() {
        long q = modulusFor(100, SCALE_BITS, 100);
        CompactMasking r1 = round(q, 1);
        CompactMasking r1Again = round(q, 1);
        CompactMasking r2 = round(q, 2);
        long[] a10 = r1.aNtt(0);
        assertArrayEquals(a10, r1Again.aNtt(0));
        assertArrayEquals(r1.aNtt(5), r1Again.aNtt(5));
        long[] a11 = r1.aNtt(1);
        long[] a20 = r2.aNtt(0);
        int same1 = 0;
        int same2 = 0;
        double mean = 0;
        for (int k = 0; k < N; k++) {
            assertTrue(a10[k] >= 0 && a10[k] < q);
            same1 += a10[k] == a11[k] ? 1 : 0;
            same2 += a10[k] == a20[k] ? 1 : 0;
            mean += (double) a10[k] / q / N;
        }
        assertTrue(same1 < 3 && same2 < 3, "a_j differs per block and per round");
        assertEquals(0.5, mean, 0.02, "uniform mod q");
    }

    /** Worst cases at the headroom bound decode within the noise; beyond it the sum wraps. */
    @Test
    void precisionHoldsAtTheHeadroomBoundAndWrapsBeyondIt() throws Exception {
        int clients = 8;
        long q = modulusFor(5, SCALE_BITS, clients);
        double bound = coefficientBound(q, SCALE_BITS, clients);
        assertTrue(bound >= 5);
        float perClient = (float) (bound / clients);
        if (perClient > bound / clients) {
            perClient = Math.nextDown(perClient);
        }
        SecureRandom random = seeded(6);
        for (boolean alternating : new boolean[] {false, true}) {
            CompactMasking m = round(q, alternating ? 11 : 10);
            float[] v = new float[N];
            for (int k = 0; k < N; k++) {
                v[k] = alternating && (k & 1) == 1 ? -perClient : perClient;
            }
            long[] sum = new long[N];
            long[] expect = new long[N];
            List<double[]> secrets = new ArrayList<>();
            for (int i = 0; i < clients; i++) {
                MaskingKey key = m.newKey(random);
                secrets.add(key.valuesForKeyEncryption());
                long[] e = new long[N];
                long[] enc = new long[N];
                addInto(sum, m.mask(key, 0, v, 0, N, e, enc), q);
                for (int k = 0; k < N; k++) {
                    expect[k] += e[k] + enc[k];
                }
            }
            long[] s = keySum(secrets, clients, 8);
            assertArrayEquals(expect, m.unmaskIntegers(sum, 0, s), "no wrap at the bound");
            double[] x = m.unmask(sum, 0, s);
            double maxError = 0;
            for (int k = 0; k < N; k++) {
                maxError = Math.max(maxError, Math.abs(x[k] - (double) clients * v[k]));
            }
            System.out.printf(
                    "at the bound %.6g (%s): max |error of the sum| = %.3g = %.2f/Δ (guaranteed < %d/Δ)%n",
                    bound, alternating ? "alternating" : "all +", maxError, maxError * DELTA, 20 * clients);
            assertTrue(maxError < 20.0 * clients / DELTA);
        }
        // Beyond the bound: each value still fits one update, but the sum wraps and decodes wrongly.
        double oneClient = coefficientBound(q, SCALE_BITS, 1);
        float big = (float) (0.6 * oneClient);
        CompactMasking m = round(q, 12);
        float[] v = new float[N];
        Arrays.fill(v, big);
        long[] sum = new long[N];
        List<double[]> secrets = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            MaskingKey key = m.newKey(random);
            secrets.add(key.valuesForKeyEncryption());
            addInto(sum, m.mask(key, 0, v, 0, N), q);
        }
        double[] x = m.unmask(sum, 0, keySum(secrets, clients, 9));
        for (int k = 0; k < N; k++) {
            assertTrue(Math.abs(x[k] - (double) clients * big) > bound, "wrapped: " + x[k]);
        }
        float[] tooBig = {Math.nextUp((float) oneClient)};
        assertThrows(IllegalArgumentException.class, () -> m.mask(m.newKey(random), 0, tooBig, 0, 1));
    }

    @Test
    void stochasticRoundingIsUnbiased() throws Exception {
        long q = modulusFor(100, SCALE_BITS, 100);
        CompactMasking m = round(q, 3);
        float value = 0.3f / (float) DELTA * 7.3f; // 2.19 in units of 1/Δ
        float[] v = new float[N];
        Arrays.fill(v, value);
        long[] enc = new long[N];
        m.mask(m.newKey(seeded(7)), 0, v, 0, N, null, enc);
        double mean = 0;
        int ups = 0;
        long floor = (long) Math.floor(value * DELTA);
        for (int k = 0; k < N; k++) {
            assertTrue(enc[k] == floor || enc[k] == floor + 1);
            ups += enc[k] == floor + 1 ? 1 : 0;
            mean += (double) enc[k] / N;
        }
        assertEquals(value * DELTA, mean, 0.03);
        assertTrue(ups > 0 && ups < N);
    }

    @Test
    void forRoundRefusesWhatIsNotAnNttPrimeOfAtMost61Bits() {
        long q = modulusFor(100, 22, 100);
        byte[] seed = new byte[32];
        long composite = q + 16384;
        while (BigInteger.valueOf(composite).isProbablePrime(64)) {
            composite += 16384;
        }
        long notPrime = composite;
        assertThrows(IllegalArgumentException.class, () -> CompactMasking.forRound(notPrime, 22, seed));
        assertThrows(IllegalArgumentException.class, () -> CompactMasking.forRound(q, 0, seed));
        assertThrows(IllegalArgumentException.class, () -> CompactMasking.forRound(q, 51, seed));
        assertThrows(IllegalArgumentException.class, () -> CompactMasking.forRound(q, 22, new byte[31]));
        assertThrows(IllegalArgumentException.class, () -> CompactMasking.forRound(1_000_003L, 22, seed)); // prime
        assertThrows(
                IllegalArgumentException.class,
                () -> CompactMasking.forRound(Ckks8192.Q0 + (1L << 61), 22, seed)); // > 61 bits
        assertEquals(0, round(q, 1).blockCount(0));
        assertEquals(1, round(q, 1).blockCount(1));
        assertEquals(123, round(q, 1).blockCount(1_000_000));
        assertEquals(2, round(q, 1).blockCount(2 * N));
    }

    @Test
    void roundKeySumRefusesWrongDecryptions() {
        double[] d = new double[N];
        for (int k = 0; k < N; k++) {
            d[k] = (k % 7) - 3 + (k % 2 == 0 ? 0.2 : -0.2);
        }
        long[] s = CompactMasking.roundKeySum(d, 3);
        for (int k = 0; k < N; k++) {
            assertEquals((k % 7) - 3, s[k]);
        }
        double[] off = d.clone();
        off[5] = 1.3;
        assertThrows(IllegalArgumentException.class, () -> CompactMasking.roundKeySum(off, 3));
        double[] half = d.clone();
        half[6] = -0.5;
        assertThrows(IllegalArgumentException.class, () -> CompactMasking.roundKeySum(half, 3));
        double[] big = d.clone();
        big[0] = 4;
        assertThrows(IllegalArgumentException.class, () -> CompactMasking.roundKeySum(big, 3));
        double[] nan = d.clone();
        nan[1] = Double.NaN;
        assertThrows(IllegalArgumentException.class, () -> CompactMasking.roundKeySum(nan, 3));
        assertThrows(IllegalArgumentException.class, () -> CompactMasking.roundKeySum(new double[N - 1], 3));
        assertThrows(IllegalArgumentException.class, () -> CompactMasking.roundKeySum(d, 0));
    }

    @Test
    void theKeyIsTernaryShownOnceAndNeverPrinted() throws Exception {
        long q = modulusFor(100, SCALE_BITS, 100);
        CompactMasking m = round(q, 1);
        MaskingKey key = m.newKey(seeded(8));
        byte[] secret = key.secret();
        int[] counts = new int[3];
        for (byte b : secret) {
            counts[b + 1]++;
        }
        for (int c : counts) {
            assertEquals(N / 3.0, c, 300, "uniform ternary");
        }
        String before = key.toString();
        double[] values = key.valuesForKeyEncryption();
        for (int k = 0; k < N; k++) {
            assertEquals(secret[k], values[k], 0.0);
        }
        assertThrows(IllegalStateException.class, key::valuesForKeyEncryption);
        m.mask(key, 0, new float[] {0.5f}, 0, 1);
        for (String shown : new String[] {before, key.toString()}) {
            assertTrue(shown.length() < 120, shown);
            assertFalse(shown.contains("-1, 0") || shown.contains("1, 1") || shown.contains("0, 0"), shown);
            assertFalse(shown.matches(".*[-01]{16,}.*"), shown);
        }
        assertTrue(key.toString().contains("blocks masked=1"));
        key.close();
        key.close(); // idempotent
        for (byte b : secret) {
            assertEquals(0, b, "wiped");
        }
        assertTrue(key.toString().contains("closed"));
        MaskingKey other = m.newKey(seeded(9));
        other.close();
        assertThrows(IllegalStateException.class, other::valuesForKeyEncryption);
        MaskingKey third = m.newKey(seeded(10));
        assertNotEquals(
                Arrays.toString(third.secret()),
                Arrays.toString(m.newKey(seeded(11)).secret()));
    }

    /** Prints (does not assert) the client's and the aggregator's cost per value. */
    @Test
    void throughput() throws Exception {
        long q = modulusFor(100, SCALE_BITS, 100);
        CompactMasking m = round(q, 1);
        SecureRandom random = new SecureRandom();
        float[] v = uniformValues(1, N);
        int blocks = 100;
        long[] sum = new long[N];
        for (int rep = 0; rep < 6; rep++) { // the first ones warm the JIT up
            MaskingKey key = m.newKey(random);
            long t0 = System.nanoTime();
            for (int j = 0; j < blocks; j++) {
                sum = m.mask(key, j, v, 0, N);
            }
            long t1 = System.nanoTime();
            long[] s = new long[N];
            for (int j = 0; j < blocks; j++) {
                m.unmask(sum, j, s);
            }
            long t2 = System.nanoTime();
            System.out.printf(
                    "mask: %.4f µs/value (%.3f ms/block); unmask: %.4f µs/value (%.3f ms/block)%n",
                    (t1 - t0) / 1e3 / blocks / N,
                    (t1 - t0) / 1e6 / blocks,
                    (t2 - t1) / 1e3 / blocks / N,
                    (t2 - t1) / 1e6 / blocks);
        }
        long t0 = System.nanoTime();
        MaskingKey key = m.newKey(random);
        m.mask(key, 0, v, 0, N);
        System.out.printf("newKey + first mask (NTT of s): %.3f ms%n", (System.nanoTime() - t0) / 1e6);
    }

    /** The figures: 100 clients, 1M values in [-1, 1], coefficient bound 100, scale 2^22. */
    @Test
    void hundredClientsMillionValues() throws Exception {
        int clients = 100;
        int total = 1_000_000;
        long q = modulusFor(100, SCALE_BITS, clients);
        int bits = 64 - Long.numberOfLeadingZeros(q);
        CompactMasking m = round(q, 42);
        int blocks = m.blockCount(total);
        SecureRandom random = seeded(12);
        MaskingKey[] keys = new MaskingKey[clients];
        List<double[]> secrets = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            keys[i] = m.newKey(random);
            secrets.add(keys[i].valuesForKeyEncryption());
        }
        long[] s = keySum(secrets, clients, 13);
        double maxError = 0;
        double sumSquares = 0;
        long maskNanos = 0;
        long unmaskNanos = 0;
        for (int j = 0; j < blocks; j++) {
            int length = Math.min(N, total - j * N);
            long[] sum = new long[N];
            double[] trueSum = new double[N];
            for (int i = 0; i < clients; i++) {
                float[] v = uniformValues(1_000_003L * i + j, length);
                for (int k = 0; k < length; k++) {
                    trueSum[k] += v[k];
                }
                long t = System.nanoTime();
                long[] b = m.mask(keys[i], j, v, 0, length);
                maskNanos += System.nanoTime() - t;
                addInto(sum, b, q);
            }
            long t = System.nanoTime();
            double[] x = m.unmask(sum, j, s);
            unmaskNanos += System.nanoTime() - t;
            for (int k = 0; k < length; k++) {
                double err = (x[k] - trueSum[k]) / clients;
                maxError = Math.max(maxError, Math.abs(err));
                sumSquares += err * err;
            }
        }
        System.out.printf(
                "100 clients x 1M values in [-1,1], bound 100, scale 2^22: q = %d (%d bits), %.3f bytes/param"
                        + " (CKKS: 16); max |error of the mean| = %.3g, rms %.3g; mask %.4f µs/value, unmask"
                        + " %.4f µs/value%n",
                q,
                bits,
                bits / 8.0,
                maxError,
                Math.sqrt(sumSquares / total),
                maskNanos / 1e3 / clients / ((double) blocks * N),
                unmaskNanos / 1e3 / ((double) blocks * N));
        assertTrue(maxError <= 1e-6, "max error of the mean " + maxError);
    }
}
