package org.fedseal.protocol;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;

/**
 * An immutable SHA-256 digest (exactly 32 bytes). {@link #toString()} is lower-case hex.
 * Ordering ({@link #compareTo}) is unsigned lexicographic over the bytes, which equals hex string order.
 */
public final class Hash implements Comparable<Hash> {
    /** Length of a SHA-256 digest in bytes. */
    public static final int LENGTH = 32;

    private static final HexFormat HEX = HexFormat.of();
    private final byte[] bytes;

    private Hash(byte[] bytes) {
        this.bytes = bytes;
    }

    /**
     * Wraps a copy of {@code bytes}.
     *
     * @throws IllegalArgumentException if not 32 bytes
     */
    public static Hash of(byte[] bytes) {
        Objects.requireNonNull(bytes, "bytes");
        if (bytes.length != LENGTH) {
            throw new IllegalArgumentException("a hash is " + LENGTH + " bytes, got " + bytes.length);
        }
        return new Hash(bytes.clone());
    }

    /** Reads the remaining bytes of {@code buffer} (position unchanged). @throws IllegalArgumentException if not 32 bytes */
    public static Hash of(ByteBuffer buffer) {
        Objects.requireNonNull(buffer, "buffer");
        ByteBuffer d = buffer.duplicate();
        byte[] b = new byte[d.remaining()];
        d.get(b);
        return of(b);
    }

    /** Parses 64 hex characters. @throws IllegalArgumentException if malformed */
    public static Hash fromHex(String hex) {
        Objects.requireNonNull(hex, "hex");
        if (hex.length() != 2 * LENGTH) {
            throw new IllegalArgumentException("a hash is " + 2 * LENGTH + " hex characters, got " + hex.length());
        }
        return new Hash(HEX.parseHex(hex));
    }

    /** SHA-256 of {@code data}. */
    public static Hash sha256(byte[] data) {
        return new Hash(newDigest().digest(data));
    }

    /** SHA-256 of {@code length} bytes of {@code data} from {@code offset}, without copying them. */
    public static Hash sha256(byte[] data, int offset, int length) {
        MessageDigest md = newDigest();
        md.update(data, offset, length);
        return new Hash(md.digest());
    }

    /** SHA-256 of the concatenation of the parts. */
    public static Hash sha256(byte[]... parts) {
        MessageDigest md = newDigest();
        for (byte[] p : parts) {
            md.update(p);
        }
        return new Hash(md.digest());
    }

    /** A fresh SHA-256 {@link MessageDigest} from the JDK. */
    public static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }

    /** A copy of the 32 bytes. */
    public byte[] bytes() {
        return bytes.clone();
    }

    /** The bytes as a new read-only-safe heap buffer (a copy), for Avro {@code bytes} fields. */
    public ByteBuffer toByteBuffer() {
        return ByteBuffer.wrap(bytes.clone());
    }

    /** Lower-case hex, 64 characters. */
    public String toHex() {
        return HEX.formatHex(bytes);
    }

    /** True if {@code other} holds exactly these bytes. */
    public boolean matches(ByteBuffer other) {
        if (other == null || other.remaining() != LENGTH) {
            return false;
        }
        return other.duplicate().equals(ByteBuffer.wrap(bytes));
    }

    @Override
    public int compareTo(Hash o) {
        return Arrays.compareUnsigned(bytes, o.bytes);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Hash h && MessageDigest.isEqual(bytes, h.bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }

    @Override
    public String toString() {
        return toHex();
    }

    /** Package-internal access without copying. */
    byte[] raw() {
        return bytes;
    }
}
