package org.fedseal.client;

import java.util.List;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.wire.ChunkLayout;

/**
 * Encrypts a client's (weighted) update into the ciphertexts that travel in
 * {@code UpdateChunk.ciphertexts}: one payload per ciphertext of the round's {@link ChunkLayout},
 * in layout order, each an independently loadable he-native {@code EncryptedVector} of at most
 * {@code valuesPerCiphertext} values. Payload i encrypts values
 * {@code [i·valuesPerCiphertext, min((i+1)·valuesPerCiphertext, totalValues))}, so the aggregator
 * can add every client's payload i together.
 *
 * <p>An interface so that a pure-Java CKKS encryptor (Android) can replace
 * {@link SealUpdateEncryptor}. Implementations are thread-safe.
 */
public interface UpdateEncryptor extends AutoCloseable {
    /** The HE parameter set id, e.g. {@code ckks-8192-v1}; compared with {@code RoundOpened.heParamsId}. */
    String heParamsId();

    /** SHA-256 of the serialized public key; compared with {@code RoundOpened.publicKeyHash}. */
    Hash publicKeyHash();

    /** Values one ciphertext carries; must equal the layout's {@code valuesPerCiphertext}. */
    int valuesPerCiphertext();

    /**
     * Encrypts {@code values} per {@code layout}.
     *
     * @throws IllegalArgumentException if {@code values.length != layout.totalValues} or the layout's
     *     values per ciphertext differ from {@link #valuesPerCiphertext()}
     */
    List<byte[]> encrypt(float[] values, ChunkLayout layout);

    /** Releases native resources (if any); the default does nothing. */
    @Override
    default void close() {}
}
