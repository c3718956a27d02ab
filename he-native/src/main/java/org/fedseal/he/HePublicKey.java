package org.fedseal.he;

import org.fedseal.he.internal.NativeHandle;
import org.fedseal.he.internal.NativeHe;

/**
 * A CKKS public key: what clients encrypt with. Public material, safe to publish. Thread-safe.
 * Serialized in full (not seed-compressed), so that any SEAL-compatible encryptor can use it.
 */
public final class HePublicKey implements AutoCloseable {
    private final HeContext context;
    final NativeHandle handle;

    HePublicKey(HeContext context, long pointer) {
        this.context = context;
        this.handle = new NativeHandle(this, pointer, NativeHe::publicKeyDestroy, "HePublicKey");
    }

    HeContext context() {
        return context;
    }

    /** The parameter set this key belongs to. */
    public HeParameters parameters() {
        return context.parameters();
    }

    /** SEAL's uncompressed serialization; load it with {@link HeContext#loadPublicKey(byte[])}. */
    public byte[] toBytes() {
        try (NativeHandle.Lease l = handle.lease()) {
            return NativeHe.publicKeySave(l.pointer());
        }
    }

    /** Frees the native key; harmless when called again. */
    @Override
    public void close() {
        handle.close();
    }

    @Override
    public String toString() {
        return "HePublicKey[" + parameters().id() + "]";
    }
}
