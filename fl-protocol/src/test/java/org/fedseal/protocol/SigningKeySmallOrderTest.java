package org.fedseal.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.util.HexFormat;
import java.util.Map;
import org.fedseal.protocol.wire.UpdateCommit;
import org.junit.jupiter.api.Test;

/**
 * Issue 14, case 4: a client enrolled with a small-order Ed25519 key (the identity {@code 01 00…00},
 * or {@code 00…00}) could have commits "signed" with R = identity, S = 0 by anyone.
 */
class SigningKeySmallOrderTest {
    static final String IDENTITY = "01" + "00".repeat(31);
    static final String ZERO = "00".repeat(32);
    /** X.509 SubjectPublicKeyInfo header of an Ed25519 key (RFC 8410 §4); the raw 32 key bytes follow. */
    private static final String X509_HEADER = "302a300506032b6570032100";

    /** The X.509 encoding of the raw (RFC 8032) public key {@code rawHex}. */
    static byte[] x509(String rawHex) {
        return HexFormat.of().parseHex(X509_HEADER + rawHex);
    }

    @Test
    void identityAndAllZeroKeysAreRefused() {
        for (String raw : new String[] {IDENTITY, ZERO}) {
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> SigningPublicKey.fromX509(x509(raw)));
            assertEquals("small-order Ed25519 public key", e.getMessage(), raw);
        }
    }

    @Test
    void forgedCommitSignatureWithoutPrivateKey() throws Exception {
        UpdateCommit commit = (UpdateCommit) WireCodecTest.samples().get(2);
        byte[] forged = HexFormat.of().parseHex(IDENTITY + ZERO); // R = identity, S = 0
        byte[] message = Signatures.signedMessage(commit);

        // The JDK alone parses the identity key and accepts the forgery for any message:
        // [S]B = [0]B = identity = R + [k]A, whatever k = SHA-512(R || A || M).
        PublicKey identity = KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(x509(IDENTITY)));
        Signature jdk = Signature.getInstance("Ed25519");
        jdk.initVerify(identity);
        jdk.update(message);
        assertTrue(jdk.verify(forged), "the JDK accepts the forgery; if not, this test no longer shows the attack");

        // FedSeal never lets such a key in, so no commit can be verified against it.
        assertThrows(IllegalArgumentException.class, () -> SigningPublicKey.fromX509(x509(IDENTITY)));
    }

    @Test
    void nonCanonicalAndOffCurveKeysAreRefused() {
        // All parse with the JDK's KeyFactory (it decodes lazily, on first verification).
        Map<String, String> refused = Map.of(
                "01" + "00".repeat(30) + "80",
                        "non-canonical Ed25519 public key encoding", // identity, x = 0 with the sign bit
                "ed" + "ff".repeat(30) + "7f", "non-canonical Ed25519 public key encoding", // y = p
                "ee" + "ff".repeat(30) + "7f",
                        "non-canonical Ed25519 public key encoding", // y = p + 1, i.e. the identity
                "02" + "00".repeat(31),
                        "Ed25519 public key is not a curve point"); // (y^2 - 1) / (d y^2 + 1) is no square
        refused.forEach((raw, message) -> {
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> SigningPublicKey.fromX509(x509(raw)));
            assertEquals(message, e.getMessage(), raw);
        });
    }

    @Test
    void generatedKeysStillWork() {
        for (int i = 0; i < 20; i++) {
            SigningKeyPair kp = SigningKeyPair.generate();
            SigningPublicKey again = SigningPublicKey.fromX509(kp.publicKey().toX509());
            byte[] msg = {(byte) i};
            assertTrue(again.verify(msg, kp.privateKey().sign(msg)));
        }
    }
}
