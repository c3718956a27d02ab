package org.fedseal.he;

import java.util.Objects;
import org.fedseal.he.internal.NativeHandle;
import org.fedseal.he.internal.NativeHe;

/**
 * Encrypts vectors of any length into {@link EncryptedVector}s at the last level. Made by
 * {@link HeContext#encryptor(HePublicKey)} (public key) or
 * {@link HeContext#symmetricEncryptor(HeSecretKey, Packing)} (secret key, seed-compressed).
 * Thread-safe.
 */
public final class VectorEncryptor implements AutoCloseable {
    private final HeContext context;
    private final NativeHandle handle;
    private final Packing packing;
    private final boolean symmetric;

    VectorEncryptor(HeContext context, long pointer, Packing packing, boolean symmetric) {
        this.context = context;
        this.handle = new NativeHandle(this, pointer, NativeHe::encryptorDestroy, "VectorEncryptor");
        this.packing = Objects.requireNonNull(packing, "packing");
        this.symmetric = symmetric;
    }

    /** The packing of the vectors this encryptor makes. */
    public Packing packing() {
        return packing;
    }

    /**
     * Encrypts {@code values} (finite, at least one). Values are encoded at scale
     * {@link HeParameters#scale()}: sums of them must fit {@link HeParameters#maxSumNorm()}.
     */
    public EncryptedVector encrypt(double[] values) {
        Objects.requireNonNull(values, "values");
        if (values.length == 0) {
            throw new IllegalArgumentException("cannot encrypt an empty vector");
        }
        long p;
        try (NativeHandle.Lease c = context.handle.lease();
                NativeHandle.Lease e = handle.lease()) {
            p = NativeHe.encrypt(c.pointer(), e.pointer(), values, packing == Packing.COMPLEX);
        }
        return new EncryptedVector(context, p, values.length, packing);
    }

    /** Encrypts float values (widened to double). */
    public EncryptedVector encrypt(float[] values) {
        Objects.requireNonNull(values, "values");
        double[] wide = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            wide[i] = values[i];
        }
        return encrypt(wide);
    }

    /** Frees the native encryptor; harmless when called again. */
    @Override
    public void close() {
        handle.close();
    }

    @Override
    public String toString() {
        return "VectorEncryptor[" + context.parameters().id() + ", " + packing
                + (symmetric ? ", symmetric" : ", public-key") + "]";
    }
}
