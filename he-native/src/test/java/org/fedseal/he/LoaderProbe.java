package org.fedseal.he;

import java.util.function.DoubleSupplier;

/**
 * Encrypts and decrypts a few values with SEAL and returns the largest error; loaded by
 * {@link NativeLibraryClassLoaderTest} in class loaders of their own.
 */
public final class LoaderProbe implements DoubleSupplier {
    @Override
    public double getAsDouble() {
        double[] values = {1.5, -2.25, 3.125, 0};
        try (HeContext he = HeContext.create(HeParameters.CKKS_8192);
                HeKeyPair keys = he.generateKeys();
                VectorEncryptor enc = he.encryptor(keys.publicKey());
                HeDecryptor dec = he.decryptor(keys.secretKey());
                EncryptedVector v = enc.encrypt(values)) {
            double[] back = dec.decrypt(v);
            double max = 0;
            for (int i = 0; i < values.length; i++) {
                max = Math.max(max, Math.abs(values[i] - back[i]));
            }
            return max;
        }
    }
}
