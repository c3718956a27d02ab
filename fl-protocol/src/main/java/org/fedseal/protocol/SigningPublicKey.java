package org.fedseal.protocol;

import java.security.InvalidKeyException;
import java.security.KeyFactory;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.security.Signature;
import java.security.SignatureException;
import java.security.interfaces.EdECPublicKey;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.X509EncodedKeySpec;
import java.util.Objects;
import org.fedseal.protocol.internal.Ed25519Points;

/**
 * An Ed25519 public key (JDK provider). Encoded as X.509 SubjectPublicKeyInfo; identified by its
 * {@link #fingerprint()} (SHA-256 of that encoding). Immutable; equality is by encoding.
 *
 * <p>Every key is checked when it is made, stricter than RFC 8032 requires: its encoding must be
 * canonical and decode to a curve point, and that point must not have small order (with a
 * small-order key such as the identity, signatures verify without any private key). Verification
 * likewise refuses a non-canonical or small-order {@code R}; the JDK itself refuses {@code S >= L}.
 * This is the strictest policy of "Taming the many EdDSAs" (Chalkias, Garillot, Nikolaenko, SSR 2020);
 * see {@link Ed25519Points}.
 */
public final class SigningPublicKey {
    private final PublicKey key;
    private final byte[] x509;

    /**
     * @throws IllegalArgumentException if it is not an Ed25519 key, or its point is not canonically
     *     encoded, not on the curve or of small order
     */
    SigningPublicKey(PublicKey key) {
        requireEd25519(key);
        requireStrictPoint((EdECPublicKey) key);
        this.key = key;
        this.x509 = key.getEncoded();
    }

    /**
     * Parses an X.509 SubjectPublicKeyInfo encoding of an Ed25519 key.
     *
     * @throws IllegalArgumentException if it is not a valid Ed25519 public key, including a
     *     non-canonical encoding or a small-order point (see the class comment)
     */
    public static SigningPublicKey fromX509(byte[] x509) {
        Objects.requireNonNull(x509, "x509");
        PublicKey key;
        try {
            key = KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(x509.clone()));
        } catch (InvalidKeySpecException | RuntimeException e) {
            throw new IllegalArgumentException("not an X.509 Ed25519 public key", e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no Ed25519", e);
        }
        return new SigningPublicKey(key);
    }

    private static void requireEd25519(PublicKey key) {
        Objects.requireNonNull(key, "key");
        if (!(key instanceof EdECPublicKey ed)
                || ed.getParams() == null
                || !"Ed25519".equalsIgnoreCase(ed.getParams().getName())) {
            throw new IllegalArgumentException("not an Ed25519 public key: " + key.getAlgorithm());
        }
    }

    private static void requireStrictPoint(EdECPublicKey key) {
        switch (Ed25519Points.check(key.getPoint().getY(), key.getPoint().isXOdd())) {
            case VALID -> {}
            case NON_CANONICAL -> throw new IllegalArgumentException("non-canonical Ed25519 public key encoding");
            case NOT_ON_CURVE -> throw new IllegalArgumentException("Ed25519 public key is not a curve point");
            case SMALL_ORDER -> throw new IllegalArgumentException("small-order Ed25519 public key");
        }
    }

    /** The X.509 SubjectPublicKeyInfo encoding (a copy). */
    public byte[] toX509() {
        return x509.clone();
    }

    /** SHA-256 of {@link #toX509()}. */
    public Hash fingerprint() {
        return Hash.sha256(x509);
    }

    /** The JDK key. */
    public PublicKey jdkKey() {
        return key;
    }

    /**
     * Ed25519 verification of {@code signature} over {@code message}; false (never an exception) for
     * any malformed signature, including one whose {@code R} is non-canonical or of small order.
     */
    public boolean verify(byte[] message, byte[] signature) {
        if (message == null
                || signature == null
                || signature.length != 64
                || Ed25519Points.check(signature, 0) != Ed25519Points.Verdict.VALID) {
            return false;
        }
        try {
            Signature s = Signature.getInstance("Ed25519");
            s.initVerify(key);
            s.update(message);
            return s.verify(signature);
        } catch (SignatureException | InvalidKeyException e) {
            return false;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no Ed25519", e);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SigningPublicKey k && java.util.Arrays.equals(x509, k.x509);
    }

    @Override
    public int hashCode() {
        return java.util.Arrays.hashCode(x509);
    }

    /** {@code Ed25519PublicKey[fingerprint]}. */
    @Override
    public String toString() {
        return "Ed25519PublicKey[" + fingerprint() + "]";
    }
}
