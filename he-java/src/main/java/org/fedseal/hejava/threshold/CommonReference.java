package org.fedseal.hejava.threshold;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import org.fedseal.hejava.ThresholdSupport;

/**
 * The common reference string of one threshold key ceremony: the public polynomial a (key
 * level {q0, q1, q2}, NTT form) that every key holder uses in its key share p_i = −(a·s_i + e_i),
 * and the second half of the collective public key (Σ p_i, a).
 *
 * <p>a is expanded deterministically from a public 32-byte seed by keyed BLAKE2Xb (key = the
 * seed, message = {@code "FedSeal/threshold/crs/v1/ckks-8192"} ‖ prime index ‖ block counter;
 * u64 words masked to the prime's bit length, values ≥ q_j rejected), so a is uniform mod each
 * q_j as long as nobody could choose the seed adaptively. Derive the seed with
 * {@link #deriveSeed} from the ceremony id and every party's commitment, so that no single party
 * controls it.
 *
 * <p>Immutable and thread-safe; equal iff the seeds are equal. Public material.
 */
public final class CommonReference {
    /** Seed size in bytes. */
    public static final int SEED_BYTES = 32;

    private static final byte[] DOMAIN = "FedSeal/threshold/crs/v1/ckks-8192".getBytes(StandardCharsets.US_ASCII);

    private final byte[] seed;
    private volatile long[][] a;

    private CommonReference(byte[] seed) {
        this.seed = seed;
    }

    /**
     * The reference string for a public 32-byte seed.
     *
     * @throws IllegalArgumentException if the seed is not 32 bytes, or all zero
     */
    public static CommonReference fromSeed(byte[] seed) {
        Objects.requireNonNull(seed, "seed");
        if (seed.length != SEED_BYTES) {
            throw new IllegalArgumentException("seed must be " + SEED_BYTES + " bytes, got " + seed.length);
        }
        boolean zero = true;
        for (byte x : seed) {
            zero &= x == 0;
        }
        if (zero) {
            throw new IllegalArgumentException("seed is all zero (not derived?)");
        }
        return new CommonReference(seed.clone());
    }

    /**
     * A seed nobody controls alone: SHA-256 over {@code "FedSeal/threshold/crs-seed/v1"}, the
     * ceremony id (u32 length ‖ UTF-8), and the commitments sorted lexicographically (unsigned),
     * each as u32 length ‖ bytes (all lengths big-endian). Order-independent in the commitments;
     * duplicates are refused.
     */
    public static byte[] deriveSeed(String ceremonyId, List<byte[]> commitments) {
        Objects.requireNonNull(ceremonyId, "ceremonyId");
        Objects.requireNonNull(commitments, "commitments");
        if (commitments.isEmpty()) {
            throw new IllegalArgumentException("no commitments");
        }
        List<byte[]> sorted = new ArrayList<>(commitments.size());
        for (byte[] c : commitments) {
            sorted.add(Objects.requireNonNull(c, "commitment").clone());
        }
        sorted.sort(Arrays::compareUnsigned);
        for (int i = 1; i < sorted.size(); i++) {
            if (Arrays.equals(sorted.get(i - 1), sorted.get(i))) {
                throw new IllegalArgumentException("duplicate commitment");
            }
        }
        java.security.MessageDigest h = Digests.sha256();
        h.update("FedSeal/threshold/crs-seed/v1".getBytes(StandardCharsets.US_ASCII));
        byte[] id = ceremonyId.getBytes(StandardCharsets.UTF_8);
        h.update(Digests.u32be(id.length));
        h.update(id);
        for (byte[] c : sorted) {
            h.update(Digests.u32be(c.length));
            h.update(c);
        }
        return h.digest();
    }

    /**
     * The reference string of a ceremony: {@code fromSeed(deriveSeed(ceremonyId, contributions))}.
     * Holders, registry and auditors all derive it this way.
     */
    public static CommonReference forCeremony(String ceremonyId, List<byte[]> contributions) {
        return fromSeed(deriveSeed(ceremonyId, contributions));
    }

    /** The seed (a copy). */
    public byte[] seed() {
        return seed.clone();
    }

    boolean hasSeed(byte[] other, int offset) {
        return Arrays.equals(seed, 0, SEED_BYTES, other, offset, offset + SEED_BYTES);
    }

    /** a, expanded on first use (a few ms). Do not modify. */
    long[][] a() {
        long[][] r = a;
        if (r == null) {
            synchronized (this) {
                r = a;
                if (r == null) {
                    r = ThresholdSupport.expandUniform(seed, DOMAIN);
                    a = r;
                }
            }
        }
        return r;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CommonReference && Arrays.equals(seed, ((CommonReference) o).seed);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(seed);
    }

    @Override
    public String toString() {
        return "CommonReference[ckks-8192, seed " + HexFormat.of().formatHex(seed, 0, 8) + "…]";
    }
}
