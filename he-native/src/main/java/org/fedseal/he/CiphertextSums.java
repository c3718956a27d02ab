package org.fedseal.he;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The one implementation of "sum these serialized ciphertexts", for everyone who adds: the
 * aggregator job, the key holders' re-sum, the registry's recompute and the auditor. Addition is
 * exact modular arithmetic, so any party that sums the same addends, in any order, gets the same
 * bytes ({@link EncryptedVector#toBytes()} is canonical) and the same hash.
 *
 * <p>Every addend is loaded with {@link HeContext#loadVector}'s validation; vectors of another
 * parameter set, packing or length are refused.
 */
public final class CiphertextSums {
    private CiphertextSums() {}

    /**
     * {@code sum + addend} as a serialized vector; {@code sum} null means zero (the result is the
     * addend, re-serialized after validation).
     *
     * @throws MalformedHeDataException if either is not a valid vector of {@code he}'s parameter set
     * @throws IllegalArgumentException if their packing or length differ
     */
    public static byte[] add(HeContext he, byte[] sum, byte[] addend) throws MalformedHeDataException {
        try (EncryptedVector s = addInto(he, sum == null ? null : he.loadVector(sum), addend)) {
            return s.toBytes();
        }
    }

    /**
     * Adds a serialized addend into a live running sum, without serializing the sum: for a summer
     * that keeps its sums in memory between folds. {@code sum} null means zero; then the loaded
     * addend is returned (the caller owns and closes it).
     *
     * @return {@code sum}, or the new vector if {@code sum} was null
     * @throws MalformedHeDataException if the addend is not a valid vector of {@code he}'s parameter set
     * @throws IllegalArgumentException if their packing or length differ
     */
    public static EncryptedVector addInto(HeContext he, EncryptedVector sum, byte[] addend)
            throws MalformedHeDataException {
        return addInto(sum, he.loadVector(Objects.requireNonNull(addend, "addend")));
    }

    /**
     * {@link #addInto(HeContext, EncryptedVector, byte[])} for an addend this process already
     * accepted from {@link HeContext#loadVector} (see {@link HeContext#loadPrevalidatedVector}): the
     * summer of a pipeline whose first stage validated every ciphertext. The buffer is read in place.
     *
     * @throws MalformedHeDataException if the addend's structure is not a vector of {@code he}'s parameter set
     * @throws IllegalArgumentException if their packing or length differ
     */
    public static EncryptedVector addPrevalidatedInto(HeContext he, EncryptedVector sum, ByteBuffer addend)
            throws MalformedHeDataException {
        return addInto(sum, he.loadPrevalidatedVector(Objects.requireNonNull(addend, "addend")));
    }

    private static EncryptedVector addInto(EncryptedVector sum, EncryptedVector addend) {
        if (sum == null) {
            return addend;
        }
        try (addend) {
            sum.addInPlace(addend);
            return sum;
        }
    }

    /**
     * The index-wise sum of several updates, each a list of serialized vectors in the same layout
     * (entry i of every update adds to entry i of the result).
     *
     * @param addends at least one list; all of the same size
     * @throws MalformedHeDataException if an entry is not a valid vector of {@code he}'s parameter set
     * @throws IllegalArgumentException if there are no addends, the lists differ in size, or entries
     *     at one index differ in packing or length
     */
    public static List<byte[]> sum(HeContext he, List<? extends List<byte[]>> addends) throws MalformedHeDataException {
        if (addends.isEmpty()) {
            throw new IllegalArgumentException("nothing to sum");
        }
        int n = addends.get(0).size();
        List<EncryptedVector> sums = new ArrayList<>(n);
        try {
            for (List<byte[]> update : addends) {
                if (update.size() != n) {
                    throw new IllegalArgumentException("an update has " + update.size() + " vectors, the first " + n);
                }
                for (int i = 0; i < n; i++) {
                    EncryptedVector v = he.loadVector(update.get(i));
                    if (sums.size() <= i) {
                        sums.add(v);
                    } else {
                        try (v) {
                            sums.get(i).addInPlace(v);
                        }
                    }
                }
            }
            List<byte[]> out = new ArrayList<>(n);
            for (EncryptedVector s : sums) {
                out.add(s.toBytes());
            }
            return out;
        } finally {
            sums.forEach(EncryptedVector::close);
        }
    }
}
