package org.fedseal.he;

import java.nio.ByteBuffer;

/**
 * A live sum of update entries of one kind and shape, kept in memory between folds (for a summer
 * that adds many addends and serializes the sum now and then). Made by
 * {@link CiphertextSums#startPrevalidated(HeContext, ByteBuffer)} from its first addend, whose kind
 * it keeps: a SEAL ciphertext vector ({@code "FSEV"}, held as an {@link EncryptedVector}) or a
 * masked vector ({@code "FSMV"}, see {@link MaskedVectors}, held as its coefficients). Addition is
 * exact modular arithmetic, so the sum does not depend on the order of addends.
 *
 * <p>Owns native memory (ciphertexts) or a heap array: close it. Methods are synchronized, so a sum
 * may be shared between threads; after {@link #close()} they throw {@link IllegalStateException}.
 */
public interface RunningSum extends AutoCloseable {
    /**
     * Adds an addend that this process already validated ({@link CiphertextSums}' full loads,
     * {@link MaskedVectors#validate}/{@link MaskedVectors#decode}, or {@link HeContext#loadVector}).
     * The buffer's remaining bytes are read in place; its position is not moved. A ciphertext
     * vector is loaded with {@link HeContext#loadPrevalidatedVector} (structure checked, not SEAL's
     * per-coefficient range check: never pass bytes from the network); a masked vector is checked
     * fully, which costs nothing measurable. Either way a failed addition leaves the sum unchanged.
     *
     * @param addend the wire form of an entry of the same kind, parameter set or modulus, packing
     *     and length as the sum
     * @throws MalformedHeDataException if the addend's structure is not a valid entry of this kind
     *     (and, for a masked vector, if a coefficient is not below its modulus)
     * @throws IllegalArgumentException if its kind, parameter set or modulus, packing or length
     *     (coefficient count) differ from the sum's
     * @throws IllegalStateException if the sum is closed
     */
    void addPrevalidated(ByteBuffer addend) throws MalformedHeDataException;

    /**
     * The canonical wire form of the current sum: {@link EncryptedVector#toBytes()} or
     * {@link MaskedVectors#encode}, so equal sums have equal bytes and hashes.
     *
     * @return a new array
     * @throws IllegalStateException if the sum is closed
     */
    byte[] toBytes();

    /** Frees the sum's memory; harmless when called again. */
    @Override
    void close();
}
