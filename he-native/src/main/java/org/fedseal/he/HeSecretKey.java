package org.fedseal.he;

import java.util.Objects;
import org.fedseal.he.internal.NativeHandle;
import org.fedseal.he.internal.NativeHe;

/**
 * A CKKS secret key. Its bytes leave memory only through {@link #toBytes(SecretKeyAccess)};
 * {@link #toString()} never shows them. Thread-safe.
 */
public final class HeSecretKey implements AutoCloseable {
    private final HeContext context;
    final NativeHandle handle;

    HeSecretKey(HeContext context, long pointer) {
        this.context = context;
        this.handle = new NativeHandle(this, pointer, NativeHe::secretKeyDestroy, "HeSecretKey");
    }

    HeContext context() {
        return context;
    }

    /** The parameter set this key belongs to. */
    public HeParameters parameters() {
        return context.parameters();
    }

    /**
     * The key's serialized bytes. Whoever reads them can decrypt every ciphertext made under the
     * matching public key: store them encrypted at rest, never log them.
     */
    public byte[] toBytes(SecretKeyAccess access) {
        Objects.requireNonNull(access, "access");
        try (NativeHandle.Lease l = handle.lease()) {
            return NativeHe.secretKeySave(l.pointer());
        }
    }

    /** Frees the native key; harmless when called again. */
    @Override
    public void close() {
        handle.close();
    }

    @Override
    public String toString() {
        return "HeSecretKey[" + parameters().id() + ", material redacted]";
    }
}
