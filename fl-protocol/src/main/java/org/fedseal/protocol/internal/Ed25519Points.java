package org.fedseal.protocol.internal;

import java.math.BigInteger;

/**
 * Strict checks on Ed25519 point encodings (public keys {@code A} and signature commitments
 * {@code R}) that the JDK's verifier does not make. Internal, not API.
 *
 * <p>An encoding is accepted only if it is the canonical encoding of a curve point (RFC 8032
 * §5.1.3: {@code y < p}, {@code x} recoverable, and not {@code x = 0} with the sign bit set) and
 * that point does not have small order ({@code [8]P} is not the identity). A small-order public key
 * (e.g. the identity, {@code 01 00…00}) lets anyone forge signatures without a private key — with
 * {@code A} and {@code R} the identity and {@code S = 0} the cofactorless equation
 * {@code [S]B = R + [k]A} holds for every message. The policy is the strictest column of Chalkias,
 * Garillot and Nikolaenko, "Taming the many EdDSAs" (SSR 2020, https://eprint.iacr.org/2020/1244).
 *
 * <p>Plain {@link BigInteger} arithmetic over {@code p = 2^255 - 19}: these checks see only public
 * data, so they need not be constant time.
 */
public final class Ed25519Points {
    /** Outcome of {@link #check}. */
    public enum Verdict {
        /** Canonical encoding of a curve point whose order is not small. */
        VALID,
        /** {@code y >= p}, or {@code x = 0} with the sign bit set (RFC 8032 §5.1.3 steps 1 and 4). */
        NON_CANONICAL,
        /** No {@code x} satisfies the curve equation for this {@code y} (RFC 8032 §5.1.3 step 3). */
        NOT_ON_CURVE,
        /** A point of order 1, 2, 4 or 8: one of the 8 torsion points. */
        SMALL_ORDER
    }

    /** Length of an encoded point. */
    public static final int ENCODED_LENGTH = 32;

    private static final BigInteger P = BigInteger.TWO.pow(255).subtract(BigInteger.valueOf(19));
    /** The curve constant {@code d = -121665 / 121666 mod p} (RFC 8032 §5.1). */
    private static final BigInteger D = BigInteger.valueOf(-121665)
            .multiply(BigInteger.valueOf(121666).modInverse(P))
            .mod(P);
    /** {@code sqrt(-1) = 2^((p-1)/4) mod p} (RFC 8032 §5.1.3 step 3). */
    private static final BigInteger SQRT_M1 =
            BigInteger.TWO.modPow(P.subtract(BigInteger.ONE).shiftRight(2), P);

    private static final BigInteger SQRT_EXPONENT = P.add(BigInteger.valueOf(3)).shiftRight(3);

    private Ed25519Points() {}

    /**
     * Checks the 32-byte little-endian encoding of a point at {@code offset} of {@code bytes}.
     *
     * @throws IndexOutOfBoundsException if fewer than 32 bytes follow {@code offset}
     */
    public static Verdict check(byte[] bytes, int offset) {
        byte[] bigEndian = new byte[ENCODED_LENGTH];
        for (int i = 0; i < ENCODED_LENGTH; i++) {
            bigEndian[i] = bytes[offset + ENCODED_LENGTH - 1 - i];
        }
        boolean xOdd = (bigEndian[0] & 0x80) != 0;
        bigEndian[0] &= 0x7f;
        return check(new BigInteger(1, bigEndian), xOdd);
    }

    /**
     * Checks a point given as its encoded {@code y} (bit 255 already cleared, possibly {@code >= p})
     * and the sign bit of {@code x}, as in {@link java.security.spec.EdECPoint}.
     */
    public static Verdict check(BigInteger y, boolean xOdd) {
        if (y.signum() < 0 || y.compareTo(P) >= 0) {
            return Verdict.NON_CANONICAL;
        }
        // RFC 8032 §5.1.3 step 2-3 (as its §6 recover_x): x^2 = (y^2 - 1) / (d y^2 + 1).
        BigInteger y2 = y.multiply(y);
        BigInteger x2 = y2.subtract(BigInteger.ONE)
                .multiply(D.multiply(y2).add(BigInteger.ONE).modInverse(P))
                .mod(P);
        BigInteger x = x2.modPow(SQRT_EXPONENT, P);
        if (!x.multiply(x).mod(P).equals(x2)) {
            x = x.multiply(SQRT_M1).mod(P);
        }
        if (!x.multiply(x).mod(P).equals(x2)) {
            return Verdict.NOT_ON_CURVE;
        }
        if (x.signum() == 0 && xOdd) {
            return Verdict.NON_CANONICAL;
        }
        // The sign of x is irrelevant below: P and -P have the same order.
        return isSmallOrder(x, y) ? Verdict.SMALL_ORDER : Verdict.VALID;
    }

    /** True iff {@code [8](x, y)} is the identity, i.e. the point lies in the 8-torsion subgroup. */
    private static boolean isSmallOrder(BigInteger x, BigInteger y) {
        BigInteger[] q = {x, y, BigInteger.ONE};
        for (int i = 0; i < 3; i++) {
            q = doubled(q);
        }
        return q[0].signum() == 0 && q[1].equals(q[2]);
    }

    /** Doubling in projective coordinates {@code (X : Y : Z)}, the formulas of RFC 8032 §5.1.4 without {@code T}. */
    private static BigInteger[] doubled(BigInteger[] q) {
        BigInteger a = q[0].multiply(q[0]);
        BigInteger b = q[1].multiply(q[1]);
        BigInteger c = q[2].multiply(q[2]).shiftLeft(1);
        BigInteger h = a.add(b);
        BigInteger e = h.subtract(q[0].add(q[1]).pow(2));
        BigInteger g = a.subtract(b);
        BigInteger f = c.add(g);
        return new BigInteger[] {
            e.multiply(f).mod(P), g.multiply(h).mod(P), f.multiply(g).mod(P)
        };
    }
}
