package org.fedseal.he;

import org.fedseal.he.internal.NativeHandle;
import org.fedseal.he.internal.NativeHe;

/** Decrypts and decodes {@link EncryptedVector}s with a secret key. Thread-safe. */
public final class HeDecryptor implements AutoCloseable {
    private final HeContext context;
    private final NativeHandle handle;

    HeDecryptor(HeContext context, long pointer) {
        this.context = context;
        this.handle = new NativeHandle(this, pointer, NativeHe::decryptorDestroy, "HeDecryptor");
    }

    /** The {@link EncryptedVector#length()} values the vector encrypts, to CKKS precision. */
    public double[] decrypt(EncryptedVector vector) {
        context.requireSameParameters(vector.context());
        synchronized (vector) {
            try (NativeHandle.Lease c = context.handle.lease();
                    NativeHandle.Lease d = handle.lease();
                    NativeHandle.Lease v = vector.handle.lease()) {
                return NativeHe.decrypt(
                        c.pointer(), d.pointer(), v.pointer(), vector.packing() == Packing.COMPLEX, vector.length());
            }
        }
    }

    /** Frees the native decryptor; harmless when called again. */
    @Override
    public void close() {
        handle.close();
    }

    @Override
    public String toString() {
        return "HeDecryptor[" + context.parameters().id() + "]";
    }
}
