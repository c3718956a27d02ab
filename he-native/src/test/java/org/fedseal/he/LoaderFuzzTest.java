package org.fedseal.he;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Seeded random mutations of serialized ciphertexts and keys: every loader must either accept
 * (a coefficient changed within range is still a valid ciphertext: integrity is the job of the
 * signed chunk hashes) or throw {@link MalformedHeDataException}. Anything else — another
 * exception, a crash of the JVM — fails the run.
 */
class LoaderFuzzTest {
    private static final int CIPHERTEXT_CASES = 100_000;
    private static final int KEY_CASES = 5_000;

    static byte[] mutate(byte[] seed, Random rnd) {
        byte[] b;
        switch (rnd.nextInt(8)) {
            case 0 -> b = Arrays.copyOf(seed, rnd.nextInt(seed.length)); // truncate
            case 1 -> { // extend
                b = Arrays.copyOf(seed, seed.length + 1 + rnd.nextInt(64));
                for (int i = seed.length; i < b.length; i++) {
                    b[i] = (byte) rnd.nextInt();
                }
            }
            case 2 -> { // random bytes, random length
                b = new byte[rnd.nextInt(512)];
                rnd.nextBytes(b);
            }
            case 3 -> { // header region: our envelope and SEAL's header and metadata
                b = seed.clone();
                int flips = 1 + rnd.nextInt(4);
                for (int i = 0; i < flips; i++) {
                    b[rnd.nextInt(Math.min(b.length, 120))] ^= (byte) (1 << rnd.nextInt(8));
                }
            }
            case 4 -> { // a set of 64-bit words anywhere set to extreme values
                b = seed.clone();
                int at = rnd.nextInt(b.length - 8);
                long v = rnd.nextBoolean() ? -1L : Long.MAX_VALUE >>> rnd.nextInt(40);
                for (int i = 0; i < 8; i++) {
                    b[at + i] = (byte) (v >>> (8 * i));
                }
            }
            default -> { // random byte flips anywhere
                b = seed.clone();
                int flips = 1 + rnd.nextInt(8);
                for (int i = 0; i < flips; i++) {
                    b[rnd.nextInt(b.length)] ^= (byte) (1 + rnd.nextInt(255));
                }
            }
        }
        return b;
    }

    /** A public-key and a seeded symmetric ciphertext of {@code he}, serialized: what the mutations start from. */
    private static byte[][] seeds(HeContext he) throws Exception {
        try (HeKeyPair keys = he.generateKeys();
                VectorEncryptor pk = he.encryptor(keys.publicKey());
                VectorEncryptor sym = he.symmetricEncryptor(keys.secretKey(), Packing.COMPLEX);
                EncryptedVector a = pk.encrypt(new double[] {1, 2, 3});
                EncryptedVector b = sym.encrypt(new double[] {4, 5, 6})) {
            return new byte[][] {a.toBytes(), b.toBytes()};
        }
    }

    @Test
    void mutatedCiphertextsNeverCrash() throws Exception {
        try (HeContext he = HeContext.create(HeParameters.CKKS_8192)) {
            byte[][] seeds = seeds(he);
            Random rnd = new Random(20261125L);
            int accepted = 0;
            for (int i = 0; i < CIPHERTEXT_CASES; i++) {
                byte[] input = mutate(seeds[i & 1], rnd);
                try (EncryptedVector v = he.loadVector(input)) {
                    accepted++;
                    assertTrue(v.length() > 0);
                } catch (MalformedHeDataException expected) {
                    // the only acceptable failure
                }
            }
            System.out.printf(
                    "ciphertext fuzz: %d cases, %d accepted (in-range changes), rest rejected%n",
                    CIPHERTEXT_CASES, accepted);
            assertTrue(accepted < CIPHERTEXT_CASES / 2, "most mutations must be rejected");
        }
    }

    /** The loader without the coefficient check must refuse every structural mutation just as safely. */
    @Test
    void mutatedCiphertextsNeverCrashThePrevalidatedLoader() throws Exception {
        try (HeContext he = HeContext.create(HeParameters.CKKS_8192)) {
            byte[][] seeds = seeds(he);
            Random rnd = new Random(20261201L);
            int accepted = 0;
            for (int i = 0; i < CIPHERTEXT_CASES / 5; i++) {
                byte[] input = mutate(seeds[i & 1], rnd);
                // at an offset inside a larger array, as a summer reads it from a decoded record
                int offset = rnd.nextInt(16);
                byte[] framed = new byte[offset + input.length + rnd.nextInt(16)];
                System.arraycopy(input, 0, framed, offset, input.length);
                try (EncryptedVector v =
                        he.loadPrevalidatedVector(java.nio.ByteBuffer.wrap(framed, offset, input.length))) {
                    accepted++;
                    assertTrue(v.length() > 0);
                } catch (MalformedHeDataException expected) {
                    // the only acceptable failure
                }
            }
            assertTrue(accepted < CIPHERTEXT_CASES / 10, "most mutations must be rejected");
        }
    }

    @Test
    void mutatedKeysNeverCrash() throws Exception {
        try (HeContext he = HeContext.create(HeParameters.CKKS_8192);
                HeKeyPair keys = he.generateKeys()) {
            byte[] pkSeed = keys.publicKey().toBytes();
            byte[] skSeed = keys.secretKey().toBytes(SecretKeyAccess.insecureSecretKeyAccess());
            Random rnd = new Random(7);
            for (int i = 0; i < KEY_CASES; i++) {
                try (HePublicKey k = he.loadPublicKey(mutate(pkSeed, rnd))) {
                    assertTrue(k.toBytes().length == pkSeed.length);
                } catch (MalformedHeDataException expected) {
                    // fine
                }
                try (HeSecretKey k = he.loadSecretKey(mutate(skSeed, rnd), SecretKeyAccess.insecureSecretKeyAccess())) {
                    assertTrue(k.parameters() == HeParameters.CKKS_8192);
                } catch (MalformedHeDataException expected) {
                    // fine
                }
            }
        }
    }
}
