package org.fedseal.protocol;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.fedseal.protocol.wire.CeremonyPhase;
import org.fedseal.protocol.wire.KeyCeremonyMessage;
import org.fedseal.protocol.wire.KeyCeremonyOpened;

/**
 * The checked transcript of one threshold key ceremony: the registry's signed
 * {@link KeyCeremonyOpened} and the holders' signed {@link KeyCeremonyMessage}s, in topic order.
 *
 * <p>The ceremony has three phases, each holder sending one message per phase:
 * <ol>
 *   <li>{@code SEED_CONTRIBUTION}: 32 random bytes. The common reference seed is derived from the
 *       ceremony id and all n contributions, so no holder chooses it alone.</li>
 *   <li>{@code KEY_SHARE_COMMITMENT}: SHA-256 of the holder's public key share, made with that
 *       seed. Sent before anyone reveals a share.</li>
 *   <li>{@code KEY_SHARE}: the share, which must hash to the commitment. Because every share was
 *       fixed before any was seen, the last holder cannot pick its share to cancel the others'
 *       (the rogue-key attack that would give it a collective key it alone can decrypt).</li>
 * </ol>
 * A message of phase k is accepted only after every holder's message of phase k−1. All of a
 * ceremony's records share one Kafka key and so one partition; every reader sees the same order
 * and reaches the same verdicts. A second, different message of the same holder and phase is
 * rejected as equivocation (the first stands); an identical one is a harmless duplicate.
 *
 * <p>Not thread-safe. Holds only public material.
 */
public final class KeyCeremonyTranscript {
    /** Size of a seed contribution and of a key share commitment. */
    public static final int CONTRIBUTION_BYTES = 32;
    /** Largest payload a message may carry (a key share at N=16384 is about 800 KB). */
    public static final int MAX_PAYLOAD_BYTES = 2 << 20;

    private static final List<CeremonyPhase> PHASES =
            List.of(CeremonyPhase.SEED_CONTRIBUTION, CeremonyPhase.KEY_SHARE_COMMITMENT, CeremonyPhase.KEY_SHARE);

    /** Why a message was not accepted. */
    public enum Rejection {
        /** It names another ceremony. */
        WRONG_CEREMONY,
        /** Its holder is not one of the ceremony's holders. */
        UNKNOWN_HOLDER,
        /** Its signature does not verify with the holder's enrolled key. */
        BAD_SIGNATURE,
        /** It came before every holder had finished the previous phase, or names no known phase. */
        OUT_OF_ORDER,
        /** The holder already sent a different message for this phase. */
        EQUIVOCATION,
        /** Wrong size, or a contribution or commitment that copies another holder's. */
        BAD_PAYLOAD,
        /** The key share does not hash to the holder's commitment. */
        COMMITMENT_MISMATCH
    }

    /** A message the transcript did not accept, with the reason. */
    public static final class RejectedException extends Exception {
        private static final long serialVersionUID = 1L;
        private final Rejection reason;

        RejectedException(Rejection reason, String detail) {
            super(reason + ": " + detail);
            this.reason = reason;
        }

        /** Why. */
        public Rejection reason() {
            return reason;
        }
    }

    private final KeyCeremonyOpened opened;
    private final List<String> holderIds;
    private final Map<String, SigningPublicKey> holderKeys;
    private final Map<CeremonyPhase, Map<String, KeyCeremonyMessage>> messages = new EnumMap<>(CeremonyPhase.class);

    private KeyCeremonyTranscript(KeyCeremonyOpened opened, Map<String, SigningPublicKey> holderKeys) {
        this.opened = opened;
        this.holderIds = List.copyOf(opened.getHolderIds());
        this.holderKeys = Map.copyOf(holderKeys);
        for (CeremonyPhase p : PHASES) {
            messages.put(p, new LinkedHashMap<>());
        }
    }

    /**
     * Starts a transcript from the ceremony's opening record.
     *
     * @param registryKey the registry's log key, which signs {@code opened}
     * @param holderKeys the enrolled signing key of every holder the record names (more are ignored)
     * @throws IllegalArgumentException if the record is not signed by {@code registryKey}, names
     *     fewer than two or repeated holders, or a holder has no key
     */
    public static KeyCeremonyTranscript open(
            KeyCeremonyOpened opened, SigningPublicKey registryKey, Map<String, SigningPublicKey> holderKeys) {
        Objects.requireNonNull(opened, "opened");
        Objects.requireNonNull(holderKeys, "holderKeys");
        if (!Signatures.verifyRecord(opened, registryKey)) {
            throw new IllegalArgumentException(
                    "ceremony " + opened.getCeremonyId() + " is not signed by the registry's key");
        }
        List<String> ids = opened.getHolderIds();
        if (ids.size() < 2 || new HashSet<>(ids).size() != ids.size()) {
            throw new IllegalArgumentException("a ceremony needs at least 2 distinct holders, got " + ids);
        }
        Map<String, SigningPublicKey> keys = new HashMap<>();
        for (String id : ids) {
            SigningPublicKey k = holderKeys.get(id);
            if (k == null) {
                throw new IllegalArgumentException("no enrolled signing key for holder " + id);
            }
            keys.put(id, k);
        }
        return new KeyCeremonyTranscript(opened, keys);
    }

    /** A holder's signed message for {@code phase}. */
    public static KeyCeremonyMessage sign(
            String ceremonyId, String holderId, CeremonyPhase phase, byte[] payload, SigningPrivateKey key) {
        KeyCeremonyMessage m = KeyCeremonyMessage.newBuilder()
                .setCeremonyId(ceremonyId)
                .setHolderId(holderId)
                .setPhase(phase)
                .setPayload(ByteBuffer.wrap(payload.clone()))
                .setSignature(ByteBuffer.allocate(0))
                .build();
        return Signatures.signRecord(m, key);
    }

    /**
     * Adds a message after the checks in the class comment.
     *
     * @return true if it was new, false if the same message was already in the transcript
     * @throws RejectedException if it is not accepted (the transcript is unchanged)
     */
    public boolean accept(KeyCeremonyMessage m) throws RejectedException {
        Objects.requireNonNull(m, "message");
        if (!opened.getCeremonyId().equals(m.getCeremonyId())) {
            throw new RejectedException(Rejection.WRONG_CEREMONY, "message of ceremony " + m.getCeremonyId());
        }
        SigningPublicKey key = holderKeys.get(m.getHolderId());
        if (key == null) {
            throw new RejectedException(
                    Rejection.UNKNOWN_HOLDER, m.getHolderId() + " is not a holder of this ceremony");
        }
        if (!Signatures.verifyRecord(m, key)) {
            throw new RejectedException(
                    Rejection.BAD_SIGNATURE, "not signed by " + m.getHolderId() + "'s enrolled key");
        }
        int phase = PHASES.indexOf(m.getPhase());
        if (phase < 0) {
            throw new RejectedException(Rejection.OUT_OF_ORDER, "unknown phase " + m.getPhase());
        }
        Map<String, KeyCeremonyMessage> sent = messages.get(m.getPhase());
        KeyCeremonyMessage earlier = sent.get(m.getHolderId());
        if (earlier != null) {
            if (earlier.equals(m)) {
                return false;
            }
            throw new RejectedException(
                    Rejection.EQUIVOCATION, m.getHolderId() + " already sent a different " + m.getPhase());
        }
        if (phase > 0 && !isComplete(PHASES.get(phase - 1))) {
            throw new RejectedException(
                    Rejection.OUT_OF_ORDER, m.getPhase() + " before every holder's " + PHASES.get(phase - 1));
        }
        byte[] payload = Bytes.toArray(m.getPayload());
        checkPayload(m, payload);
        sent.put(m.getHolderId(), m);
        return true;
    }

    private void checkPayload(KeyCeremonyMessage m, byte[] payload) throws RejectedException {
        if (m.getPhase() == CeremonyPhase.KEY_SHARE) {
            if (payload.length == 0 || payload.length > MAX_PAYLOAD_BYTES) {
                throw new RejectedException(Rejection.BAD_PAYLOAD, "key share of " + payload.length + " bytes");
            }
            byte[] commitment = payloadOf(CeremonyPhase.KEY_SHARE_COMMITMENT, m.getHolderId());
            if (!Hash.sha256(payload).matches(ByteBuffer.wrap(commitment))) {
                throw new RejectedException(
                        Rejection.COMMITMENT_MISMATCH,
                        "the key share of " + m.getHolderId() + " does not hash to its commitment");
            }
            return;
        }
        if (payload.length != CONTRIBUTION_BYTES) {
            throw new RejectedException(
                    Rejection.BAD_PAYLOAD,
                    m.getPhase() + " must be " + CONTRIBUTION_BYTES + " bytes, got " + payload.length);
        }
        for (KeyCeremonyMessage other : messages.get(m.getPhase()).values()) {
            if (Arrays.equals(payload, Bytes.toArray(other.getPayload()))) {
                throw new RejectedException(
                        Rejection.BAD_PAYLOAD,
                        m.getPhase() + " of " + m.getHolderId() + " copies " + other.getHolderId() + "'s");
            }
        }
    }

    /** The opening record. */
    public KeyCeremonyOpened opened() {
        return opened;
    }

    /** The ceremony id. */
    public String ceremonyId() {
        return opened.getCeremonyId();
    }

    /** The holders, in the order the opening record names them. */
    public List<String> holderIds() {
        return holderIds;
    }

    /** Whether {@code holderId} has a message of {@code phase} in the transcript. */
    public boolean hasSent(String holderId, CeremonyPhase phase) {
        Map<String, KeyCeremonyMessage> sent = messages.get(phase);
        return sent != null && sent.containsKey(holderId);
    }

    /** Whether every holder has sent its message of {@code phase}. */
    public boolean isComplete(CeremonyPhase phase) {
        Map<String, KeyCeremonyMessage> sent = messages.get(phase);
        return sent != null && sent.size() == holderIds.size();
    }

    /** Whether every holder has revealed its key share: the collective key can be formed. */
    public boolean isComplete() {
        return isComplete(CeremonyPhase.KEY_SHARE);
    }

    /**
     * The payloads of a completed phase, in {@link #holderIds()} order.
     *
     * @throws IllegalStateException if some holder has not sent it yet
     */
    public List<byte[]> payloads(CeremonyPhase phase) {
        if (!isComplete(phase)) {
            throw new IllegalStateException(phase + " is not complete: "
                    + messages.getOrDefault(phase, Map.of()).keySet() + " of " + holderIds);
        }
        List<byte[]> out = new ArrayList<>();
        for (String id : holderIds) {
            out.add(payloadOf(phase, id));
        }
        return out;
    }

    /** The holders that have not yet sent {@code phase}. */
    public Set<String> missing(CeremonyPhase phase) {
        Set<String> out = new java.util.LinkedHashSet<>(holderIds);
        out.removeAll(messages.getOrDefault(phase, Map.of()).keySet());
        return out;
    }

    private byte[] payloadOf(CeremonyPhase phase, String holderId) {
        return Bytes.toArray(messages.get(phase).get(holderId).getPayload());
    }

    @Override
    public String toString() {
        String at = "opened";
        for (CeremonyPhase p : PHASES) {
            if (isComplete(p)) {
                at = p + " complete";
            }
        }
        return "KeyCeremonyTranscript[" + ceremonyId() + ", " + holderIds.size() + " holders, " + at + "]";
    }
}
