package org.fedseal.protocol.internal;

import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.Decoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.util.Utf8;

/**
 * An Avro binary {@link Decoder} over a byte array that never trusts a length or count prefix
 * beyond the bytes actually left: a hostile prefix cannot make it allocate more than the input
 * size. Assumes every array/map item encodes to at least one byte (true for all FedSeal schemas).
 * Not API.
 */
public final class BoundedDecoder extends Decoder {
    private final ByteArrayInputStream in;
    private final BinaryDecoder d;

    /** Decodes {@code data}. */
    public BoundedDecoder(byte[] data) {
        this.in = new ByteArrayInputStream(data);
        this.d = DecoderFactory.get().directBinaryDecoder(in, null);
    }

    /** Bytes not yet consumed. */
    public int remaining() {
        return in.available();
    }

    private int length() throws IOException {
        int len = d.readInt();
        if (len < 0) {
            throw new IOException("negative length " + len);
        }
        if (len > in.available()) {
            throw new EOFException("length " + len + " exceeds the " + in.available() + " bytes left");
        }
        return len;
    }

    private long count(long n) throws IOException {
        long abs = n < 0 ? -n : n;
        if (abs > in.available()) {
            throw new EOFException("item count " + n + " exceeds the " + in.available() + " bytes left");
        }
        if (n < 0) {
            // A negative block count is followed by the block's byte size.
            long size = d.readLong();
            if (size < 0 || size > in.available()) {
                throw new EOFException("bad block size " + size);
            }
            return abs;
        }
        return n;
    }

    @Override
    public void readNull() throws IOException {
        d.readNull();
    }

    @Override
    public boolean readBoolean() throws IOException {
        if (in.available() < 1) {
            throw new EOFException();
        }
        return d.readBoolean();
    }

    @Override
    public int readInt() throws IOException {
        return d.readInt();
    }

    @Override
    public long readLong() throws IOException {
        return d.readLong();
    }

    @Override
    public float readFloat() throws IOException {
        return d.readFloat();
    }

    @Override
    public double readDouble() throws IOException {
        return d.readDouble();
    }

    @Override
    public Utf8 readString(Utf8 old) throws IOException {
        byte[] b = new byte[length()];
        d.readFixed(b);
        return new Utf8(b);
    }

    @Override
    public String readString() throws IOException {
        byte[] b = new byte[length()];
        d.readFixed(b);
        return new String(b, StandardCharsets.UTF_8);
    }

    @Override
    public void skipString() throws IOException {
        d.skipFixed(length());
    }

    @Override
    public ByteBuffer readBytes(ByteBuffer old) throws IOException {
        byte[] b = new byte[length()];
        d.readFixed(b);
        return ByteBuffer.wrap(b);
    }

    @Override
    public void skipBytes() throws IOException {
        d.skipFixed(length());
    }

    @Override
    public void readFixed(byte[] bytes, int start, int length) throws IOException {
        if (length > in.available()) {
            throw new EOFException();
        }
        d.readFixed(bytes, start, length);
    }

    @Override
    public void skipFixed(int length) throws IOException {
        if (length > in.available()) {
            throw new EOFException();
        }
        d.skipFixed(length);
    }

    @Override
    public int readEnum() throws IOException {
        return d.readEnum();
    }

    @Override
    public long readArrayStart() throws IOException {
        return count(d.readLong());
    }

    @Override
    public long arrayNext() throws IOException {
        return count(d.readLong());
    }

    @Override
    public long skipArray() throws IOException {
        return count(d.readLong());
    }

    @Override
    public long readMapStart() throws IOException {
        return count(d.readLong());
    }

    @Override
    public long mapNext() throws IOException {
        return count(d.readLong());
    }

    @Override
    public long skipMap() throws IOException {
        return count(d.readLong());
    }

    @Override
    public int readIndex() throws IOException {
        return d.readIndex();
    }
}
