package org.fedseal.protocol;

import java.nio.ByteBuffer;

/**
 * Byte helpers for Avro's {@code bytes} fields, which arrive as {@link ByteBuffer}s: copies that
 * never move the buffer's position.
 */
public final class Bytes {
    private Bytes() {}

    /** Copy of the remaining bytes of {@code b}, without moving its position; empty for null. */
    public static byte[] toArray(ByteBuffer b) {
        if (b == null) {
            return new byte[0];
        }
        ByteBuffer d = b.duplicate();
        byte[] out = new byte[d.remaining()];
        d.get(out);
        return out;
    }
}
