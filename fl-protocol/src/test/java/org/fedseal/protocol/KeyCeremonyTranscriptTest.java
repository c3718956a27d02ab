package org.fedseal.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.fedseal.protocol.KeyCeremonyTranscript.RejectedException;
import org.fedseal.protocol.KeyCeremonyTranscript.Rejection;
import org.fedseal.protocol.wire.CeremonyPhase;
import org.fedseal.protocol.wire.KeyCeremonyMessage;
import org.fedseal.protocol.wire.KeyCeremonyOpened;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class KeyCeremonyTranscriptTest {
    private static final List<String> HOLDERS = List.of("kh-1", "kh-2", "kh-3");
    private final SigningKeyPair registry = SigningKeyPair.generate();
    private final Map<String, SigningKeyPair> holders = new HashMap<>();
    private final Random random = new Random(7);
    private KeyCeremonyOpened opened;

    @BeforeEach
    void open() {
        for (String h : HOLDERS) {
            holders.put(h, SigningKeyPair.generate());
        }
        opened = Signatures.signRecord(
                KeyCeremonyOpened.newBuilder()
                        .setCeremonyId("c-1")
                        .setModelId("m")
                        .setHeParamsId("ckks-8192-t50-v1")
                        .setHolderIds(HOLDERS)
                        .setOpenedAtEpochMillis(1)
                        .setSignature(ByteBuffer.allocate(0))
                        .build(),
                registry.privateKey());
    }

    private KeyCeremonyTranscript transcript() {
        Map<String, SigningPublicKey> keys = new HashMap<>();
        holders.forEach((id, kp) -> keys.put(id, kp.publicKey()));
        return KeyCeremonyTranscript.open(opened, registry.publicKey(), keys);
    }

    private KeyCeremonyMessage msg(String holder, CeremonyPhase phase, byte[] payload) {
        return KeyCeremonyTranscript.sign(
                "c-1", holder, phase, payload, holders.get(holder).privateKey());
    }

    private byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }

    /** Runs the first two phases; returns each holder's key share (committed to). */
    private Map<String, byte[]> throughCommitments(KeyCeremonyTranscript t) throws RejectedException {
        for (String h : HOLDERS) {
            assertTrue(t.accept(msg(h, CeremonyPhase.SEED_CONTRIBUTION, randomBytes(32))));
        }
        Map<String, byte[]> shares = new HashMap<>();
        for (String h : HOLDERS) {
            byte[] share = randomBytes(1000);
            shares.put(h, share);
            assertTrue(t.accept(msg(
                    h, CeremonyPhase.KEY_SHARE_COMMITMENT, Hash.sha256(share).bytes())));
        }
        return shares;
    }

    @Test
    void anHonestCeremonyCompletesWithEveryShareInHolderOrder() throws Exception {
        KeyCeremonyTranscript t = transcript();
        Map<String, byte[]> shares = throughCommitments(t);
        assertTrue(t.isComplete(CeremonyPhase.KEY_SHARE_COMMITMENT));
        assertFalse(t.isComplete());
        for (String h : List.of("kh-3", "kh-1", "kh-2")) {
            assertTrue(t.accept(msg(h, CeremonyPhase.KEY_SHARE, shares.get(h))));
        }
        assertTrue(t.isComplete());
        List<byte[]> revealed = t.payloads(CeremonyPhase.KEY_SHARE);
        for (int i = 0; i < HOLDERS.size(); i++) {
            assertArrayEquals(shares.get(HOLDERS.get(i)), revealed.get(i));
        }
        assertEquals(3, t.payloads(CeremonyPhase.SEED_CONTRIBUTION).size());
    }

    @Test
    void aShareThatDoesNotMatchItsCommitmentIsRejected() throws Exception {
        KeyCeremonyTranscript t = transcript();
        Map<String, byte[]> shares = throughCommitments(t);
        t.accept(msg("kh-1", CeremonyPhase.KEY_SHARE, shares.get("kh-1")));
        t.accept(msg("kh-2", CeremonyPhase.KEY_SHARE, shares.get("kh-2")));
        // the rogue-key attempt: kh-3 saw the others' shares and now wants to reveal a different one
        RejectedException e = assertThrows(
                RejectedException.class, () -> t.accept(msg("kh-3", CeremonyPhase.KEY_SHARE, randomBytes(1000))));
        assertEquals(Rejection.COMMITMENT_MISMATCH, e.reason());
        assertFalse(t.isComplete());
        assertEquals(java.util.Set.of("kh-3"), t.missing(CeremonyPhase.KEY_SHARE));
    }

    @Test
    void messagesBeforeThePreviousPhaseCompletesAreRejected() throws Exception {
        KeyCeremonyTranscript t = transcript();
        t.accept(msg("kh-1", CeremonyPhase.SEED_CONTRIBUTION, randomBytes(32)));
        RejectedException e = assertThrows(
                RejectedException.class,
                () -> t.accept(msg("kh-1", CeremonyPhase.KEY_SHARE_COMMITMENT, randomBytes(32))));
        assertEquals(Rejection.OUT_OF_ORDER, e.reason());
        assertEquals(
                Rejection.OUT_OF_ORDER,
                assertThrows(
                                RejectedException.class,
                                () -> t.accept(msg("kh-2", CeremonyPhase.UNKNOWN, randomBytes(32))))
                        .reason());
    }

    @Test
    void forgedForeignAndMalformedMessagesAreRejected() throws Exception {
        KeyCeremonyTranscript t = transcript();
        KeyCeremonyMessage forged = KeyCeremonyTranscript.sign(
                "c-1",
                "kh-1",
                CeremonyPhase.SEED_CONTRIBUTION,
                randomBytes(32),
                SigningKeyPair.generate().privateKey());
        assertEquals(
                Rejection.BAD_SIGNATURE,
                assertThrows(RejectedException.class, () -> t.accept(forged)).reason());
        KeyCeremonyMessage outsider = KeyCeremonyTranscript.sign(
                "c-1",
                "mallory",
                CeremonyPhase.SEED_CONTRIBUTION,
                randomBytes(32),
                SigningKeyPair.generate().privateKey());
        assertEquals(
                Rejection.UNKNOWN_HOLDER,
                assertThrows(RejectedException.class, () -> t.accept(outsider)).reason());
        KeyCeremonyMessage otherCeremony = KeyCeremonyTranscript.sign(
                "c-2",
                "kh-1",
                CeremonyPhase.SEED_CONTRIBUTION,
                randomBytes(32),
                holders.get("kh-1").privateKey());
        assertEquals(
                Rejection.WRONG_CEREMONY,
                assertThrows(RejectedException.class, () -> t.accept(otherCeremony))
                        .reason());
        assertEquals(
                Rejection.BAD_PAYLOAD,
                assertThrows(
                                RejectedException.class,
                                () -> t.accept(msg("kh-1", CeremonyPhase.SEED_CONTRIBUTION, randomBytes(31))))
                        .reason());
        byte[] contribution = randomBytes(32);
        t.accept(msg("kh-1", CeremonyPhase.SEED_CONTRIBUTION, contribution));
        assertEquals(
                Rejection.BAD_PAYLOAD,
                assertThrows(
                                RejectedException.class,
                                () -> t.accept(msg("kh-2", CeremonyPhase.SEED_CONTRIBUTION, contribution)))
                        .reason(),
                "a copied contribution");
        assertEquals(java.util.Set.of("kh-2", "kh-3"), t.missing(CeremonyPhase.SEED_CONTRIBUTION));
    }

    @Test
    void aDuplicateIsHarmlessAndADifferentSecondMessageIsEquivocation() throws Exception {
        KeyCeremonyTranscript t = transcript();
        KeyCeremonyMessage first = msg("kh-1", CeremonyPhase.SEED_CONTRIBUTION, randomBytes(32));
        assertTrue(t.accept(first));
        assertFalse(t.accept(first));
        assertEquals(
                Rejection.EQUIVOCATION,
                assertThrows(
                                RejectedException.class,
                                () -> t.accept(msg("kh-1", CeremonyPhase.SEED_CONTRIBUTION, randomBytes(32))))
                        .reason());
    }

    @Test
    void theOpeningRecordMustBeTheRegistrysAndNameDistinctEnrolledHolders() {
        Map<String, SigningPublicKey> keys = new HashMap<>();
        holders.forEach((id, kp) -> keys.put(id, kp.publicKey()));
        assertThrows(
                IllegalArgumentException.class,
                () -> KeyCeremonyTranscript.open(
                        opened, SigningKeyPair.generate().publicKey(), keys));
        keys.remove("kh-2");
        assertThrows(
                IllegalArgumentException.class, () -> KeyCeremonyTranscript.open(opened, registry.publicKey(), keys));
        KeyCeremonyOpened twice = Signatures.signRecord(
                KeyCeremonyOpened.newBuilder(opened)
                        .setHolderIds(List.of("kh-1", "kh-1"))
                        .build(),
                registry.privateKey());
        assertThrows(
                IllegalArgumentException.class,
                () -> KeyCeremonyTranscript.open(
                        twice,
                        registry.publicKey(),
                        Map.of("kh-1", holders.get("kh-1").publicKey())));
    }
}
