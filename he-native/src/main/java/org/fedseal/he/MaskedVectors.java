package org.fedseal.he;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The wire form of a masked vector, the compact kind of update entry: {@code n} coefficients modulo
 * an NTT-friendly prime {@code q < 2^62}, masked with one RLWE polynomial (RLWE one-polynomial
 * masking, after Willow (Bell et al., CRYPTO 2025)). Summing masked vectors is exact
 * coefficient-wise addition mod {@code q} ({@link #add(byte[], byte[])}, or a running sum from
 * {@link CiphertextSums#startPrevalidated}); {@link CiphertextSums} sums them beside SEAL
 * ciphertext vectors, telling the kinds apart by their magic.
 *
 * <p>Wire form, little-endian, {@link #HEADER_BYTES} of header then the packed coefficients:
 *
 * <pre>
 * offset  size  field
 *      0     4  magic 0x564D5346 (the bytes 'F','S','M','V')
 *      4     1  format version, 1
 *      5     1  b: coefficient bit width, 64 - Long.numberOfLeadingZeros(q), 2..62
 *      6     2  reserved, zero
 *      8     8  q: the modulus, 2 &lt;= q &lt; 2^62
 *     16     4  n: coefficient count, a power of two in 1..65536
 *     20     ceil(n*b/8)  the coefficients bit-packed little-endian: coefficient i occupies bits
 *                         [i*b, (i+1)*b) of these bytes, bit 0 being the least significant bit of
 *                         the first byte; the padding bits after the last coefficient are zero
 * </pre>
 *
 * <p>The format checks that {@code q} is in range, not that it is prime or NTT-friendly: that is
 * the masking scheme's concern, and sums are exact for any modulus.
 *
 * <p>The form is canonical: the length is exact, every coefficient is below {@code q} and the
 * padding bits are zero, so equal vectors have equal bytes and equal hashes. Every reader here
 * checks all of that and throws {@link MalformedHeDataException} (with the reason) otherwise, so
 * untrusted bytes are welcome. Byte buffers are read from their position to their limit with
 * absolute reads, in place (a heap buffer's array is not copied); their position and byte order
 * are never changed. Stateless and thread-safe.
 */
public final class MaskedVectors {
    /** Bytes before the packed coefficients: magic, version, width, reserved, modulus, count. */
    public static final int HEADER_BYTES = 20;

    /** The largest coefficient count {@code n} (a power of two). */
    public static final int MAX_COEFFICIENTS = 1 << 16;

    /** The widest modulus in bits: {@code q < 2^62}, so the sum of two coefficients fits a long. */
    public static final int MAX_MODULUS_BITS = 62;

    static final int MAGIC = 0x564D5346; // "FSMV" little-endian
    static final int FORMAT_VERSION = 1;

    private MaskedVectors() {}

    /**
     * Whether the buffer's remaining bytes start with the masked-vector magic ({@code "FSMV"}): the
     * kind of an update entry, not its validity. The position is not moved.
     *
     * @return true iff at least 4 bytes remain and the first 4 are the magic
     */
    public static boolean isMasked(ByteBuffer bytes) {
        Objects.requireNonNull(bytes, "bytes");
        int p = bytes.position();
        return bytes.remaining() >= 4
                && bytes.get(p) == 'F'
                && bytes.get(p + 1) == 'S'
                && bytes.get(p + 2) == 'M'
                && bytes.get(p + 3) == 'V';
    }

    /**
     * {@link #isMasked(ByteBuffer)} of a whole array.
     *
     * @return true iff the array has at least 4 bytes and the first 4 are the magic
     */
    public static boolean isMasked(byte[] bytes) {
        return isMasked(ByteBuffer.wrap(Objects.requireNonNull(bytes, "bytes")));
    }

    /**
     * The exact wire size of a masked vector: {@link #HEADER_BYTES} {@code + ceil(n * b / 8)} with
     * {@code b} the bit width of {@code q}.
     *
     * @param q the modulus, {@code 2 <= q < 2^62}
     * @param n the coefficient count, a power of two in 1..{@link #MAX_COEFFICIENTS}
     * @return the size in bytes (at most 20 + 507,904)
     * @throws IllegalArgumentException if {@code q} or {@code n} is out of range
     */
    public static int encodedBytes(long q, int n) {
        int b = bitWidth(q);
        if (b < 0) {
            throw new IllegalArgumentException("modulus " + q + " is not in [2, 2^62)");
        }
        if (!validCount(n)) {
            throw new IllegalArgumentException(
                    "coefficient count " + n + " is not a power of two in [1, " + MAX_COEFFICIENTS + "]");
        }
        return HEADER_BYTES + payloadBytes(b, n);
    }

    /**
     * Encodes coefficients modulo {@code q} in the wire form.
     *
     * @param q the modulus, {@code 2 <= q < 2^62}
     * @param coefficients {@code n} values in {@code [0, q)}, {@code n} a power of two in
     *     1..{@link #MAX_COEFFICIENTS}; not modified
     * @return a new array of exactly {@link #encodedBytes(long, int) encodedBytes(q, n)} bytes
     * @throws IllegalArgumentException if {@code q} is out of range, {@code n} is not a power of two
     *     in range, or a coefficient is outside {@code [0, q)}
     */
    public static byte[] encode(long q, long[] coefficients) {
        Objects.requireNonNull(coefficients, "coefficients");
        encodedBytes(q, coefficients.length); // checks q and n
        for (int i = 0; i < coefficients.length; i++) {
            long c = coefficients[i];
            if (c < 0 || c >= q) {
                throw new IllegalArgumentException("coefficient " + i + " is " + c + ", not in [0, " + q + ")");
            }
        }
        return encodeTrusted(q, coefficients);
    }

    /**
     * Decodes and fully validates a masked vector: structure, exact length, every coefficient below
     * {@code q}, zero padding bits.
     *
     * @param bytes the wire form, from its position to its limit (position not moved)
     * @return the {@code n} coefficients, each in {@code [0, q)}
     * @throws MalformedHeDataException with the reason, if the bytes are not a valid masked vector
     */
    public static long[] decode(ByteBuffer bytes) throws MalformedHeDataException {
        ByteBuffer in = view(bytes);
        Header h = parse(in);
        long[] out = new long[h.count()];
        unpack(in, h, out, STORE);
        return out;
    }

    /**
     * The checks of {@link #decode(ByteBuffer)} without decoding into an array (nothing is allocated
     * but a view of the buffer).
     *
     * @param bytes the wire form, from its position to its limit (position not moved)
     * @throws MalformedHeDataException with the reason, if the bytes are not a valid masked vector
     */
    public static void validate(ByteBuffer bytes) throws MalformedHeDataException {
        ByteBuffer in = view(bytes);
        unpack(in, parse(in), null, CHECK);
    }

    /**
     * The modulus {@code q} from the header. Only the header is checked, not the length or the
     * coefficients.
     *
     * @param bytes the wire form, from its position (position not moved)
     * @return {@code q}, {@code 2 <= q < 2^62}
     * @throws MalformedHeDataException if the header is not a valid masked-vector header
     */
    public static long modulus(ByteBuffer bytes) throws MalformedHeDataException {
        return header(view(bytes)).modulus();
    }

    /**
     * The coefficient count {@code n} from the header. Only the header is checked, not the length
     * or the coefficients.
     *
     * @param bytes the wire form, from its position (position not moved)
     * @return {@code n}, a power of two in 1..{@link #MAX_COEFFICIENTS}
     * @throws MalformedHeDataException if the header is not a valid masked-vector header
     */
    public static int coefficientCount(ByteBuffer bytes) throws MalformedHeDataException {
        return header(view(bytes)).count();
    }

    /**
     * The entries of a list that are not masked vectors (the CKKS vectors), in order: in a compact
     * round's aggregate, the summed masking keys — the only entries key holders decrypt. A list
     * without masked entries comes back whole.
     */
    public static List<byte[]> withoutMasked(List<byte[]> entries) {
        List<byte[]> out = new ArrayList<>(entries.size());
        for (byte[] e : entries) {
            if (!isMasked(e)) {
                out.add(e);
            }
        }
        return out;
    }

    /** True if any entry is a masked vector: the aggregate (or update) of a compact round. */
    public static boolean anyMasked(List<byte[]> entries) {
        for (byte[] e : entries) {
            if (isMasked(e)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The coefficients of every masked entry of a list, in order, each fully validated and required
     * to be of modulus {@code q}.
     *
     * @throws IllegalArgumentException naming the entry that is malformed or of another modulus
     */
    public static List<long[]> decodeMasked(List<byte[]> entries, long q) {
        List<long[]> out = new ArrayList<>();
        for (int i = 0; i < entries.size(); i++) {
            if (!isMasked(entries.get(i))) {
                continue;
            }
            ByteBuffer b = ByteBuffer.wrap(entries.get(i));
            try {
                if (modulus(b) != q) {
                    throw new IllegalArgumentException(
                            "entry " + i + " is masked modulo " + modulus(b) + ", expected " + q);
                }
                out.add(decode(b));
            } catch (MalformedHeDataException e) {
                throw new IllegalArgumentException("masked entry " + i + " is malformed: " + e.getMessage(), e);
            }
        }
        return out;
    }

    /**
     * {@code a + b}, coefficient-wise mod {@code q}, in the wire form; both fully validated.
     *
     * @return a new array, the canonical wire form of the sum
     * @throws MalformedHeDataException if either is not a valid masked vector
     * @throws IllegalArgumentException if their moduli or coefficient counts differ
     */
    public static byte[] add(byte[] a, byte[] b) throws MalformedHeDataException {
        ByteBuffer inA = view(ByteBuffer.wrap(Objects.requireNonNull(a, "a")));
        ByteBuffer inB = view(ByteBuffer.wrap(Objects.requireNonNull(b, "b")));
        Header ha = parse(inA);
        long[] sum = new long[ha.count()];
        unpack(inA, ha, sum, STORE);
        Header hb = parse(inB);
        requireCompatible(ha, inB, hb);
        unpack(inB, hb, sum, ADD);
        return encodeTrusted(ha.modulus(), sum);
    }

    // ---- package-private core, for CiphertextSums' running sums ----

    /** The header fields of a masked vector. */
    record Header(long modulus, int bits, int count) {}

    /** A little-endian view of the buffer's remaining bytes, at position 0; the buffer is not moved. */
    static ByteBuffer view(ByteBuffer bytes) {
        return Objects.requireNonNull(bytes, "bytes").slice().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The header of {@code in} (a {@link #view}), with the exact total length checked. */
    static Header parse(ByteBuffer in) throws MalformedHeDataException {
        Header h = header(in);
        int expected = HEADER_BYTES + payloadBytes(h.bits(), h.count());
        int total = in.limit();
        if (total < expected) {
            throw new MalformedHeDataException("masked vector: truncated, " + total + " bytes where " + h.count()
                    + " coefficients of " + h.bits() + " bits need exactly " + expected);
        }
        if (total > expected) {
            throw new MalformedHeDataException("masked vector: " + (total - expected) + " trailing bytes after "
                    + h.count() + " coefficients of " + h.bits() + " bits (" + expected + " bytes)");
        }
        return h;
    }

    /** The header of {@code in} (a {@link #view}), without the length check. */
    static Header header(ByteBuffer in) throws MalformedHeDataException {
        int total = in.limit();
        if (total < HEADER_BYTES) {
            throw new MalformedHeDataException(
                    "masked vector: " + total + " bytes is shorter than its " + HEADER_BYTES + "-byte header");
        }
        if (in.getInt(0) != MAGIC) {
            throw new MalformedHeDataException("masked vector: bad magic");
        }
        int version = in.get(4);
        if (version != FORMAT_VERSION) {
            throw new MalformedHeDataException("masked vector: unsupported format version " + version);
        }
        int bits = in.get(5) & 0xFF;
        if (in.getShort(6) != 0) {
            throw new MalformedHeDataException("masked vector: reserved bytes are not zero");
        }
        long q = in.getLong(8);
        int width = bitWidth(q);
        if (width < 0) {
            throw new MalformedHeDataException("masked vector: modulus " + q + " is not in [2, 2^62)");
        }
        if (bits != width) {
            throw new MalformedHeDataException("masked vector: coefficient width " + bits
                    + " bits does not match the modulus " + q + " (" + width + " bits)");
        }
        int n = in.getInt(16);
        if (!validCount(n)) {
            throw new MalformedHeDataException("masked vector: coefficient count " + n
                    + " is not a power of two in [1, " + MAX_COEFFICIENTS + "]");
        }
        return new Header(q, bits, n);
    }

    /** {@link #unpack} mode: only check each coefficient (the target may be null). */
    static final int CHECK = 0;

    /** {@link #unpack} mode: store each coefficient in the target. */
    static final int STORE = 1;

    /** {@link #unpack} mode: add each coefficient to the target's, mod q. */
    static final int ADD = 2;

    /** {@link #unpack} mode: subtract each coefficient from the target's, mod q (undoes ADD). */
    private static final int SUBTRACT = 3;

    /**
     * Unpacks the coefficients of {@code in} (a {@link #view} whose header {@link #parse} accepted)
     * and checks them: zero padding bits, every coefficient below the modulus. Each coefficient
     * goes into {@code target} as {@code mode} says ({@code target} may be null for CHECK). If a
     * check fails, {@code target} is left as it was for ADD (the coefficients added before the bad
     * one are subtracted again), and partly written for STORE.
     */
    static void unpack(ByteBuffer in, Header h, long[] target, int mode) throws MalformedHeDataException {
        int b = h.bits();
        int n = h.count();
        int padding = (int) (-(long) n * b & 7);
        if (padding != 0 && (in.get(HEADER_BYTES + payloadBytes(b, n) - 1) & 0xFF) >>> (8 - padding) != 0) {
            throw new MalformedHeDataException("masked vector: padding bits after the last coefficient are not zero");
        }
        int bad = apply(in, b, h.modulus(), n, target, mode);
        if (bad >= 0) {
            if (mode == ADD) {
                apply(in, b, h.modulus(), bad, target, SUBTRACT);
            }
            throw new MalformedHeDataException("masked vector: coefficient " + bad + " is " + coefficientAt(in, b, bad)
                    + ", not below the modulus " + h.modulus());
        }
    }

    /**
     * The packing loop: applies the first {@code count} coefficients to {@code target} as {@code
     * mode} says, stopping at the first that is not below {@code q}.
     *
     * @return the index of that coefficient, or -1 if all {@code count} were below {@code q}
     */
    private static int apply(ByteBuffer in, int b, long q, int count, long[] target, int mode) {
        final long mask = (1L << b) - 1;
        final int limit = in.limit();
        int offset = HEADER_BYTES;
        long word = word(in, offset, limit);
        int bit = 0; // bits of word already consumed, 0..63
        for (int i = 0; i < count; i++) {
            long c = word >>> bit;
            bit += b;
            if (bit >= 64) {
                offset += 8;
                word = word(in, offset, limit);
                bit -= 64;
                if (bit > 0) {
                    c |= word << (b - bit);
                }
            }
            c &= mask;
            if (c >= q) {
                return i;
            }
            switch (mode) {
                case STORE -> target[i] = c;
                case ADD -> {
                    long s = target[i] + c - q;
                    target[i] = s + ((s >> 63) & q);
                }
                case SUBTRACT -> {
                    long s = target[i] - c;
                    target[i] = s + ((s >> 63) & q);
                }
                default -> {}
            }
        }
        return -1;
    }

    /** Coefficient {@code i}, bit by bit (for error messages). */
    private static long coefficientAt(ByteBuffer in, int b, int i) {
        long c = 0;
        for (int j = 0; j < b; j++) {
            long p = (long) i * b + j;
            c |= (long) ((in.get(HEADER_BYTES + (int) (p >>> 3)) >>> (p & 7)) & 1) << j;
        }
        return c;
    }

    /** The wire form of coefficients already known to be in {@code [0, q)}, {@code q} and n valid. */
    static byte[] encodeTrusted(long q, long[] coefficients) {
        int b = bitWidth(q);
        int n = coefficients.length;
        byte[] bytes = new byte[HEADER_BYTES + payloadBytes(b, n)];
        ByteBuffer out = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        out.putInt(0, MAGIC)
                .put(4, (byte) FORMAT_VERSION)
                .put(5, (byte) b)
                .putShort(6, (short) 0)
                .putLong(8, q)
                .putInt(16, n);
        int offset = HEADER_BYTES;
        long acc = 0;
        int bit = 0; // bits of acc filled, 0..63
        for (long c : coefficients) {
            acc |= c << bit;
            bit += b;
            if (bit >= 64) {
                out.putLong(offset, acc);
                offset += 8;
                bit -= 64;
                acc = c >>> (b - bit); // the high bits that did not fit; 0 if bit == 0, as c < 2^b
            }
        }
        for (; bit > 0; bit -= 8) {
            out.put(offset++, (byte) acc);
            acc >>>= 8;
        }
        return bytes;
    }

    /**
     * Throws IllegalArgumentException unless the addend {@code in} (a {@link #view} with the
     * header {@code addend} that {@link #parse} accepted) has the modulus and coefficient count of
     * {@code sum}; but MalformedHeDataException first if the addend's coefficients are not valid.
     */
    static void requireCompatible(Header sum, ByteBuffer in, Header addend) throws MalformedHeDataException {
        if (sum.modulus() != addend.modulus() || sum.count() != addend.count()) {
            unpack(in, addend, null, CHECK);
            throw new IllegalArgumentException("cannot add a masked vector of " + addend.count()
                    + " coefficients mod " + addend.modulus() + " to one of " + sum.count() + " mod "
                    + sum.modulus());
        }
    }

    /** The 8 little-endian bytes at {@code offset}, zero-extended where they reach {@code limit}. */
    private static long word(ByteBuffer in, int offset, int limit) {
        if (offset + 8 <= limit) {
            return in.getLong(offset);
        }
        long w = 0;
        for (int k = 0; offset + k < limit; k++) {
            w |= (in.get(offset + k) & 0xFFL) << (8 * k);
        }
        return w;
    }

    /** The bit width of a valid modulus, or -1 if {@code q} is not in {@code [2, 2^62)}. */
    private static int bitWidth(long q) {
        int b = 64 - Long.numberOfLeadingZeros(q);
        return q >= 2 && b <= MAX_MODULUS_BITS ? b : -1;
    }

    private static boolean validCount(int n) {
        return n >= 1 && n <= MAX_COEFFICIENTS && Integer.bitCount(n) == 1;
    }

    private static int payloadBytes(int bits, int n) {
        return (int) (((long) n * bits + 7) >>> 3);
    }
}
