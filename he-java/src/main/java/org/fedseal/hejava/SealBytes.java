package org.fedseal.hejava;

/**
 * SEAL 4.0 serialization (compression mode none), little-endian, no padding. Every object starts
 * with a 16-byte header: magic {@code 0xA15E} (u16), header size 0x10 (u8), version 4.0 (two
 * u8), compression mode (u8), 2 reserved zero bytes, total size including the header (u64). A
 * ciphertext (and a public key, which is one) then holds parms_id (4×u64), is_ntt_form (u8),
 * size (u64), N (u64), prime count k (u64), scale (f64), correction factor (u64), and a
 * DynArray: its own 16-byte header, a u64 count = size·k·N, and the u64 coefficients ordered
 * [polynomial][prime][coefficient].
 */
final class SealBytes {
    static final int HEADER_BYTES = 16;
    static final int MAGIC = 0xA15E;
    static final int VERSION_MAJOR = 4;
    static final int VERSION_MINOR = 0;
    /** parms_id, is_ntt_form, size, N, k, scale, correction factor. */
    static final int CT_META_BYTES = 32 + 1 + 8 + 8 + 8 + 8 + 8;

    static final int DYNARRAY_PREFIX_BYTES = HEADER_BYTES + 8;
    static final int OFFSET_PARMS_ID = HEADER_BYTES;
    static final int OFFSET_NTT_FORM = OFFSET_PARMS_ID + 32;
    static final int OFFSET_SIZE = OFFSET_NTT_FORM + 1;
    static final int OFFSET_DEGREE = OFFSET_SIZE + 8;
    static final int OFFSET_PRIMES = OFFSET_DEGREE + 8;
    static final int OFFSET_SCALE = OFFSET_PRIMES + 8;
    static final int OFFSET_CORRECTION = OFFSET_SCALE + 8;
    static final int OFFSET_DYNARRAY = OFFSET_CORRECTION + 8;
    static final int OFFSET_DATA = OFFSET_DYNARRAY + DYNARRAY_PREFIX_BYTES;

    private SealBytes() {}

    /** Exact size of an uncompressed 2-polynomial ciphertext with k primes of degree n. */
    static int ciphertextBytes(int n, int k) {
        return OFFSET_DATA + 2 * k * n * 8;
    }

    static void putLong(byte[] b, int at, long v) {
        for (int i = 0; i < 8; i++) {
            b[at + i] = (byte) (v >>> (8 * i));
        }
    }

    static long getLong(byte[] b, int at) {
        long v = 0;
        for (int i = 7; i >= 0; i--) {
            v = (v << 8) | (b[at + i] & 0xFFL);
        }
        return v;
    }

    static void putInt(byte[] b, int at, int v) {
        for (int i = 0; i < 4; i++) {
            b[at + i] = (byte) (v >>> (8 * i));
        }
    }

    static void putHeader(byte[] b, int at, long totalSize) {
        b[at] = (byte) MAGIC;
        b[at + 1] = (byte) (MAGIC >>> 8);
        b[at + 2] = HEADER_BYTES;
        b[at + 3] = VERSION_MAJOR;
        b[at + 4] = VERSION_MINOR;
        b[at + 5] = 0; // compression: none
        b[at + 6] = 0;
        b[at + 7] = 0;
        putLong(b, at + 8, totalSize);
    }

    /** Checks a header written by {@link #putHeader}; returns a reason, or null if it is fine. */
    static String checkHeader(byte[] b, int at, long expectedSize) {
        int magic = (b[at] & 0xFF) | (b[at + 1] & 0xFF) << 8;
        if (magic != MAGIC || b[at + 2] != HEADER_BYTES) {
            return "not a SEAL object (bad magic or header size)";
        }
        if (b[at + 3] != VERSION_MAJOR || b[at + 4] != VERSION_MINOR) {
            return "SEAL version " + b[at + 3] + "." + b[at + 4] + " unsupported, expected 4.0";
        }
        if (b[at + 5] != 0) {
            return "compressed objects are not accepted (mode " + b[at + 5] + ")";
        }
        if (b[at + 6] != 0 || b[at + 7] != 0) {
            return "reserved header bytes are not zero";
        }
        if (getLong(b, at + 8) != expectedSize) {
            return "header size field " + Long.toUnsignedString(getLong(b, at + 8)) + " is not " + expectedSize;
        }
        return null;
    }
}
