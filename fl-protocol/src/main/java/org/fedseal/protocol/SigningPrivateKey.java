package org.fedseal.protocol;

import java.security.InvalidKeyException;
import java.security.KeyFactory;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.SignatureException;
import java.security.interfaces.EdECPrivateKey;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Objects;

/**
 * An Ed25519 private key (JDK provider). Key material leaves this object only through the explicit
 * {@link #exportPkcs8()}; {@link #toString()} never shows it.
 */
public final class SigningPrivateKey {
    private final PrivateKey key;

    SigningPrivateKey(PrivateKey key) {
        Objects.requireNonNull(key, "key");
        if (!(key instanceof EdECPrivateKey ed)
                || ed.getParams() == null
                || !"Ed25519".equalsIgnoreCase(ed.getParams().getName())) {
            throw new IllegalArgumentException("not an Ed25519 private key");
        }
        this.key = key;
    }

    /**
     * Imports a PKCS#8 encoded Ed25519 private key.
     *
     * @throws IllegalArgumentException if it is not one
     */
    public static SigningPrivateKey importPkcs8(byte[] pkcs8) {
        Objects.requireNonNull(pkcs8, "pkcs8");
        try {
            return new SigningPrivateKey(KeyFactory.getInstance("Ed25519").generatePrivate(new PKCS8EncodedKeySpec(pkcs8.clone())));
        } catch (InvalidKeySpecException | RuntimeException e) {
            throw new IllegalArgumentException("not a PKCS#8 Ed25519 private key");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no Ed25519", e);
        }
    }

    /** Exports the key as PKCS#8 bytes. Handle the result as a secret. */
    public byte[] exportPkcs8() {
        return key.getEncoded();
    }

    /** Ed25519 signature (64 bytes) over {@code message}. */
    public byte[] sign(byte[] message) {
        Objects.requireNonNull(message, "message");
        try {
            Signature s = Signature.getInstance("Ed25519");
            s.initSign(key);
            s.update(message);
            return s.sign();
        } catch (InvalidKeyException | SignatureException e) {
            throw new IllegalStateException("Ed25519 signing failed", e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no Ed25519", e);
        }
    }

    /** Never shows key material. */
    @Override
    public String toString() {
        return "Ed25519PrivateKey[redacted]";
    }
}
