package org.fedseal.hejava;

import java.util.Arrays;

/**
 * SEAL's default PRNG ({@code Blake2xbPRNG}), needed to write <em>seeded</em> ciphertexts that
 * SEAL expands: buffer number c (c = 0, 1, …) is 4096 bytes of keyed BLAKE2Xb (the BLAKE2 XOF)
 * with key = the 64-byte seed, input = c as a little-endian u64, output length 4096. The stream
 * is the concatenation of the buffers.
 *
 * <p>BLAKE2Xb (as in the BLAKE2 reference, {@code blake2xb.c}): root = BLAKE2b-512 with the
 * parameter block's xof_length set to the output length, keyed; output block i = BLAKE2b of
 * the 64-byte root with digest length min(64, remaining), key length 0, fanout 0, depth 0,
 * leaf length 64, node offset i, xof_length unchanged, inner length 64.
 */
final class Blake2xb {
    static final int SEED_BYTES = 64;
    private static final int BUFFER_BYTES = 4096;

    private final byte[] keyed = new byte[128 + 8]; // padded key block, then the counter
    private final byte[] buffer = new byte[BUFFER_BYTES];
    private int position = BUFFER_BYTES;
    private long counter;

    Blake2xb(byte[] seed) {
        if (seed.length != SEED_BYTES) {
            throw new IllegalArgumentException("seed must be 64 bytes");
        }
        System.arraycopy(seed, 0, keyed, 0, SEED_BYTES);
    }

    /** Keyed BLAKE2Xb of {@code message} with output length {@code outLen} &lt; 2^32 − 1. */
    static byte[] xof(byte[] key, byte[] message, int outLen) {
        byte[] data = new byte[128 + message.length];
        System.arraycopy(key, 0, data, 0, key.length);
        System.arraycopy(message, 0, data, 128, message.length);
        byte[] out = new byte[outLen];
        xof(key.length, data, outLen, out);
        return out;
    }

    private static void xof(int keyLength, byte[] keyBlockAndMessage, int outLen, byte[] out) {
        // Root: digest 64, key length, fanout 1, depth 1, leaf 0 | node offset 0, xof length | 0.
        long xofLength = (outLen & 0xFFFFFFFFL) << 32;
        byte[] root = Blake2b.hash(
                64L | (long) keyLength << 8 | 1L << 16 | 1L << 24,
                xofLength,
                0,
                keyBlockAndMessage,
                keyBlockAndMessage.length,
                64);
        for (int i = 0, remaining = outLen; remaining > 0; i++) {
            int block = Math.min(64, remaining);
            // digest length, key 0, fanout 0, depth 0, leaf length 64 | node offset i, xof length | node depth 0, inner
            // 64.
            byte[] b = Blake2b.hash(block | 64L << 32, (i & 0xFFFFFFFFL) | xofLength, 64L << 8, root, 64, block);
            System.arraycopy(b, 0, out, i * 64, block);
            remaining -= block;
        }
    }

    private void refill() {
        SealBytes.putLong(keyed, 128, counter);
        xof(SEED_BYTES, keyed, BUFFER_BYTES, buffer);
        counter++;
        position = 0;
    }

    /** The next u64 of the stream (little-endian). */
    long nextLong() {
        if (position == BUFFER_BYTES) {
            refill();
        }
        long v = SealBytes.getLong(buffer, position);
        position += 8;
        return v;
    }

    void wipe() {
        Arrays.fill(keyed, (byte) 0);
        Arrays.fill(buffer, (byte) 0);
    }
}
