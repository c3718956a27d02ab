package org.fedseal.hejava;

import java.security.SecureRandom;
import java.util.Arrays;
import java.util.BitSet;

/**
 * One client's masking secret {@code s} for one update of one compact round (see
 * {@link CompactMasking}): a polynomial of degree &lt; {@link CompactMasking#N} with coefficients
 * uniform in {−1, 0, 1}, from {@link CompactMasking#newKey(SecureRandom)}.
 *
 * <h2>One round, each block once</h2>
 * The key is bound to the first round (round seed and modulus) it masks a block for, and refuses
 * every other round with an {@link IllegalStateException}: {@code s} must never serve two rounds,
 * since the key sums {@code S} of two rounds over different participant sets would reveal one
 * client's {@code s} by difference. Within its round it masks each block index at most once
 * ({@code a_j} under one {@code s} is used once). {@link #valuesForKeyEncryption()} hands the
 * secret out once, to be CKKS-encrypted under the model's public key.
 *
 * <p>This is secret material: whoever learns {@code s} unmasks the update. {@link #close()}
 * overwrites it and its NTT form (best effort: the JVM may have copied them, and the array
 * returned by {@link #valuesForKeyEncryption()} is the caller's to wipe); {@link #toString()}
 * never shows it. Thread-safe: every method synchronizes on the key. Nothing here is
 * constant-time.
 */
public final class MaskingKey implements AutoCloseable {
    /** The secret's coefficients, each −1, 0 or 1. */
    private final byte[] s;
    /** The source of the per-block noise seeds. */
    private final SecureRandom random;

    private byte[] boundSeed;
    private long boundModulus;
    /** NTT form of s mod {@link #boundModulus}, computed once when the key is bound. */
    private long[] sNtt;

    private final BitSet maskedBlocks = new BitSet();
    private boolean exported;
    private boolean closed;

    MaskingKey(byte[] s, SecureRandom random) {
        this.s = s;
        this.random = random;
    }

    /**
     * The secret's coefficients as doubles, for encrypting {@code s} under the model's CKKS public
     * key (with complex packing one ciphertext holds all of them; the aggregate of those ciphertexts
     * decrypts to the key sum {@code S}, see {@link CompactMasking#roundKeySum}). Callable once.
     *
     * @return a new array of length {@link CompactMasking#N}, value k being coefficient k of
     *     {@code s} (−1.0, 0.0 or 1.0)
     * @throws IllegalStateException if called before, or if the key is closed
     */
    public synchronized double[] valuesForKeyEncryption() {
        checkOpen();
        if (exported) {
            throw new IllegalStateException("the key's values for encryption were already taken (callable once)");
        }
        exported = true;
        double[] out = new double[s.length];
        for (int k = 0; k < s.length; k++) {
            out[k] = s[k];
        }
        return out;
    }

    /** Overwrites the secret and its NTT form; the key is unusable afterwards. Idempotent. */
    @Override
    public synchronized void close() {
        closed = true;
        Arrays.fill(s, (byte) 0);
        if (sNtt != null) {
            Arrays.fill(sNtt, 0L);
        }
    }

    /** Describes the key's state (bound round modulus, blocks masked, closed) — never the secret. */
    @Override
    public synchronized String toString() {
        StringBuilder b = new StringBuilder("MaskingKey[");
        if (boundSeed == null) {
            b.append("unbound");
        } else {
            b.append("q=").append(boundModulus).append(", blocks masked=").append(maskedBlocks.cardinality());
        }
        if (exported) {
            b.append(", exported");
        }
        if (closed) {
            b.append(", closed");
        }
        return b.append(']').toString();
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("masking key closed");
        }
    }

    /**
     * Checks that this key may mask {@code block} of the round ({@code seed}, {@code ntt.q}):
     * open, not bound to another round, block not yet masked.
     *
     * @throws IllegalStateException otherwise
     */
    void checkUsable(byte[] seed, NttPrime ntt, int block) {
        checkOpen();
        if (boundSeed != null && (boundModulus != ntt.q || !Arrays.equals(boundSeed, seed))) {
            throw new IllegalStateException(
                    "this masking key belongs to another round: a secret s never serves two rounds");
        }
        if (maskedBlocks.get(block)) {
            throw new IllegalStateException("block " + block + " was already masked with this key");
        }
    }

    /**
     * Binds the key to the round if unbound (computing NTT(s) mod q once) and marks {@code block}
     * masked; call after {@link #checkUsable} under the key's lock.
     *
     * @return NTT(s) mod q (the key's own array: do not modify)
     */
    long[] claim(byte[] seed, NttPrime ntt, int block) {
        if (boundSeed == null) {
            long[] t = new long[s.length];
            for (int k = 0; k < s.length; k++) {
                t[k] = s[k] < 0 ? ntt.q - 1 : s[k];
            }
            ntt.forward(t);
            sNtt = t;
            boundModulus = ntt.q;
            boundSeed = seed.clone();
        }
        maskedBlocks.set(block);
        return sNtt;
    }

    /** 32 fresh bytes from the key's SecureRandom: the noise seed of one block. */
    byte[] noiseSeed() {
        byte[] seed = new byte[AesCtrStream.KEY_BYTES];
        random.nextBytes(seed);
        return seed;
    }

    /** The secret's coefficients (the key's own array; for tests). */
    synchronized byte[] secret() {
        checkOpen();
        return s;
    }
}
