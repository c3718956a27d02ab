package org.fedseal.he.bench;

import org.fedseal.he.EncryptedVector;
import org.fedseal.he.HeContext;
import org.fedseal.he.HeKeyPair;
import org.fedseal.he.HeParameters;
import org.fedseal.he.Packing;
import org.fedseal.he.VectorEncryptor;

/** Prints bytes per model parameter on the wire for each parameter set and serialization variant. */
public final class WireSizes {
    private WireSizes() {}

    public static void main(String[] args) {
        System.out.printf(
                "%-16s %-8s %-22s %12s %12s%n", "parameters", "packing", "variant", "bytes/ct", "bytes/param");
        for (HeParameters p : HeParameters.all()) {
            try (HeContext he = HeContext.create(p);
                    HeKeyPair keys = he.generateKeys()) {
                for (Packing packing : Packing.values()) {
                    int n = p.valuesPerCiphertext(packing) * 8;
                    double[] v = new double[n];
                    try (VectorEncryptor pk = he.encryptor(keys.publicKey(), packing);
                            VectorEncryptor sym = he.symmetricEncryptor(keys.secretKey(), packing);
                            EncryptedVector a = pk.encrypt(v);
                            EncryptedVector b = sym.encrypt(v)) {
                        row(p, packing, "public-key, last level", a.toBytes().length, n, he.ciphertextBytes(false));
                        row(p, packing, "secret-key seeded", b.toBytes().length, n, he.ciphertextBytes(true));
                    }
                }
            }
        }
        System.out.printf("%-16s %-8s %-22s %12s %12.3f%n", "plaintext", "-", "float32", "-", 4.0);
    }

    private static void row(HeParameters p, Packing packing, String variant, int bytes, int n, int perCt) {
        System.out.printf("%-16s %-8s %-22s %12d %12.3f%n", p.id(), packing, variant, perCt, (double) bytes / n);
    }
}
