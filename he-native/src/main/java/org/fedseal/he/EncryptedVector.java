package org.fedseal.he;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.fedseal.he.internal.NativeHandle;
import org.fedseal.he.internal.NativeHe;

/**
 * A vector of {@link #length()} values encrypted as CKKS ciphertexts at the last level.
 *
 * <p>Supports what aggregation needs: in-place addition, multiplication by an integer weight,
 * and serialization. Methods are synchronized, so one vector may be shared between threads;
 * {@link #close()} waits for a call in progress.
 *
 * <p>Wire form ({@link #toBytes()}), little-endian: magic {@code "FSEV"}, format version (1
 * byte), packing (1 byte), 2 zero bytes, length (int), ciphertext count (int), then per
 * ciphertext its size (int) and SEAL's uncompressed serialization. The uncompressed form is
 * canonical, so equal vectors have equal bytes and hashes.
 */
public final class EncryptedVector implements AutoCloseable {
    static final int MAGIC = 0x56455346; // "FSEV" little-endian
    static final int FORMAT_VERSION = 1;
    static final int HEADER_BYTES = 16;

    private final HeContext context;
    final NativeHandle handle;
    private final int length;
    private final Packing packing;

    EncryptedVector(HeContext context, long pointer, int length, Packing packing) {
        this.context = context;
        this.handle = new NativeHandle(this, pointer, NativeHe::vectorDestroy, "EncryptedVector");
        this.length = length;
        this.packing = packing;
    }

    HeContext context() {
        return context;
    }

    /** The parameter set of the ciphertexts. */
    public HeParameters parameters() {
        return context.parameters();
    }

    /** How many values the vector encrypts. */
    public int length() {
        return length;
    }

    /** How values are packed into slots. */
    public Packing packing() {
        return packing;
    }

    /** How many ciphertexts carry the values. */
    public int ciphertextCount() {
        return context.parameters().ciphertextsFor(length, packing);
    }

    /**
     * Adds {@code other} into this vector, value by value. Both must have the same parameters,
     * packing and length. Exact modular arithmetic: the result does not depend on the order of
     * additions.
     */
    public void addInPlace(EncryptedVector other) {
        if (other == this) {
            throw new IllegalArgumentException("cannot add a vector to itself in place; copy() it first");
        }
        requireCompatible(other);
        // Lock in a global order so that a.add(b) and b.add(a) on two threads cannot deadlock.
        EncryptedVector first = System.identityHashCode(this) <= System.identityHashCode(other) ? this : other;
        EncryptedVector second = first == this ? other : this;
        synchronized (first) {
            synchronized (second) {
                try (NativeHandle.Lease c = context.handle.lease();
                        NativeHandle.Lease t = handle.lease();
                        NativeHandle.Lease o = other.handle.lease()) {
                    NativeHe.vectorAdd(c.pointer(), t.pointer(), o.pointer());
                }
            }
        }
    }

    /**
     * Multiplies every value by a non-zero integer, exactly and without changing the scale (e.g.
     * a client's sample count as its FedAvg weight). Mind the headroom: results must fit
     * {@link HeParameters#maxSumNorm()}.
     */
    public synchronized void multiplyInPlace(long factor) {
        if (factor == 0) {
            throw new IllegalArgumentException("factor must be non-zero");
        }
        try (NativeHandle.Lease c = context.handle.lease();
                NativeHandle.Lease t = handle.lease()) {
            NativeHe.vectorMultiply(c.pointer(), t.pointer(), factor);
        }
    }

    /** An independent copy. */
    public synchronized EncryptedVector copy() {
        try (NativeHandle.Lease c = context.handle.lease();
                NativeHandle.Lease t = handle.lease()) {
            return new EncryptedVector(context, NativeHe.vectorCopy(c.pointer(), t.pointer()), length, packing);
        }
    }

    /** The wire form; load it with {@link HeContext#loadVector(byte[])}. */
    public synchronized byte[] toBytes() {
        try (NativeHandle.Lease c = context.handle.lease();
                NativeHandle.Lease t = handle.lease()) {
            int[] sizes = NativeHe.vectorSaveSizes(c.pointer(), t.pointer());
            int total = HEADER_BYTES;
            for (int size : sizes) {
                total = Math.addExact(total, 4 + size);
            }
            ByteBuffer out = ByteBuffer.allocate(total).order(ByteOrder.LITTLE_ENDIAN);
            out.putInt(MAGIC)
                    .put((byte) FORMAT_VERSION)
                    .put((byte) packing.ordinal())
                    .putShort((short) 0);
            out.putInt(length).putInt(sizes.length);
            int[] offsets = new int[sizes.length];
            for (int i = 0; i < sizes.length; i++) {
                out.putInt(sizes[i]);
                offsets[i] = out.position();
                out.position(offsets[i] + sizes[i]);
            }
            // SEAL writes each ciphertext straight into its place in the result
            NativeHe.vectorSaveInto(c.pointer(), t.pointer(), out.array(), offsets, sizes);
            return out.array();
        }
    }

    private void requireCompatible(EncryptedVector other) {
        context.requireSameParameters(other.context);
        if (other.packing != packing || other.length != length) {
            throw new IllegalArgumentException("cannot add a vector of " + other.length + " values (" + other.packing
                    + ") to one of " + length + " (" + packing + ")");
        }
    }

    /** Whether {@link #close()} has run. */
    public boolean isClosed() {
        return handle.isClosed();
    }

    /** Frees the ciphertexts; harmless when called again. Using the vector afterwards throws. */
    @Override
    public void close() {
        handle.close();
    }

    @Override
    public String toString() {
        return "EncryptedVector[" + context.parameters().id() + ", " + length + " values, " + packing + "]";
    }
}
