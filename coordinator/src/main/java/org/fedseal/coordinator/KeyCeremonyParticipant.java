package org.fedseal.coordinator;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.fedseal.hejava.threshold.CommonReference;
import org.fedseal.hejava.threshold.SecretShareAccess;
import org.fedseal.hejava.threshold.ThresholdKeys;
import org.fedseal.hejava.threshold.ThresholdParty;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.KeyCeremonyTranscript;
import org.fedseal.protocol.SigningPrivateKey;
import org.fedseal.protocol.wire.CeremonyPhase;
import org.fedseal.protocol.wire.KeyCeremonyMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One key holder's side of a threshold key ceremony: given the ceremony's transcript so far, says
 * which signed message the holder sends next (see {@link KeyCeremonyTranscript} for the phases).
 * The holder's secret share is made here once the common reference seed is known, saved through
 * its {@link SecretShareStore} before its commitment leaves, and never sent anywhere.
 *
 * <p>Drive it by feeding every record of the ceremony to the transcript, then calling
 * {@link #nextMessage}; publish what it returns. Restart-safe: a restarted holder re-reads the
 * topic, finds its own earlier messages in the transcript and reloads its share from the store.
 */
public final class KeyCeremonyParticipant {
    private static final Logger LOG = LoggerFactory.getLogger(KeyCeremonyParticipant.class);

    /** Where a holder keeps its secret share (a file with owner-only permissions, a keystore, ...). */
    public interface SecretShareStore {
        /** The share saved for {@code ceremonyId}, if any (bytes of {@link ThresholdParty#exportSecretShare}). */
        Optional<byte[]> load(String ceremonyId);

        /** Saves the share durably before the holder commits to it. */
        void save(String ceremonyId, byte[] exportedShare);

        /**
         * A store in this JVM's memory: for simulations and tests, where a "restart" is a new
         * participant in the same JVM. A real holder keeps its share on disk or in a keystore.
         */
        static SecretShareStore inMemory() {
            Map<String, byte[]> shares = new ConcurrentHashMap<>();
            return new SecretShareStore() {
                @Override
                public Optional<byte[]> load(String ceremonyId) {
                    return Optional.ofNullable(shares.get(ceremonyId)).map(byte[]::clone);
                }

                @Override
                public void save(String ceremonyId, byte[] exportedShare) {
                    shares.put(ceremonyId, exportedShare.clone());
                }

                @Override
                public String toString() {
                    return "SecretShareStore[in memory, " + shares.size() + " shares, redacted]";
                }
            };
        }
    }

    /**
     * The public outcome of a completed ceremony: what clients encrypt with and what a combiner
     * checks decryption shares against.
     *
     * @param collectivePublicKey SEAL PublicKey bytes of the collective key (Σ p_i, a)
     * @param keyShareDigests SHA-256 of each holder's key share, in {@code holderIds} order
     */
    public record Result(
            String ceremonyId,
            List<String> holderIds,
            CommonReference commonReference,
            byte[] collectivePublicKey,
            List<byte[]> keyShareDigests) {
        /** SHA-256 of the collective public key, as RoundOpened.publicKeyHash names it. */
        public Hash publicKeyHash() {
            return Hash.sha256(collectivePublicKey);
        }

        @Override
        public String toString() {
            return "KeyCeremonyParticipant.Result[" + ceremonyId + ", holders " + holderIds + ", public key "
                    + publicKeyHash() + "]";
        }
    }

    private final String holderId;
    private final SigningPrivateKey signingKey;
    private final SecretShareStore store;
    private final SecureRandom random;
    private ThresholdParty party;

    /**
     * @param holderId this holder's enrolled id, as the ceremony names it
     * @param signingKey its enrolled Ed25519 key, which signs its ceremony messages
     */
    public KeyCeremonyParticipant(
            String holderId, SigningPrivateKey signingKey, SecretShareStore store, SecureRandom random) {
        this.holderId = Objects.requireNonNull(holderId, "holderId");
        this.signingKey = Objects.requireNonNull(signingKey, "signingKey");
        this.store = Objects.requireNonNull(store, "store");
        this.random = Objects.requireNonNull(random, "random");
    }

    /**
     * The message this holder must send now, or empty if it is waiting for the others (or done).
     *
     * @throws IllegalArgumentException if the transcript does not name this holder
     */
    public Optional<KeyCeremonyMessage> nextMessage(KeyCeremonyTranscript t) {
        if (!t.holderIds().contains(holderId)) {
            throw new IllegalArgumentException(holderId + " is not a holder of ceremony " + t.ceremonyId());
        }
        if (!t.hasSent(holderId, CeremonyPhase.SEED_CONTRIBUTION)) {
            byte[] contribution = new byte[KeyCeremonyTranscript.CONTRIBUTION_BYTES];
            random.nextBytes(contribution);
            return Optional.of(sign(t, CeremonyPhase.SEED_CONTRIBUTION, contribution));
        }
        if (!t.isComplete(CeremonyPhase.SEED_CONTRIBUTION)) {
            return Optional.empty();
        }
        ThresholdParty p = party(t);
        if (!t.hasSent(holderId, CeremonyPhase.KEY_SHARE_COMMITMENT)) {
            return Optional.of(sign(t, CeremonyPhase.KEY_SHARE_COMMITMENT, p.keyShareDigest()));
        }
        if (!t.isComplete(CeremonyPhase.KEY_SHARE_COMMITMENT) || t.hasSent(holderId, CeremonyPhase.KEY_SHARE)) {
            return Optional.empty();
        }
        return Optional.of(sign(t, CeremonyPhase.KEY_SHARE, p.publicKeyShare()));
    }

    /**
     * This holder's secret share, made (and saved) on first use after every seed contribution is
     * in, or reloaded from the store.
     *
     * @throws IllegalStateException if the seed contributions are not complete yet
     */
    public synchronized ThresholdParty party(KeyCeremonyTranscript t) {
        CommonReference crs = commonReference(t);
        if (party != null && party.commonReference().equals(crs)) {
            return party;
        }
        SecretShareAccess access = SecretShareAccess.insecureSecretShareAccess();
        Optional<byte[]> saved = store.load(t.ceremonyId());
        if (saved.isPresent()) {
            party = ThresholdParty.importSecretShare(saved.get(), crs, access);
        } else {
            party = ThresholdParty.generate(crs, random);
            store.save(t.ceremonyId(), party.exportSecretShare(access));
            LOG.info("holder {} made its secret share for ceremony {}", holderId, t.ceremonyId());
        }
        return party;
    }

    /**
     * The ceremony's common reference: the seed is derived from the ceremony id and every holder's
     * contribution.
     *
     * @throws IllegalStateException if some contribution is missing
     */
    public static CommonReference commonReference(KeyCeremonyTranscript t) {
        return CommonReference.forCeremony(t.ceremonyId(), t.payloads(CeremonyPhase.SEED_CONTRIBUTION));
    }

    /**
     * The collective public key and the key share digests of a completed ceremony, after checking
     * every revealed share against the common reference. Needs no secret; anyone can run it.
     *
     * @throws IllegalStateException if the ceremony is not complete
     * @throws IllegalArgumentException if a revealed share is malformed or made for another reference
     */
    public static Result finish(KeyCeremonyTranscript t) {
        CommonReference crs = commonReference(t);
        List<byte[]> shares = t.payloads(CeremonyPhase.KEY_SHARE);
        List<byte[]> digests = new ArrayList<>();
        for (byte[] s : shares) {
            digests.add(ThresholdKeys.keyShareDigest(crs, s));
        }
        return new Result(
                t.ceremonyId(), t.holderIds(), crs, ThresholdKeys.combinePublicKey(crs, shares), List.copyOf(digests));
    }

    private KeyCeremonyMessage sign(KeyCeremonyTranscript t, CeremonyPhase phase, byte[] payload) {
        return KeyCeremonyTranscript.sign(t.ceremonyId(), holderId, phase, payload, signingKey);
    }

    @Override
    public String toString() {
        return "KeyCeremonyParticipant[" + holderId + ", secret share redacted]";
    }
}
