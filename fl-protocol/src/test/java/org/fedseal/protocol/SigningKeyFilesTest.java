package org.fedseal.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The one parser of signing-key files: DER, PEM and base64 give the same key; anything else a clear error. */
class SigningKeyFilesTest {
    private final SigningKeyPair pair = SigningKeyPair.generate();
    private final byte[] der = pair.privateKey().exportPkcs8();

    @Test
    void derPemAndBase64AreTheSameKey(@TempDir Path dir) throws Exception {
        String b64 = Base64.getEncoder().encodeToString(der);
        String pem = "-----BEGIN PRIVATE KEY-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                        .encodeToString(der) + "\n-----END PRIVATE KEY-----\n";
        byte[] message = "round 7".getBytes(StandardCharsets.UTF_8);
        for (byte[] content : new byte[][] {
            der, pem.getBytes(StandardCharsets.US_ASCII), (b64 + "\n").getBytes(StandardCharsets.US_ASCII)
        }) {
            assertArrayEquals(der, SigningPrivateKey.decodePkcs8(content));
            Path f = Files.write(dir.resolve("key"), content);
            byte[] sig = SigningPrivateKey.readPkcs8(f).sign(message);
            assertTrue(pair.publicKey().verify(message, sig));
        }
    }

    @Test
    void otherContentIsRefusedWithoutEchoingIt(@TempDir Path dir) throws Exception {
        String publicPem = "-----BEGIN PUBLIC KEY-----\n"
                + Base64.getEncoder().encodeToString(pair.publicKey().toX509()) + "\n-----END PUBLIC KEY-----\n";
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> SigningPrivateKey.decodePkcs8(publicPem.getBytes(StandardCharsets.US_ASCII)));
        assertTrue(e.getMessage().contains("BEGIN PRIVATE KEY"), e.getMessage());
        assertThrows(
                IllegalArgumentException.class,
                () -> SigningPrivateKey.decodePkcs8("not a key!".getBytes(StandardCharsets.US_ASCII)));
        String wrongB64 = Base64.getEncoder().encodeToString(new byte[48]);
        e = assertThrows(
                IllegalArgumentException.class,
                () -> SigningPrivateKey.decodePkcs8(wrongB64.getBytes(StandardCharsets.US_ASCII)));
        assertFalse(e.getMessage().contains(wrongB64));
        Path f = Files.write(dir.resolve("signing.key"), new byte[] {0x30, 0x01, 0x00});
        e = assertThrows(IllegalArgumentException.class, () -> SigningPrivateKey.readPkcs8(f));
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
    }
}
