package org.fedseal.coordinator;

import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Predicate;
import org.fedseal.he.CiphertextSums;
import org.fedseal.he.HeContext;
import org.fedseal.he.HeParameters;
import org.fedseal.he.MalformedHeDataException;
import org.fedseal.he.MaskedVectors;
import org.fedseal.hejava.CompactMasking;
import org.fedseal.hejava.threshold.DecryptionShare;
import org.fedseal.hejava.threshold.ThresholdDecryptor;
import org.fedseal.hejava.threshold.ThresholdParty;
import org.fedseal.protocol.Aggregates;
import org.fedseal.protocol.CanonicalHash;
import org.fedseal.protocol.CompactRounds;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.MerkleHashes;
import org.fedseal.protocol.ModelWeights;
import org.fedseal.protocol.Signatures;
import org.fedseal.protocol.SigningPrivateKey;
import org.fedseal.protocol.SigningPublicKey;
import org.fedseal.protocol.wire.AggregateChunkSum;
import org.fedseal.protocol.wire.AggregatePublished;
import org.fedseal.protocol.wire.AggregateStatus;
import org.fedseal.protocol.wire.DecryptionSharesPublished;
import org.fedseal.protocol.wire.RoundOpened;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One key holder of a threshold (n-of-n) model: it holds only its secret share and helps decrypt
 * a ciphertext only after checking that it is a real aggregate. Otherwise a malicious aggregator
 * could hand it a single client's update (or a sum of few) to decrypt. Before producing a share it
 * requires that the aggregate
 * <ol>
 *   <li>is signed by the configured aggregator and completed its round;</li>
 *   <li>names at least {@link Policy#minParticipants()} distinct, enrolled participants, as many as
 *       accepted update hashes, whose Merkle root is the one published;</li>
 *   <li>equals, bit for bit, the re-sum of those updates' archived ciphertexts (ciphertext addition
 *       is exact and order-independent, so anyone holding the updates can recompute it);</li>
 *   <li>was not shared before: every further share of the same ciphertext would average the
 *       flooding noise down.</li>
 * </ol>
 * A refusal throws {@link RefusedException} with the reason, and is logged.
 *
 * <p>Shares travel as a {@link DecryptionSharesPublished} record signed with the holder's enrolled
 * Ed25519 key ({@link Signatures}); {@link #combine} verifies them. No code here, or anywhere outside tests,
 * adds the holders' secret shares: the secret key is never assembled.
 */
public final class ThresholdKeyHolder {
    private static final Logger LOG = LoggerFactory.getLogger(ThresholdKeyHolder.class);

    /** What an aggregate must satisfy before this holder decrypts any part of it. */
    public record Policy(int minParticipants, SigningPublicKey aggregatorKey, Predicate<String> enrolled) {
        public Policy {
            if (minParticipants < 2) {
                throw new IllegalArgumentException("minParticipants must be at least 2, got " + minParticipants);
            }
            Objects.requireNonNull(aggregatorKey, "aggregatorKey");
            Objects.requireNonNull(enrolled, "enrolled");
        }
    }

    /** Where the accepted updates' ciphertexts are archived (the registry keeps them by content hash). */
    public interface UpdateArchive {
        /**
         * The ciphertext entries (one serialized one-ciphertext vector each, in chunk-layout order)
         * of the accepted update whose commit hashes to {@code updateHash}, checked against the
         * commit's chunk hashes by the implementation.
         *
         * @throws IllegalStateException if the update is not archived
         */
        List<byte[]> ciphertexts(Hash updateHash);

        /**
         * The chunk sum with this canonical hash, of a chunked aggregate (the holder verifies it
         * against the signed manifest). The default knows none: only aggregates with inline sums.
         *
         * @throws IllegalArgumentException or IllegalStateException if it is not available
         */
        default AggregateChunkSum chunkSum(Hash chunkSumHash) {
            return Aggregates.INLINE.get(chunkSumHash);
        }
    }

    /** Why a holder refused. */
    public enum Refusal {
        NOT_SIGNED_BY_AGGREGATOR,
        NOT_COMPLETED,
        TOO_FEW_PARTICIPANTS,
        PARTICIPANT_NOT_ENROLLED,
        UPDATE_LIST_MISMATCH,
        RESUM_MISMATCH,
        ALREADY_SHARED
    }

    /** A refusal to share-decrypt, with its reason. */
    public static final class RefusedException extends Exception {
        private static final long serialVersionUID = 1L;
        private final Refusal reason;

        RefusedException(Refusal reason, String detail) {
            super(reason + ": " + detail);
            this.reason = reason;
        }

        /** The reason. */
        public Refusal reason() {
            return reason;
        }
    }

    private final String holderId;
    private final String ceremonyId;
    private final ThresholdParty party;
    private final SigningPrivateKey signingKey;
    private final Policy policy;
    private final UpdateArchive archive;
    private final SecureRandom random = new SecureRandom();
    private final Set<Hash> shared = new HashSet<>();

    /**
     * @param holderId this holder's enrolled client id
     * @param ceremonyId the key ceremony that made {@code party}
     * @param party its threshold secret share (from the key ceremony)
     * @param signingKey its enrolled Ed25519 key, which signs its shares
     */
    public ThresholdKeyHolder(
            String holderId,
            String ceremonyId,
            ThresholdParty party,
            SigningPrivateKey signingKey,
            Policy policy,
            UpdateArchive archive) {
        this.holderId = Objects.requireNonNull(holderId, "holderId");
        this.ceremonyId = Objects.requireNonNull(ceremonyId, "ceremonyId");
        this.party = Objects.requireNonNull(party, "party");
        this.signingKey = Objects.requireNonNull(signingKey, "signingKey");
        this.policy = Objects.requireNonNull(policy, "policy");
        this.archive = Objects.requireNonNull(archive, "archive");
    }

    /**
     * This holder's shares of {@code aggregate}, after the checks in the class comment.
     *
     * @throws RefusedException if any check fails (nothing is decrypted then)
     */
    public synchronized DecryptionSharesPublished share(AggregatePublished aggregate) throws RefusedException {
        Hash aggHash = CanonicalHash.of(aggregate);
        try {
            check(aggregate, aggHash);
        } catch (RefusedException e) {
            LOG.warn(
                    "key holder {} refuses to decrypt aggregate {} of {}/{}: {}",
                    holderId,
                    aggHash,
                    aggregate.getModelId(),
                    aggregate.getRound(),
                    e.getMessage());
            throw e;
        }
        List<ByteBuffer> shares = new ArrayList<>();
        // a compact round's masked blocks are not CKKS: only its summed masking keys are shared
        for (byte[] entry : MaskedVectors.withoutMasked(Aggregates.ciphertexts(aggregate, archive::chunkSum))) {
            shares.add(ByteBuffer.wrap(party.decryptionShare(entry, random).toBytes()));
        }
        shared.add(aggHash);
        DecryptionSharesPublished record = DecryptionSharesPublished.newBuilder()
                .setModelId(aggregate.getModelId())
                .setRound(aggregate.getRound())
                .setCeremonyId(ceremonyId)
                .setHolderId(holderId)
                .setAggregateHash(aggHash.toByteBuffer())
                .setShares(shares)
                .setSignature(ByteBuffer.allocate(0))
                .build();
        LOG.info(
                "key holder {} shared aggregate {} of {}/{} ({} ciphertexts)",
                holderId,
                aggHash,
                aggregate.getModelId(),
                aggregate.getRound(),
                shares.size());
        return Signatures.signRecord(record, signingKey);
    }

    private void check(AggregatePublished a, Hash aggHash) throws RefusedException {
        if (!Signatures.verify(a, policy.aggregatorKey())) {
            throw new RefusedException(
                    Refusal.NOT_SIGNED_BY_AGGREGATOR, "the aggregate is not signed by the aggregator's key");
        }
        if (a.getStatus() != AggregateStatus.COMPLETED) {
            throw new RefusedException(Refusal.NOT_COMPLETED, "round status " + a.getStatus());
        }
        Set<String> participants = new HashSet<>(a.getParticipants());
        if (participants.size() != a.getParticipants().size() || participants.size() < policy.minParticipants()) {
            throw new RefusedException(
                    Refusal.TOO_FEW_PARTICIPANTS,
                    participants.size() + " distinct participants, at least " + policy.minParticipants() + " required");
        }
        for (String p : participants) {
            if (!policy.enrolled().test(p)) {
                throw new RefusedException(Refusal.PARTICIPANT_NOT_ENROLLED, "participant " + p + " is not enrolled");
            }
        }
        List<Hash> updates = a.getAcceptedUpdateHashes().stream().map(Hash::of).toList();
        if (new HashSet<>(updates).size() != participants.size()
                || !MerkleHashes.acceptedUpdateRoot(updates).matches(a.getAcceptedUpdateRoot())) {
            throw new RefusedException(
                    Refusal.UPDATE_LIST_MISMATCH,
                    updates.size() + " accepted update hashes for " + participants.size()
                            + " participants, or a root that does not match them");
        }
        if (shared.contains(aggHash)) {
            throw new RefusedException(Refusal.ALREADY_SHARED, "this holder already shared aggregate " + aggHash);
        }
        checkResum(a, updates);
    }

    private void checkResum(AggregatePublished a, List<Hash> updates) throws RefusedException {
        HeParameters params = HeParameters.byId(a.getHeParamsId())
                .orElseThrow(() -> new IllegalStateException("unknown HE parameter set " + a.getHeParamsId()));
        try (HeContext he = HeContext.create(params)) {
            List<byte[]> published = Aggregates.ciphertexts(a, archive::chunkSum);
            List<List<byte[]>> addends = new ArrayList<>();
            for (Hash u : updates) {
                addends.add(archive.ciphertexts(u));
            }
            List<byte[]> resum = CiphertextSums.sum(he, addends);
            if (resum.size() != published.size()) {
                throw new RefusedException(
                        Refusal.RESUM_MISMATCH,
                        "the archived updates have " + resum.size() + " ciphertexts, the aggregate "
                                + published.size());
            }
            for (int i = 0; i < published.size(); i++) {
                if (!java.util.Arrays.equals(resum.get(i), published.get(i))) {
                    throw new RefusedException(
                            Refusal.RESUM_MISMATCH,
                            "ciphertext " + i + " differs from the re-sum of the archived accepted updates");
                }
            }
        } catch (MalformedHeDataException | IllegalArgumentException | IllegalStateException e) {
            throw new RefusedException(Refusal.RESUM_MISMATCH, "cannot re-sum the archived updates: " + e.getMessage());
        }
    }

    /**
     * Combines all holders' shares into the aggregate's values divided by its total weight (the
     * weighted mean update). Anyone can run it; it needs no secret.
     *
     * @param ceremony the completed key ceremony of the aggregate's model
     * @param holderKeys each of the ceremony's holders' enrolled signing key, by holder id
     * @param length how many values to return (the model's parameter count)
     * @throws IllegalArgumentException if a share's signature is bad, a holder is missing, repeated
     *     or foreign, or the shares do not fit the aggregate
     */
    public static double[] combine(
            AggregatePublished aggregate,
            List<DecryptionSharesPublished> all,
            KeyCeremonyParticipant.Result ceremony,
            Map<String, SigningPublicKey> holderKeys,
            int length) {
        return combine(aggregate, Aggregates.INLINE, all, ceremony, holderKeys, length, null);
    }

    /**
     * {@link #combine(AggregatePublished, List, KeyCeremonyParticipant.Result, Map, int)} of a chunked
     * aggregate (its chunk sums from {@code chunks}) of {@code round}, which may be a compact round (fl-protocol
     * {@code CompactRounds}): the holders' shares then decrypt only the summed masking keys, and the
     * block sums are unmasked with them (he-java {@link CompactMasking#unmaskAll}).
     *
     * @param round the aggregate's round; null only for a round that is not compact
     */
    public static double[] combine(
            AggregatePublished aggregate,
            Aggregates.ChunkSource chunks,
            List<DecryptionSharesPublished> all,
            KeyCeremonyParticipant.Result ceremony,
            Map<String, SigningPublicKey> holderKeys,
            int length,
            RoundOpened round) {
        Hash aggHash = CanonicalHash.of(aggregate);
        Set<String> seen = new HashSet<>();
        for (DecryptionSharesPublished s : all) {
            SigningPublicKey key = holderKeys.get(s.getHolderId());
            if (key == null || !ceremony.holderIds().contains(s.getHolderId()) || !seen.add(s.getHolderId())) {
                throw new IllegalArgumentException(
                        "shares from an unexpected or repeated holder '" + s.getHolderId() + "'");
            }
            if (!aggHash.matches(s.getAggregateHash())
                    || !ceremony.ceremonyId().equals(s.getCeremonyId())
                    || !Signatures.verifyRecord(s, key)) {
                throw new IllegalArgumentException("the shares of '" + s.getHolderId()
                        + "' are not signed by it for this aggregate" + " and ceremony");
            }
        }
        if (!seen.equals(Set.copyOf(ceremony.holderIds()))) {
            throw new IllegalArgumentException(
                    "shares of " + seen + ", the ceremony's holders are " + ceremony.holderIds());
        }
        List<List<DecryptionShare>> byHolder = new ArrayList<>();
        for (DecryptionSharesPublished s : all) {
            byHolder.add(s.getShares().stream()
                    .map(b -> DecryptionShare.fromBytes(bytes(b)))
                    .toList());
        }
        List<byte[]> entries = Aggregates.ciphertexts(aggregate, chunks);
        double[] sums = ThresholdDecryptor.combineAll(
                MaskedVectors.withoutMasked(entries), byHolder, ceremony.keyShareDigests());
        if (MaskedVectors.anyMasked(entries)) {
            if (round == null || !CompactRounds.isCompact(round) || round.getRound() != aggregate.getRound()) {
                throw new IllegalArgumentException("aggregate " + aggregate.getModelId() + "/" + aggregate.getRound()
                        + " is a compact round's: combine it with its RoundOpened");
            }
            sums = CompactMasking.forRound(
                            round.getMaskModulus(), round.getMaskScaleBits(), CompactRounds.roundSeed(round))
                    .unmaskAll(
                            MaskedVectors.decodeMasked(entries, round.getMaskModulus()),
                            sums,
                            aggregate.getAcceptedCount(),
                            length);
        }
        return ModelWeights.mean(sums, aggregate.getTotalWeight(), length);
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    @Override
    public String toString() {
        return "ThresholdKeyHolder[" + holderId + ", ceremony " + ceremonyId + ", secret share redacted]";
    }
}
