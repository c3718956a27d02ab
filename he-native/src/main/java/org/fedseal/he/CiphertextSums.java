package org.fedseal.he;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The one implementation of "sum these serialized update entries", for everyone who adds: the
 * aggregator job, the key holders' re-sum, the registry's recompute and the auditor. It sums both
 * kinds of entry, told apart by their magic:
 *
 * <ul>
 *   <li>SEAL CKKS ciphertext vectors ({@code "FSEV"}, {@link EncryptedVector}), added
 *       homomorphically;
 *   <li>masked vectors ({@code "FSMV"}, {@link MaskedVectors}: RLWE one-polynomial masking, after
 *       Willow (Bell et al., CRYPTO 2025)), {@code n} coefficients mod an NTT-friendly prime {@code q < 2^62},
 *       added coefficient-wise mod {@code q}.
 * </ul>
 *
 * <p>Addition is exact modular arithmetic, so any party that sums the same addends, in any order,
 * gets the same bytes ({@link EncryptedVector#toBytes()} and {@link MaskedVectors#encode} are
 * canonical) and the same hash.
 *
 * <p>Every addend of {@link #add} and {@link #sum} is fully validated ({@link HeContext#loadVector},
 * {@link MaskedVectors#validate}); entries of another kind, parameter set or modulus, packing or
 * length are refused. A summer that keeps live sums between folds uses {@link #startPrevalidated}
 * (either kind) or {@link #addPrevalidatedInto} (ciphertext vectors).
 */
public final class CiphertextSums {
    private CiphertextSums() {}

    /**
     * {@code sum + addend} as a serialized entry, of either kind (both of the same kind); {@code
     * sum} null means zero (the result is the addend, re-serialized after validation).
     *
     * @param he the context of the ciphertext vectors' parameter set; required even for masked
     *     vectors
     * @throws MalformedHeDataException if either is not a valid vector of {@code he}'s parameter set
     *     or a valid masked vector
     * @throws IllegalArgumentException if their kind, packing or length, or modulus or coefficient
     *     count differ
     */
    public static byte[] add(HeContext he, byte[] sum, byte[] addend) throws MalformedHeDataException {
        Objects.requireNonNull(he, "he");
        Objects.requireNonNull(addend, "addend");
        if (sum == null) {
            try (Accumulator s = start(he, ByteBuffer.wrap(addend), true)) {
                return s.toBytes();
            }
        }
        try (Accumulator s = start(he, ByteBuffer.wrap(sum), true)) {
            s.add(ByteBuffer.wrap(addend), true);
            return s.toBytes();
        }
    }

    /**
     * A running sum whose value is {@code first}, an entry this process already validated (as for
     * {@link RunningSum#addPrevalidated}): a ciphertext vector ({@code "FSEV"}) is loaded with
     * {@link HeContext#loadPrevalidatedVector} and held as an {@link EncryptedVector}, a masked
     * vector ({@code "FSMV"}) is decoded with full validation and held as its coefficients. The
     * buffer is read in place; its position is not moved. Later addends must be of the same kind
     * and shape.
     *
     * @param he the context of the ciphertext vectors' parameter set; required even for masked
     *     vectors
     * @param first the wire form of either kind, from its position to its limit
     * @return a new running sum; the caller closes it
     * @throws MalformedHeDataException if {@code first} is not structurally a vector of {@code he}'s
     *     parameter set, nor a valid masked vector
     */
    public static RunningSum startPrevalidated(HeContext he, ByteBuffer first) throws MalformedHeDataException {
        return start(he, first, false);
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
     * The index-wise sum of several updates, each a list of serialized entries in the same layout
     * (entry i of every update adds to entry i of the result). Each index has one kind, that of the
     * first update's entry: ciphertext vectors or masked vectors (an update may mix kinds across
     * indices).
     *
     * @param he the context of the ciphertext vectors' parameter set; required even if every entry
     *     is masked
     * @param addends at least one list; all of the same size
     * @return the sums, index by index, in their canonical wire form
     * @throws MalformedHeDataException if an entry is not a valid vector of {@code he}'s parameter set
     *     nor a valid masked vector
     * @throws IllegalArgumentException if there are no addends, the lists differ in size, or entries
     *     at one index differ in kind, packing or length, or modulus or coefficient count
     */
    public static List<byte[]> sum(HeContext he, List<? extends List<byte[]>> addends) throws MalformedHeDataException {
        Objects.requireNonNull(he, "he");
        if (addends.isEmpty()) {
            throw new IllegalArgumentException("nothing to sum");
        }
        int n = addends.get(0).size();
        List<Accumulator> sums = new ArrayList<>(n);
        try {
            for (List<byte[]> update : addends) {
                if (update.size() != n) {
                    throw new IllegalArgumentException("an update has " + update.size() + " vectors, the first " + n);
                }
                for (int i = 0; i < n; i++) {
                    ByteBuffer entry = ByteBuffer.wrap(Objects.requireNonNull(update.get(i), "entry"));
                    if (sums.size() <= i) {
                        sums.add(start(he, entry, true));
                    } else {
                        sums.get(i).add(entry, true);
                    }
                }
            }
            List<byte[]> out = new ArrayList<>(n);
            for (Accumulator s : sums) {
                out.add(s.toBytes());
            }
            return out;
        } finally {
            sums.forEach(Accumulator::close);
        }
    }

    /** Whether the remaining bytes start with the ciphertext vector magic {@code "FSEV"}. */
    private static boolean isEncrypted(ByteBuffer bytes) {
        int p = bytes.position();
        return bytes.remaining() >= 4
                && bytes.get(p) == 'F'
                && bytes.get(p + 1) == 'S'
                && bytes.get(p + 2) == 'E'
                && bytes.get(p + 3) == 'V';
    }

    /** A running sum of the kind of {@code first}; {@code full}: validate it as untrusted input. */
    private static Accumulator start(HeContext he, ByteBuffer first, boolean full) throws MalformedHeDataException {
        Objects.requireNonNull(he, "he");
        Objects.requireNonNull(first, "first");
        if (MaskedVectors.isMasked(first)) {
            ByteBuffer in = MaskedVectors.view(first);
            MaskedVectors.Header h = MaskedVectors.parse(in);
            long[] coefficients = new long[h.count()];
            MaskedVectors.unpack(in, h, coefficients, MaskedVectors.STORE);
            return new MaskedSum(he, h, coefficients);
        }
        return new EncryptedSum(he, full ? he.loadVector(first) : he.loadPrevalidatedVector(first));
    }

    /** A running sum that adds either fully validated or prevalidated addends. */
    private abstract static class Accumulator implements RunningSum {
        final HeContext he;
        boolean closed;

        Accumulator(HeContext he) {
            this.he = he;
        }

        /**
         * Adds {@code addend}; {@code full}: validate it as untrusted input (else as {@link
         * RunningSum#addPrevalidated}). A failed addition leaves the sum unchanged.
         */
        abstract void add(ByteBuffer addend, boolean full) throws MalformedHeDataException;

        @Override
        public final void addPrevalidated(ByteBuffer addend) throws MalformedHeDataException {
            add(Objects.requireNonNull(addend, "addend"), false);
        }

        final void requireOpen() {
            if (closed) {
                throw new IllegalStateException("the running sum is closed");
            }
        }
    }

    /** A sum of ciphertext vectors, held as a native {@link EncryptedVector}. */
    private static final class EncryptedSum extends Accumulator {
        private final EncryptedVector sum;

        EncryptedSum(HeContext he, EncryptedVector sum) {
            super(he);
            this.sum = sum;
        }

        @Override
        synchronized void add(ByteBuffer addend, boolean full) throws MalformedHeDataException {
            requireOpen();
            if (MaskedVectors.isMasked(addend)) {
                if (full) {
                    MaskedVectors.validate(addend); // a malformed entry is reported as such
                }
                throw new IllegalArgumentException("cannot add a masked vector (FSMV) to a sum of " + sum);
            }
            try (EncryptedVector v = full ? he.loadVector(addend) : he.loadPrevalidatedVector(addend)) {
                sum.addInPlace(v);
            }
        }

        @Override
        public synchronized byte[] toBytes() {
            requireOpen();
            return sum.toBytes();
        }

        @Override
        public synchronized void close() {
            closed = true;
            sum.close();
        }

        @Override
        public String toString() {
            return "RunningSum[" + sum + "]";
        }
    }

    /**
     * A sum of masked vectors, held as its coefficients in {@code [0, q)}, added in place. Masked
     * addends are always fully validated: the check costs one comparison per coefficient.
     */
    private static final class MaskedSum extends Accumulator {
        private final MaskedVectors.Header header;
        private long[] coefficients;

        MaskedSum(HeContext he, MaskedVectors.Header header, long[] coefficients) {
            super(he);
            this.header = header;
            this.coefficients = coefficients;
        }

        @Override
        synchronized void add(ByteBuffer addend, boolean full) throws MalformedHeDataException {
            requireOpen();
            if (!MaskedVectors.isMasked(addend)) {
                if (!isEncrypted(addend)) {
                    throw new MalformedHeDataException(
                            "neither a masked vector (FSMV) nor an encrypted vector (FSEV): bad magic");
                }
                if (full) {
                    he.loadVector(addend).close(); // a malformed entry is reported as such
                }
                throw new IllegalArgumentException("cannot add an encrypted vector (FSEV) to a sum of " + header.count()
                        + " masked coefficients mod " + header.modulus());
            }
            ByteBuffer in = MaskedVectors.view(addend);
            MaskedVectors.Header h = MaskedVectors.parse(in);
            MaskedVectors.requireCompatible(header, in, h);
            MaskedVectors.unpack(in, h, coefficients, MaskedVectors.ADD);
        }

        @Override
        public synchronized byte[] toBytes() {
            requireOpen();
            return MaskedVectors.encodeTrusted(header.modulus(), coefficients);
        }

        @Override
        public synchronized void close() {
            closed = true;
            coefficients = null;
        }

        @Override
        public String toString() {
            return "RunningSum[" + header.count() + " masked coefficients mod " + header.modulus() + "]";
        }
    }
}
