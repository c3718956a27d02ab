package org.fedseal.client;

import java.security.SecureRandom;
import java.util.List;
import java.util.Objects;
import org.fedseal.client.internal.LayoutEncryption;
import org.fedseal.hejava.JavaCkksEncryptor;
import org.fedseal.hejava.JavaCkksPublicKey;
import org.fedseal.protocol.Chunker;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.wire.ChunkLayout;

/**
 * {@link UpdateEncryptor} in pure Java (he-java's {@link JavaCkksEncryptor}; no native code, so it
 * runs on Android): public-key CKKS with complex packing (8,192 values per ciphertext), producing
 * exactly the per-ciphertext layout {@link SealUpdateEncryptor} produces — payload i is a
 * one-ciphertext he-native {@code EncryptedVector} ("FSEV") of values
 * {@code [i·8192, min((i+1)·8192, total))} — which SEAL loads with validation, adds and decrypts.
 *
 * <p>Thread-safe if the {@link SecureRandom} is (the JDK's and Android's are).
 */
public final class JavaUpdateEncryptor implements UpdateEncryptor {
    /** Ciphertexts per chunk, as {@link SealUpdateEncryptor#DEFAULT_CIPHERTEXTS_PER_CHUNK} (~787 KB per chunk). */
    public static final int DEFAULT_CIPHERTEXTS_PER_CHUNK = 6;

    private final JavaCkksPublicKey publicKey;
    private final JavaCkksEncryptor encryptor;
    private final Hash publicKeyHash;

    private JavaUpdateEncryptor(JavaCkksPublicKey publicKey, Hash publicKeyHash, SecureRandom random) {
        this.publicKey = publicKey;
        this.publicKeyHash = publicKeyHash;
        this.encryptor = new JavaCkksEncryptor(publicKey, true, random);
    }

    /**
     * Parses a serialized SEAL public key ({@code HePublicKey.toBytes()}: uncompressed, unseeded).
     *
     * @throws IllegalArgumentException if the bytes are not a "ckks-8192-v1" public key
     */
    public static JavaUpdateEncryptor load(byte[] publicKeyBytes) {
        return load(publicKeyBytes, new SecureRandom());
    }

    /** As {@link #load(byte[])}, with the source of all encryption randomness. */
    public static JavaUpdateEncryptor load(byte[] publicKeyBytes, SecureRandom random) {
        Objects.requireNonNull(publicKeyBytes, "publicKeyBytes");
        Objects.requireNonNull(random, "random");
        return new JavaUpdateEncryptor(JavaCkksPublicKey.parse(publicKeyBytes), Hash.sha256(publicKeyBytes), random);
    }

    /** The layout clients use for a model of {@code totalValues} parameters (as {@link SealUpdateEncryptor#defaultLayout}). */
    public static ChunkLayout defaultLayout(long totalValues) {
        return Chunker.layout(totalValues, 8192, DEFAULT_CIPHERTEXTS_PER_CHUNK);
    }

    @Override
    public String heParamsId() {
        return publicKey.parameterSetId();
    }

    @Override
    public Hash publicKeyHash() {
        return publicKeyHash;
    }

    @Override
    public int valuesPerCiphertext() {
        return encryptor.valuesPerCiphertext();
    }

    @Override
    public List<byte[]> encrypt(float[] values, ChunkLayout layout) {
        return LayoutEncryption.encrypt(values, layout, valuesPerCiphertext(), heParamsId(), encryptor::encrypt);
    }

    @Override
    public String toString() {
        return "JavaUpdateEncryptor[" + heParamsId() + ", pk=" + publicKeyHash + "]";
    }
}
