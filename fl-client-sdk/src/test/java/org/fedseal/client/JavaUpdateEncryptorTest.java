package org.fedseal.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.fedseal.he.EncryptedVector;
import org.fedseal.he.HeContext;
import org.fedseal.he.HeDecryptor;
import org.fedseal.he.HeKeyPair;
import org.fedseal.he.HeParameters;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.wire.ChunkLayout;
import org.junit.jupiter.api.Test;

/** Cross-test: JavaUpdateEncryptor's payloads are SealUpdateEncryptor's layout and decrypt with real SEAL. */
class JavaUpdateEncryptorTest {
    @Test
    void payloadsMatchSealLayoutAndDecryptWithSeal() throws Exception {
        try (HeContext he = HeContext.create(HeParameters.CKKS_8192);
                HeKeyPair keys = he.generateKeys();
                HeDecryptor dec = he.decryptor(keys.secretKey());
                SealUpdateEncryptor seal = SealUpdateEncryptor.of(he, keys.publicKey())) {
            byte[] pk = keys.publicKey().toBytes();
            JavaUpdateEncryptor java = JavaUpdateEncryptor.load(pk);
            assertEquals(seal.heParamsId(), java.heParamsId());
            assertEquals(seal.publicKeyHash(), java.publicKeyHash());
            assertEquals(Hash.sha256(pk), java.publicKeyHash());
            assertEquals(seal.valuesPerCiphertext(), java.valuesPerCiphertext());

            int n = 2 * 8192 + 1234; // three ciphertexts, the last one partial
            float[] values = new float[n];
            SplittableRandom r = new SplittableRandom(3);
            for (int i = 0; i < n; i++) {
                values[i] = (float) r.nextDouble(-50, 50);
            }
            ChunkLayout layout = JavaUpdateEncryptor.defaultLayout(n);
            assertEquals(SealUpdateEncryptor.defaultLayout(HeParameters.CKKS_8192, n), layout);
            List<byte[]> fromJava = java.encrypt(values, layout);
            List<byte[]> fromSeal = seal.encrypt(values, layout);
            assertEquals(3, fromJava.size());
            assertEquals(fromSeal.size(), fromJava.size());
            double maxErr = 0;
            for (int i = 0; i < fromJava.size(); i++) {
                assertEquals(fromSeal.get(i).length, fromJava.get(i).length, "payload " + i + " size");
                // same FSEV header (magic, version, packing, length, count)
                assertArrayEquals(
                        Arrays.copyOf(fromSeal.get(i), 20), Arrays.copyOf(fromJava.get(i), 20), "header " + i);
                try (EncryptedVector v = he.loadVector(fromJava.get(i));
                        EncryptedVector s = he.loadVector(fromSeal.get(i))) {
                    s.addInPlace(v); // SEAL adds the Java ciphertext to its own
                    double[] plain = dec.decrypt(v);
                    double[] twice = dec.decrypt(s);
                    int from = i * 8192;
                    int len = Math.min(8192, n - from);
                    assertEquals(len, plain.length);
                    for (int j = 0; j < len; j++) {
                        maxErr = Math.max(maxErr, Math.abs(plain[j] - values[from + j]));
                        maxErr = Math.max(maxErr, Math.abs(twice[j] - 2.0 * values[from + j]) / 2);
                    }
                }
            }
            assertTrue(maxErr < 1e-5, "max error " + maxErr);
        }
    }

    @Test
    void rejectsMismatchedLayoutsAndKeys() {
        assertThrows(IllegalArgumentException.class, () -> JavaUpdateEncryptor.load(new byte[100]));
    }
}
