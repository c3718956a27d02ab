package org.fedseal.hejava.threshold;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.fedseal.hejava.ThresholdSupport;

/**
 * The collective public key of an n-of-n threshold ceremony, from the holders' public key
 * shares. Public material only: no secret share is involved, and none is ever summed.
 */
public final class ThresholdKeys {
    private ThresholdKeys() {}

    /**
     * The collective public key (Σ p_i, a) in SEAL's uncompressed PublicKey serialization (key
     * level {q0, q1, q2}, NTT form, scale 1, 393,329 bytes): he-native's
     * {@code HeContext.loadPublicKey} (for "ckks-8192-t50-v1") and he-java's
     * {@code JavaCkksPublicKey.parse} accept it, and clients encrypt with it unchanged (at scale
     * 2^50: "ckks-8192-t50-v1"). The same shares in any order give the same bytes.
     *
     * <p>The caller must make sure the list is exactly the ceremony's n holders, each share
     * authenticated, and that each holder committed to its share (e.g. to its SHA-256) before
     * seeing the others' — otherwise the last holder could choose its share to cancel the others
     * (rogue-key attack).
     *
     * @param shares the n ≥ 2 holders' {@link ThresholdParty#publicKeyShare()} bytes
     * @throws IllegalArgumentException if a share is malformed, made for another {@code crs},
     *     duplicated, or fewer than 2 are given
     */
    public static byte[] combinePublicKey(CommonReference crs, List<byte[]> shares) {
        Objects.requireNonNull(crs, "crs");
        Objects.requireNonNull(shares, "shares");
        if (shares.size() < 2) {
            throw new IllegalArgumentException("need the key shares of at least 2 holders, got " + shares.size());
        }
        List<byte[]> seen = new ArrayList<>();
        long[][] sum = null;
        for (byte[] share : shares) {
            long[][] p = KeyShareFormat.read(crs, share);
            byte[] d = Digests.sha256(share);
            for (byte[] other : seen) {
                if (Arrays.equals(other, d)) {
                    throw new IllegalArgumentException("public key share listed twice");
                }
            }
            seen.add(d);
            if (sum == null) {
                sum = p;
            } else {
                ThresholdSupport.addKeyLevel(sum, p);
            }
        }
        return ThresholdSupport.sealPublicKeyBytes(sum, crs.a());
    }

    /**
     * SHA-256 of a public key share (as {@link ThresholdParty#keyShareDigest()} and
     * {@link DecryptionShare#keyShareDigest()}), after validating it against {@code crs}: what a
     * ceremony commits to and a combiner checks shares against.
     */
    public static byte[] keyShareDigest(CommonReference crs, byte[] share) {
        KeyShareFormat.read(Objects.requireNonNull(crs, "crs"), share);
        return Digests.sha256(share);
    }
}
