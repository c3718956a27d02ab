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

/**
 * An Ed25519 public key (JDK provider). Encoded as X.509 SubjectPublicKeyInfo; identified by its
 * {@link #fingerprint()} (SHA-256 of that encoding). Immutable; equality is by encoding.
 */
public final class SigningPublicKey {
    private final PublicKey key;
    private final byte[] x509;

    SigningPublicKey(PublicKey key) {
        requireEd25519(key);
        this.key = key;
        this.x509 = key.getEncoded();
    }

    /**
     * Parses an X.509 SubjectPublicKeyInfo encoding of an Ed25519 key.
     *
     * @throws IllegalArgumentException if it is not a valid Ed25519 public key
     */
    public static SigningPublicKey fromX509(byte[] x509) {
        Objects.requireNonNull(x509, "x509");
        try {
            return new SigningPublicKey(KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(x509.clone())));
        } catch (InvalidKeySpecException | RuntimeException e) {
            throw new IllegalArgumentException("not an X.509 Ed25519 public key", e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no Ed25519", e);
        }
    }

    private static void requireEd25519(PublicKey key) {
        Objects.requireNonNull(key, "key");
        if (!(key instanceof EdECPublicKey ed)
                || ed.getParams() == null
                || !"Ed25519".equalsIgnoreCase(ed.getParams().getName())) {
            throw new IllegalArgumentException("not an Ed25519 public key: " + key.getAlgorithm());
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

    /** Ed25519 verification of {@code signature} over {@code message}; false (never an exception) for any malformed signature. */
    public boolean verify(byte[] message, byte[] signature) {
        if (message == null || signature == null || signature.length != 64) {
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
