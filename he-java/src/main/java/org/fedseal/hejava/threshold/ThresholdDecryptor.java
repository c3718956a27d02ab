package org.fedseal.hejava.threshold;

import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.fedseal.hejava.ThresholdSupport;
import org.fedseal.hejava.ThresholdSupport.CiphertextVector;

/**
 * Combines the n decryption shares of an aggregate into its values: per ciphertext
 * m = c0 + Σ h_i mod q0, then CKKS decoding (inverse NTT, centre-lift mod q0, the inverse of
 * the encoder's FFT, division by Δ = 2^50). Needs no secret: anyone holding the aggregate and all
 * n shares can run it. With fewer shares (or a foreign one) m is off by a uniformly random
 * polynomial mod q0, which decodes to values of magnitude ≈ 10^4 (tested: max &gt; 10^3), far
 * beyond the data.
 *
 * <p>Precision: with σ = 2^30 flooding per holder, each value carries a normal error of std
 * √(8192·n/2)·2^-20 (1.06e-4 for n = 3) plus the usual CKKS noise (≈ 1e-12 here); over 20,000
 * values the maximum is ≈ 5e-4. Divide by the total weight afterwards.
 *
 * <p>Stateless and thread-safe.
 */
public final class ThresholdDecryptor {
    private ThresholdDecryptor() {}

    /**
     * The values of the aggregate {@code fsevVectorBytes} from all its holders' shares.
     *
     * <p>Checks that every share is for exactly these bytes, covers every ciphertext, and comes
     * from a different holder. It cannot know n: use
     * {@link #combine(byte[], List, int, boolean, List)} to check the holders against the
     * ceremony's list.
     *
     * @param fsevVectorBytes he-native's {@code EncryptedVector.toBytes()} of the aggregate
     * @param shares one share per holder, any order
     * @param length the expected number of values (must match the vector's header)
     * @param complexPacking the expected packing (must match the vector's header)
     * @return {@code length} values (COMPLEX: slot i holds values 2i, 2i+1)
     * @throws IllegalArgumentException if the vector is malformed or not at scale 2^50, the
     *     length or packing differ, or a share does not fit
     */
    public static double[] combine(
            byte[] fsevVectorBytes, List<DecryptionShare> shares, int length, boolean complexPacking) {
        return combine(fsevVectorBytes, shares, length, complexPacking, null);
    }

    /**
     * As {@link #combine(byte[], List, int, boolean)}, and moreover checks that the shares come
     * from exactly the holders whose {@link ThresholdKeys#keyShareDigest key share digests} are
     * listed (each once, none missing, none foreign).
     */
    public static double[] combine(
            byte[] fsevVectorBytes,
            List<DecryptionShare> shares,
            int length,
            boolean complexPacking,
            List<byte[]> expectedKeyShareDigests) {
        Objects.requireNonNull(shares, "shares");
        CiphertextVector v = parseAggregate(fsevVectorBytes);
        if (v.length() != length || v.complexPacking() != complexPacking) {
            throw new IllegalArgumentException("the aggregate holds " + v.length() + " values, "
                    + (v.complexPacking() ? "COMPLEX" : "REAL") + " packing; the caller expects " + length + ", "
                    + (complexPacking ? "COMPLEX" : "REAL"));
        }
        return combineParsed(fsevVectorBytes, v, shares, expectedKeyShareDigests);
    }

    private static double[] combineParsed(
            byte[] fsevVectorBytes,
            CiphertextVector v,
            List<DecryptionShare> shares,
            List<byte[]> expectedKeyShareDigests) {
        if (shares.isEmpty()) {
            throw new IllegalArgumentException("no decryption shares");
        }
        byte[] digest = Digests.sha256(fsevVectorBytes);
        List<byte[]> holders = new ArrayList<>();
        for (DecryptionShare s : shares) {
            Objects.requireNonNull(s, "share");
            if (!MessageDigest.isEqual(s.aggregateDigest(), digest)) {
                throw new IllegalArgumentException("a decryption share is for another aggregate: " + s);
            }
            if (s.ciphertextCount() != v.ciphertextCount()) {
                throw new IllegalArgumentException("a decryption share covers " + s.ciphertextCount()
                        + " ciphertexts, not " + v.ciphertextCount());
            }
            byte[] holder = s.keyShareDigest();
            for (byte[] h : holders) {
                if (Arrays.equals(h, holder)) {
                    throw new IllegalArgumentException("two decryption shares from the same holder: " + s);
                }
            }
            holders.add(holder);
        }
        if (expectedKeyShareDigests != null) {
            if (expectedKeyShareDigests.size() != holders.size()) {
                throw new IllegalArgumentException(
                        holders.size() + " decryption shares for " + expectedKeyShareDigests.size() + " key holders");
            }
            for (byte[] h : holders) {
                boolean known = false;
                for (byte[] e : expectedKeyShareDigests) {
                    known |= Arrays.equals(e, h);
                }
                if (!known) {
                    throw new IllegalArgumentException("a decryption share comes from a holder outside the ceremony");
                }
            }
        }
        int length = v.length();
        boolean complexPacking = v.complexPacking();
        double[] out = new double[length];
        int per = v.valuesPerCiphertext();
        for (int c = 0; c < v.ciphertextCount(); c++) {
            long[] m = v.c0(c);
            for (DecryptionShare s : shares) {
                ThresholdSupport.addQ0(m, s.polynomial(c));
            }
            int from = c * per;
            ThresholdSupport.decode(m, v.scale(), complexPacking, out, from, Math.min(per, length - from));
        }
        return out;
    }

    /**
     * Combines a whole aggregate, ciphertext vector by vector: {@code sharesByHolder.get(h).get(i)}
     * is holder h's share of {@code vectors.get(i)}. Returns every vector's values, concatenated in
     * order (each vector's own length and packing, from its header).
     *
     * @param expectedKeyShareDigests the holders (or quorum identities) the shares must come from
     * @throws IllegalArgumentException as {@link #combine(byte[], List, int, boolean, List)}, or if a
     *     holder's share list does not cover every vector
     */
    public static double[] combineAll(
            List<byte[]> vectors, List<List<DecryptionShare>> sharesByHolder, List<byte[]> expectedKeyShareDigests) {
        for (List<DecryptionShare> holder : sharesByHolder) {
            if (holder.size() != vectors.size()) {
                throw new IllegalArgumentException(
                        "a holder sent " + holder.size() + " shares for " + vectors.size() + " ciphertext vectors");
            }
        }
        List<double[]> parts = new ArrayList<>();
        int total = 0;
        for (int i = 0; i < vectors.size(); i++) {
            CiphertextVector v = parseAggregate(vectors.get(i));
            List<DecryptionShare> shares = new ArrayList<>();
            for (List<DecryptionShare> holder : sharesByHolder) {
                shares.add(holder.get(i));
            }
            double[] part = combineParsed(vectors.get(i), v, shares, expectedKeyShareDigests);
            parts.add(part);
            total += part.length;
        }
        double[] out = new double[total];
        int at = 0;
        for (double[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    /** Parses an aggregate and insists on the threshold parameter set's scale. */
    static CiphertextVector parseAggregate(byte[] fsevVectorBytes) {
        CiphertextVector v = ThresholdSupport.parseVector(fsevVectorBytes);
        if (v.scale() != ThresholdParty.SCALE) {
            throw new IllegalArgumentException("the aggregate has scale 2^" + Math.getExponent(v.scale())
                    + "; threshold decryption needs " + ThresholdParty.PARAMETER_SET_ID
                    + " (scale 2^50), or the flooding noise would swamp the values");
        }
        return v;
    }
}
