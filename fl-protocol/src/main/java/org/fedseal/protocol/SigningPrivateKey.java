package org.fedseal.protocol;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.InvalidKeyException;
import java.security.KeyFactory;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.SignatureException;
import java.security.interfaces.EdECPrivateKey;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
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
            return new SigningPrivateKey(
                    KeyFactory.getInstance("Ed25519").generatePrivate(new PKCS8EncodedKeySpec(pkcs8.clone())));
        } catch (InvalidKeySpecException | RuntimeException e) {
            throw new IllegalArgumentException("not a PKCS#8 Ed25519 private key");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no Ed25519", e);
        }
    }

    /**
     * The PKCS#8 DER bytes of a private key file's content, in any of the forms FedSeal's tools
     * accept: DER, PEM ({@code -----BEGIN PRIVATE KEY-----}, RFC 7468) or bare base64 of the DER.
     * The one parser of signing-key files: the aggregator, clients and key holders all use it.
     *
     * @throws IllegalArgumentException if the content is none of these or not an Ed25519 key
     *     (RFC 8410); the message never contains the content
     */
    public static byte[] decodePkcs8(byte[] content) {
        Objects.requireNonNull(content, "content");
        byte[] der = content;
        String text = new String(content, StandardCharsets.US_ASCII).trim();
        if (text.startsWith("-----BEGIN")) {
            if (!text.startsWith("-----BEGIN PRIVATE KEY-----")) {
                throw new IllegalArgumentException(
                        "a PEM file that is not a PKCS#8 private key (expected -----BEGIN PRIVATE KEY-----)");
            }
            text = text.replaceAll("-----[A-Z ]+-----", "");
        }
        if (!text.isEmpty() && text.matches("[A-Za-z0-9+/=\\s]+")) {
            try {
                der = Base64.getMimeDecoder().decode(text);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("not valid base64 or PEM");
            }
        }
        importPkcs8(der);
        return der;
    }

    /**
     * Reads a signing-key file ({@link #decodePkcs8}: DER, PEM or base64).
     *
     * @throws IOException if the file cannot be read
     * @throws IllegalArgumentException naming the file if it does not hold a PKCS#8 Ed25519 key
     */
    public static SigningPrivateKey readPkcs8(Path file) throws IOException {
        byte[] content = Files.readAllBytes(file);
        try {
            return importPkcs8(decodePkcs8(content));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    file + " is not a PKCS#8 Ed25519 private key (DER, PEM or base64): " + e.getMessage(), e);
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
