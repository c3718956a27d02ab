package org.fedseal.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HexFormat;
import org.fedseal.protocol.wire.AggregatePublished;
import org.fedseal.protocol.wire.ModelVersionPublished;
import org.fedseal.protocol.wire.UpdateCommit;
import org.junit.jupiter.api.Test;

class SignaturesTest {
    SigningKeyPair kp = SigningKeyPair.generate();

    @Test
    void privateKeyMaterialNeverInToString() {
        byte[] pkcs8 = kp.privateKey().exportPkcs8();
        String hex = HexFormat.of().formatHex(pkcs8);
        String raw = HexFormat.of().formatHex(java.util.Arrays.copyOfRange(pkcs8, pkcs8.length - 32, pkcs8.length));
        for (String s : new String[] {kp.privateKey().toString(), kp.toString(), String.valueOf(kp.privateKey())}) {
            assertFalse(s.toLowerCase().contains(raw), s);
            assertFalse(s.toLowerCase().contains(hex), s);
            assertFalse(s.contains(java.util.Base64.getEncoder().encodeToString(pkcs8)), s);
        }
        assertTrue(kp.privateKey().toString().contains("redacted"));
    }

    @Test
    void keysRoundTripThroughTheirEncodings() {
        SigningPublicKey pub = SigningPublicKey.fromX509(kp.publicKey().toX509());
        assertEquals(kp.publicKey(), pub);
        assertEquals(kp.publicKey().fingerprint(), pub.fingerprint());
        SigningPrivateKey priv = SigningPrivateKey.importPkcs8(kp.privateKey().exportPkcs8());
        SigningKeyPair again = SigningKeyPair.of(pub, priv);
        byte[] msg = {1, 2, 3};
        assertTrue(again.publicKey().verify(msg, priv.sign(msg)));
        assertThrows(
                IllegalArgumentException.class,
                () -> SigningKeyPair.of(SigningKeyPair.generate().publicKey(), priv));
        assertThrows(IllegalArgumentException.class, () -> SigningPublicKey.fromX509(new byte[] {1, 2}));
        assertThrows(IllegalArgumentException.class, () -> SigningPrivateKey.importPkcs8(new byte[] {1, 2}));
    }

    @Test
    void signedRecordsVerifyAndAlterationsFail() {
        var samples = WireCodecTest.samples();
        UpdateCommit commit = (UpdateCommit) samples.get(2);
        AggregatePublished agg = (AggregatePublished) samples.get(7);
        ModelVersionPublished mv = (ModelVersionPublished) samples.get(8);
        SigningPublicKey k = WireCodecTest.KEY.publicKey();
        assertTrue(Signatures.verify(commit, k));
        assertTrue(Signatures.verify(agg, k));
        assertTrue(Signatures.verify(mv, k));
        assertEquals(CanonicalHash.versionHash(mv), Hash.of(mv.getVersionHash()));
        assertFalse(
                Signatures.verify(UpdateCommit.newBuilder(commit).setRound(4).build(), k));
        assertFalse(Signatures.verify(
                AggregatePublished.newBuilder(agg).setAcceptedCount(2).build(), k));
        assertFalse(Signatures.verify(
                ModelVersionPublished.newBuilder(mv)
                        .setParentHash(Fixtures.empty())
                        .build(),
                k));
        assertFalse(Signatures.verify(commit, kp.publicKey()));
        // Signing does not modify the argument.
        UpdateCommit unsigned =
                UpdateCommit.newBuilder(commit).setSignature(Fixtures.empty()).build();
        UpdateCommit signed = Signatures.sign(unsigned, kp.privateKey());
        assertEquals(0, unsigned.getSignature().remaining());
        assertArrayEquals(CanonicalHash.canonicalBytes(unsigned), CanonicalHash.canonicalBytes(signed));
    }
}
