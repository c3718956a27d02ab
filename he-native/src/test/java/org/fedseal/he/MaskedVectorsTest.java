package org.fedseal.he;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class MaskedVectorsTest {
    private static HeContext he;
    private static HeKeyPair keys;
    private static VectorEncryptor encryptor;
    private static HeDecryptor decryptor;

    @BeforeAll
    static void setUp() {
        he = HeContext.create(HeParameters.CKKS_8192);
        keys = he.generateKeys();
        encryptor = he.encryptor(keys.publicKey());
        decryptor = he.decryptor(keys.secretKey());
    }

    @AfterAll
    static void tearDown() {
        decryptor.close();
        encryptor.close();
        keys.close();
        he.close();
    }

    /**
     * The largest prime below 2^bits that is 1 mod 2^17 (NTT-friendly for n up to 65536), or for
     * narrow widths simply the largest prime below 2^bits.
     */
    static long prime(int bits) {
        long step = bits > 20 ? 1L << 17 : 1;
        long q = bits > 20 ? ((1L << bits) - 1) / step * step + 1 : (1L << bits) - 1;
        while (!BigInteger.valueOf(q).isProbablePrime(60)) {
            q -= step;
        }
        assertEquals(bits, 64 - Long.numberOfLeadingZeros(q));
        return q;
    }

    /** Random coefficients in [0, q), with 0 and q - 1 at both ends (the extreme bit patterns). */
    static long[] random(Random rnd, long q, int n) {
        long[] c = new long[n];
        for (int i = 0; i < n; i++) {
            c[i] = Math.floorMod(rnd.nextLong(), q);
        }
        c[0] = q - 1;
        c[n - 1] = n > 1 ? 0 : q - 1;
        if (n > 2) {
            c[n - 2] = q - 1;
            c[1] = 0;
        }
        return c;
    }

    /** An independent reference of the wire form: the payload as one little-endian BigInteger. */
    static byte[] reference(long q, int bits, long[] c) {
        BigInteger packed = BigInteger.ZERO;
        for (int i = 0; i < c.length; i++) {
            packed = packed.or(BigInteger.valueOf(c[i]).shiftLeft(i * bits));
        }
        int payload = (c.length * bits + 7) / 8;
        byte[] out = new byte[20 + payload];
        ByteBuffer.wrap(out)
                .order(ByteOrder.LITTLE_ENDIAN)
                .put((byte) 'F')
                .put((byte) 'S')
                .put((byte) 'M')
                .put((byte) 'V')
                .put((byte) 1)
                .put((byte) bits)
                .putShort((short) 0)
                .putLong(q)
                .putInt(c.length);
        byte[] big = packed.toByteArray(); // big-endian, maybe with a sign byte
        for (int i = 0; i < payload && i < big.length; i++) {
            out[20 + i] = big[big.length - 1 - i];
        }
        return out;
    }

    static int bits(long q) {
        return 64 - Long.numberOfLeadingZeros(q);
    }

    @Test
    void roundTripsForSeveralWidthsAndCounts() throws Exception {
        Random rnd = new Random(1);
        for (int bits : new int[] {2, 31, 36, 61, 62}) {
            long q = prime(bits);
            for (int n : new int[] {1, 8, 8192}) {
                long[] c = random(rnd, q, n);
                byte[] wire = MaskedVectors.encode(q, c);
                String what = bits + " bits, n=" + n;
                assertEquals(MaskedVectors.encodedBytes(q, n), wire.length, what);
                assertEquals(MaskedVectors.HEADER_BYTES + (n * bits + 7) / 8, wire.length, what);
                assertArrayEquals(reference(q, bits, c), wire, what + ": bit layout");
                assertTrue(MaskedVectors.isMasked(wire), what);
                ByteBuffer buffer = ByteBuffer.wrap(wire);
                assertEquals(q, MaskedVectors.modulus(buffer), what);
                assertEquals(n, MaskedVectors.coefficientCount(buffer), what);
                assertArrayEquals(c, MaskedVectors.decode(buffer), what);
                assertDoesNotThrow(() -> MaskedVectors.validate(buffer), what);
                assertEquals(0, buffer.position(), what + ": position unchanged");
                assertArrayEquals(wire, MaskedVectors.add(wire, MaskedVectors.encode(q, new long[n])), what + " + 0");
            }
        }
    }

    @Test
    void everyWidthMatchesTheReferencePacking() throws Exception {
        Random rnd = new Random(2);
        for (int bits = 2; bits <= 62; bits++) {
            for (long q : new long[] {1L << (bits - 1), (1L << (bits - 1)) + 1, (1L << bits) - 1}) {
                if (q < 2) {
                    continue;
                }
                for (int n : new int[] {1, 2, 64, 128}) {
                    long[] c = random(rnd, q, n);
                    byte[] wire = MaskedVectors.encode(q, c);
                    assertArrayEquals(reference(q, bits, c), wire, "q=" + q + " n=" + n);
                    assertArrayEquals(c, MaskedVectors.decode(ByteBuffer.wrap(wire)), "q=" + q + " n=" + n);
                }
            }
        }
    }

    @Test
    void readsBuffersInPlaceFromTheirPosition() throws Exception {
        long q = prime(36);
        long[] c = random(new Random(3), q, 256);
        byte[] wire = MaskedVectors.encode(q, c);
        byte[] framed = new byte[wire.length + 13];
        System.arraycopy(wire, 0, framed, 7, wire.length);
        framed[3] = 'F'; // noise around the entry
        ByteBuffer heap = ByteBuffer.wrap(framed, 7, wire.length).order(ByteOrder.BIG_ENDIAN);
        ByteBuffer slice = ByteBuffer.wrap(framed).position(7).slice().limit(wire.length);
        ByteBuffer direct = ByteBuffer.allocateDirect(wire.length + 5).position(5);
        direct.put(wire).position(5);
        for (ByteBuffer b : List.of(heap, slice, direct)) {
            int position = b.position();
            assertTrue(MaskedVectors.isMasked(b));
            assertArrayEquals(c, MaskedVectors.decode(b));
            MaskedVectors.validate(b);
            assertEquals(q, MaskedVectors.modulus(b));
            assertEquals(256, MaskedVectors.coefficientCount(b));
            assertEquals(position, b.position(), "position not moved");
            assertEquals(ByteOrder.BIG_ENDIAN, b.order(), "byte order not changed");
        }
        assertFalse(MaskedVectors.isMasked(new byte[] {'F', 'S', 'M'}));
        assertFalse(MaskedVectors.isMasked(new byte[] {'F', 'S', 'E', 'V', 1}));
        assertFalse(MaskedVectors.isMasked(ByteBuffer.wrap(wire).position(1)));
    }

    /** A valid 31-bit vector of 8 coefficients, changed by {@code edit}, must be refused by every reader. */
    private static void assertMalformed(String expectedMessagePart, Consumer<ByteBuffer> edit) {
        long q = prime(31);
        byte[] wire = MaskedVectors.encode(q, random(new Random(4), q, 8));
        ByteBuffer b = ByteBuffer.wrap(wire).order(ByteOrder.LITTLE_ENDIAN);
        edit.accept(b);
        ByteBuffer in = b.position(0);
        byte[] bytes = Arrays.copyOfRange(in.array(), 0, in.limit());
        assertMalformed(expectedMessagePart, bytes);
    }

    private static void assertMalformed(String expectedMessagePart, byte[] bytes) {
        MalformedHeDataException e =
                assertThrows(MalformedHeDataException.class, () -> MaskedVectors.decode(ByteBuffer.wrap(bytes)));
        assertTrue(e.getMessage().startsWith("masked vector: "), e.getMessage());
        assertTrue(e.getMessage().contains(expectedMessagePart), e.getMessage());
        MalformedHeDataException v =
                assertThrows(MalformedHeDataException.class, () -> MaskedVectors.validate(ByteBuffer.wrap(bytes)));
        assertEquals(e.getMessage(), v.getMessage());
        assertThrows(MalformedHeDataException.class, () -> MaskedVectors.add(bytes, bytes));
        assertThrows(MalformedHeDataException.class, () -> CiphertextSums.add(he, null, bytes));
        assertThrows(
                MalformedHeDataException.class, () -> CiphertextSums.startPrevalidated(he, ByteBuffer.wrap(bytes)));
        assertThrows(MalformedHeDataException.class, () -> CiphertextSums.sum(he, List.of(List.of(bytes))));
    }

    @Test
    void malformedBytesAreRefusedWithTheReason() {
        assertMalformed("bad magic", b -> b.put(3, (byte) 'W'));
        assertMalformed("unsupported format version 2", b -> b.put(4, (byte) 2));
        assertMalformed("reserved bytes are not zero", b -> b.put(7, (byte) 1));
        assertMalformed("coefficient width 32 bits does not match the modulus", b -> b.put(5, (byte) 32));
        assertMalformed("coefficient width 30 bits does not match the modulus", b -> b.put(5, (byte) 30));
        assertMalformed("coefficient count 6 is not a power of two", b -> b.putInt(16, 6));
        assertMalformed("coefficient count 0 is not a power of two", b -> b.putInt(16, 0));
        assertMalformed("coefficient count 131072 is not a power of two in [1, 65536]", b -> b.putInt(16, 131072));
        assertMalformed("coefficient count -8 is not a power of two", b -> b.putInt(16, -8));
        assertMalformed("truncated, 50 bytes where 8 coefficients of 31 bits need exactly 51", b -> b.limit(50));
        assertMalformed("truncated", b -> b.putInt(16, 16)); // claims more coefficients than there are
        assertMalformed("shorter than its 20-byte header", b -> b.limit(19));
        assertMalformed("shorter than its 20-byte header", b -> b.limit(0));
        assertMalformed("modulus 1 is not in [2, 2^62)", b -> b.putLong(8, 1).put(5, (byte) 1));
        assertMalformed("modulus 0 is not in [2, 2^62)", b -> b.putLong(8, 0).put(5, (byte) 0));
        assertMalformed("is not in [2, 2^62)", b -> b.putLong(8, 1L << 62).put(5, (byte) 63));
        assertMalformed("is not in [2, 2^62)", b -> b.putLong(8, -5).put(5, (byte) 64));
        // the last byte's top bit is padding: 8 * 31 = 248 bits in 31 bytes, no padding, so use n=1
        long q = prime(31);
        byte[] one = MaskedVectors.encode(q, new long[] {5});
        one[one.length - 1] |= (byte) 0x80; // bit 31 of a 31-bit coefficient
        assertMalformed("padding bits after the last coefficient are not zero", one);

        byte[] trailing = Arrays.copyOf(MaskedVectors.encode(q, new long[8]), 20 + 31 + 1);
        assertMalformed("1 trailing bytes", trailing);

        // coefficient 5 = q (and then 2^31 - 1): valid widths, values not below the modulus
        long[] c = random(new Random(5), q, 8);
        c[5] = q;
        assertMalformed("coefficient 5 is " + q + ", not below the modulus " + q, reference(q, 31, c));
        c[5] = (1L << 31) - 1;
        assertMalformed("coefficient 5 is " + ((1L << 31) - 1) + ", not below the modulus", reference(q, 31, c));
        long[] last = new long[8192];
        last[8191] = prime(61);
        assertMalformed("coefficient 8191 is", reference(prime(61), 61, last));
    }

    @Test
    void headerReadersCheckOnlyTheHeader() throws Exception {
        long q = prime(36);
        byte[] wire = MaskedVectors.encode(q, new long[8]);
        ByteBuffer truncated = ByteBuffer.wrap(wire, 0, 25);
        assertEquals(q, MaskedVectors.modulus(truncated));
        assertEquals(8, MaskedVectors.coefficientCount(truncated));
        wire[4] = 9;
        MalformedHeDataException e =
                assertThrows(MalformedHeDataException.class, () -> MaskedVectors.modulus(ByteBuffer.wrap(wire)));
        assertTrue(e.getMessage().contains("format version 9"), e.getMessage());
        assertThrows(MalformedHeDataException.class, () -> MaskedVectors.coefficientCount(ByteBuffer.wrap(wire)));
    }

    @Test
    void encodeRefusesWhatCannotBeEncoded() {
        long q = prime(31);
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> MaskedVectors.encode(q, new long[] {1, q}));
        assertTrue(e.getMessage().contains("coefficient 1 is " + q), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> MaskedVectors.encode(q, new long[] {-1, 0}));
        assertThrows(IllegalArgumentException.class, () -> MaskedVectors.encode(q, new long[3]));
        assertThrows(IllegalArgumentException.class, () -> MaskedVectors.encode(q, new long[0]));
        assertThrows(IllegalArgumentException.class, () -> MaskedVectors.encode(q, new long[131072]));
        assertThrows(IllegalArgumentException.class, () -> MaskedVectors.encode(1, new long[1]));
        assertThrows(IllegalArgumentException.class, () -> MaskedVectors.encode(1L << 62, new long[1]));
        assertThrows(IllegalArgumentException.class, () -> MaskedVectors.encode(-3, new long[1]));
        assertEquals(20 + 65536 * 62 / 8, MaskedVectors.encodedBytes((1L << 62) - 1, 65536));
        assertEquals(21, MaskedVectors.encodedBytes(2, 1));
        assertThrows(IllegalArgumentException.class, () -> MaskedVectors.encodedBytes(q, 12));
    }

    /** BigInteger reference: the index-wise sum mod q. */
    static long[] referenceSum(long q, List<long[]> vectors) {
        long[] out = new long[vectors.get(0).length];
        for (int i = 0; i < out.length; i++) {
            BigInteger s = BigInteger.ZERO;
            for (long[] v : vectors) {
                s = s.add(BigInteger.valueOf(v[i]));
            }
            out[i] = s.mod(BigInteger.valueOf(q)).longValueExact();
        }
        return out;
    }

    @Test
    void sumsAreExactModQ() throws Exception {
        Random rnd = new Random(6);
        for (int bits : new int[] {2, 31, 36, 61, 62}) {
            long q = prime(bits);
            List<long[]> plain = new ArrayList<>();
            List<List<byte[]>> updates = new ArrayList<>();
            for (int k = 0; k < 7; k++) {
                long[] a = random(rnd, q, 8192);
                long[] b = random(rnd, q, 8);
                if (k % 2 == 1) {
                    Arrays.fill(a, 0, 100, q - 1); // many wrap-arounds
                }
                plain.add(a);
                updates.add(List.of(MaskedVectors.encode(q, a), MaskedVectors.encode(q, b)));
            }
            long[] expected = referenceSum(q, plain);
            List<byte[]> sums = CiphertextSums.sum(he, updates);
            assertEquals(2, sums.size());
            assertArrayEquals(expected, MaskedVectors.decode(ByteBuffer.wrap(sums.get(0))), bits + " bits");
            assertArrayEquals(MaskedVectors.encode(q, expected), sums.get(0), "canonical bytes");

            byte[] pairwise = null;
            for (List<byte[]> u : updates) {
                pairwise = CiphertextSums.add(he, pairwise, u.get(0));
            }
            assertArrayEquals(sums.get(0), pairwise, "CiphertextSums.add");
            byte[] viaMasked = updates.get(0).get(0);
            for (int k = 1; k < updates.size(); k++) {
                viaMasked = MaskedVectors.add(viaMasked, updates.get(k).get(0));
            }
            assertArrayEquals(sums.get(0), viaMasked, "MaskedVectors.add");

            try (RunningSum running = CiphertextSums.startPrevalidated(
                    he, ByteBuffer.wrap(updates.get(0).get(0)))) {
                for (int k = 1; k < updates.size(); k++) {
                    // a direct buffer at a non-zero position, as a decoded record might hand it over
                    byte[] entry = updates.get(k).get(0);
                    ByteBuffer direct =
                            ByteBuffer.allocateDirect(entry.length + 3).position(3);
                    direct.put(entry).position(3);
                    running.addPrevalidated(direct);
                    assertEquals(3, direct.position());
                }
                assertArrayEquals(sums.get(0), running.toBytes(), "RunningSum equals CiphertextSums.sum");
            }
        }
    }

    @Test
    void runningSumLifecycleAndAtomicity() throws Exception {
        long q = prime(61);
        Random rnd = new Random(7);
        long[] a = random(rnd, q, 8192);
        long[] b = random(rnd, q, 8192);
        RunningSum sum = CiphertextSums.startPrevalidated(he, ByteBuffer.wrap(MaskedVectors.encode(q, a)));
        byte[] before = sum.toBytes();
        assertArrayEquals(MaskedVectors.encode(q, a), before);

        // a bad coefficient near the end: refused, and the sum is as it was
        long[] bad = b.clone();
        bad[8000] = q;
        MalformedHeDataException e = assertThrows(
                MalformedHeDataException.class, () -> sum.addPrevalidated(ByteBuffer.wrap(reference(q, 61, bad))));
        assertTrue(e.getMessage().contains("coefficient 8000"), e.getMessage());
        assertArrayEquals(before, sum.toBytes(), "a failed addition leaves the sum unchanged");

        sum.addPrevalidated(ByteBuffer.wrap(MaskedVectors.encode(q, b)));
        assertArrayEquals(MaskedVectors.encode(q, referenceSum(q, List.of(a, b))), sum.toBytes());
        sum.close();
        sum.close(); // idempotent
        assertThrows(IllegalStateException.class, sum::toBytes);
        assertThrows(
                IllegalStateException.class, () -> sum.addPrevalidated(ByteBuffer.wrap(MaskedVectors.encode(q, b))));
    }

    private byte[] encrypted(double... values) {
        try (EncryptedVector v = encryptor.encrypt(values)) {
            return v.toBytes();
        }
    }

    @Test
    void mixingKindsModuliOrLengthsIsRefused() throws Exception {
        long q = prime(61);
        Random rnd = new Random(8);
        byte[] masked = MaskedVectors.encode(q, random(rnd, q, 8));
        byte[] otherModulus = MaskedVectors.encode(prime(36), random(rnd, prime(36), 8));
        byte[] otherLength = MaskedVectors.encode(q, random(rnd, q, 16));
        byte[] fsev = encrypted(1, 2, 3);

        for (byte[][] pair : new byte[][][] {
            {masked, fsev}, {fsev, masked}, {masked, otherModulus}, {masked, otherLength}, {otherLength, masked}
        }) {
            assertThrows(IllegalArgumentException.class, () -> CiphertextSums.add(he, pair[0], pair[1]));
            assertThrows(
                    IllegalArgumentException.class,
                    () -> CiphertextSums.sum(he, List.of(List.of(pair[0]), List.of(pair[1]))));
            try (RunningSum s = CiphertextSums.startPrevalidated(he, ByteBuffer.wrap(pair[0]))) {
                byte[] before = s.toBytes();
                assertThrows(IllegalArgumentException.class, () -> s.addPrevalidated(ByteBuffer.wrap(pair[1])));
                assertArrayEquals(before, s.toBytes());
            }
        }
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> MaskedVectors.add(masked, otherModulus));
        assertTrue(e.getMessage().contains("mod " + prime(36)), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> MaskedVectors.add(masked, otherLength));

        // malformed beats mismatched: a broken entry of the other kind is reported as malformed
        byte[] brokenFsev = Arrays.copyOf(fsev, fsev.length - 1);
        assertThrows(MalformedHeDataException.class, () -> CiphertextSums.add(he, masked, brokenFsev));
        long[] tooBig = new long[16];
        tooBig[3] = q;
        assertThrows(MalformedHeDataException.class, () -> CiphertextSums.add(he, masked, reference(q, 61, tooBig)));
        assertThrows(MalformedHeDataException.class, () -> CiphertextSums.add(he, fsev, reference(q, 61, tooBig)));
        try (RunningSum s = CiphertextSums.startPrevalidated(he, ByteBuffer.wrap(masked))) {
            MalformedHeDataException m = assertThrows(
                    MalformedHeDataException.class, () -> s.addPrevalidated(ByteBuffer.wrap(new byte[] {1, 2, 3, 4})));
            assertTrue(m.getMessage().contains("bad magic"), m.getMessage());
        }
    }

    @Test
    void encryptedVectorsStillSumAndKindsMayDifferAcrossIndices() throws Exception {
        byte[] a = encrypted(1, 2, 3);
        byte[] b = encrypted(10, 20, 30);
        long q = prime(36);
        long[] ma = random(new Random(9), q, 8);
        long[] mb = random(new Random(10), q, 8);

        byte[] running;
        try (RunningSum s = CiphertextSums.startPrevalidated(he, ByteBuffer.wrap(a))) {
            s.addPrevalidated(ByteBuffer.wrap(b));
            running = s.toBytes();
            s.close();
            assertThrows(IllegalStateException.class, s::toBytes);
        }
        try (EncryptedVector sum = he.loadVector(running)) {
            double[] plain = decryptor.decrypt(sum);
            double[] expected = {11, 22, 33};
            for (int i = 0; i < 3; i++) {
                assertEquals(expected[i], plain[i], 1e-6, "value " + i);
            }
        }
        assertArrayEquals(running, CiphertextSums.add(he, a, b), "running sum = CiphertextSums.add");

        List<byte[]> sums = CiphertextSums.sum(
                he, List.of(List.of(a, MaskedVectors.encode(q, ma)), List.of(b, MaskedVectors.encode(q, mb))));
        assertArrayEquals(running, sums.get(0), "running sum = CiphertextSums.sum");
        assertArrayEquals(MaskedVectors.encode(q, referenceSum(q, List.of(ma, mb))), sums.get(1));

        // the EncryptedVector-based methods are unchanged
        try (EncryptedVector s = CiphertextSums.addInto(he, null, a)) {
            assertEquals(s, CiphertextSums.addPrevalidatedInto(he, s, ByteBuffer.wrap(b)));
            assertArrayEquals(running, s.toBytes());
        }
        assertNotEquals(0, running.length);
    }

    @Test
    void packingThroughput() throws Exception {
        long q = prime(61);
        int n = 65536;
        long[] c = random(new Random(11), q, n);
        byte[] wire = MaskedVectors.encode(q, c);
        ByteBuffer buffer = ByteBuffer.wrap(wire);
        int rounds = 300;
        long sink = 0;
        for (int warm = 0; warm < 2; warm++) { // the second pass is measured
            long t0 = System.nanoTime();
            for (int r = 0; r < rounds; r++) {
                sink += MaskedVectors.encode(q, c).length;
            }
            long t1 = System.nanoTime();
            for (int r = 0; r < rounds; r++) {
                sink += MaskedVectors.decode(buffer)[r % n];
            }
            long t2 = System.nanoTime();
            for (int r = 0; r < rounds; r++) {
                MaskedVectors.validate(buffer);
            }
            long t3 = System.nanoTime();
            long t4;
            long t5;
            try (RunningSum s = CiphertextSums.startPrevalidated(he, buffer)) {
                t4 = System.nanoTime();
                for (int r = 0; r < rounds; r++) {
                    s.addPrevalidated(buffer);
                }
                t5 = System.nanoTime();
                sink += s.toBytes().length;
            }
            if (warm == 1) {
                double mb = (double) wire.length * rounds / 1e6;
                System.out.printf(
                        "MaskedVectors, %d coefficients of 61 bits (%d bytes): encode %.0f MB/s, decode %.0f MB/s,"
                                + " validate %.0f MB/s, RunningSum.addPrevalidated %.0f MB/s (packed bytes)%n",
                        n,
                        wire.length,
                        mb / ((t1 - t0) / 1e9),
                        mb / ((t2 - t1) / 1e9),
                        mb / ((t3 - t2) / 1e9),
                        mb / ((t5 - t4) / 1e9));
            }
        }
        assertTrue(sink != 0);
    }
}
