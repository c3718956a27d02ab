package org.fedseal.protocol.internal;

import java.nio.ByteBuffer;

/** Internal byte helpers. Not API. */
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

    /** Wraps a defensive copy. */
    public static ByteBuffer wrapCopy(byte[] b) {
        return ByteBuffer.wrap(b.clone());
    }

    /** Remaining length, 0 for null. */
    public static int length(ByteBuffer b) {
        return b == null ? 0 : b.remaining();
    }
}
