package org.fedseal.registry;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.apache.avro.specific.SpecificRecord;
import org.fedseal.he.MaskedVectors;
import org.fedseal.hejava.CompactMasking;
import org.fedseal.hejava.threshold.CommonReference;
import org.fedseal.hejava.threshold.DecryptionShare;
import org.fedseal.hejava.threshold.ThresholdDecryptor;
import org.fedseal.hejava.threshold.ThresholdKeys;
import org.fedseal.protocol.Aggregates;
import org.fedseal.protocol.CanonicalHash;
import org.fedseal.protocol.CompactRounds;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.KeyCeremonyTranscript;
import org.fedseal.protocol.ModelWeights;
import org.fedseal.protocol.Signatures;
import org.fedseal.protocol.SigningPublicKey;
import org.fedseal.protocol.Strategy;
import org.fedseal.protocol.StrategyState;
import org.fedseal.protocol.WireCodec;
import org.fedseal.protocol.WireFormatException;
import org.fedseal.protocol.wire.AggregatePublished;
import org.fedseal.protocol.wire.CeremonyPhase;
import org.fedseal.protocol.wire.DecryptionSharesPublished;
import org.fedseal.protocol.wire.KeyCeremonyMessage;
import org.fedseal.protocol.wire.KeyCeremonyOpened;
import org.fedseal.protocol.wire.LogEntry;
import org.fedseal.protocol.wire.ModelVersionPublished;
import org.fedseal.protocol.wire.RoundOpened;

/**
 * The threshold part of {@link Auditor#verify}: replays every key ceremony from its logged records
 * (registry-signed opening, holder-signed messages, commitments before shares), recomputes each
 * collective public key, and checks that a threshold model's rounds use it and that its versions
 * name exactly one logged, holder-signed share record per holder for their aggregate.
 *
 * <p>Fed the log entries in order; each method returns null when the entry checks out, else the
 * problem.
 */
final class CeremonyAudit {
    private static final WireCodec LARGE = WireCodec.withMaxRecordBytes(512 << 20);

    private record Shares(String ceremonyId, String holderId, Hash aggregateHash) {}

    private final RegistryClient client;
    private final SigningPublicKey logKey;
    private final Function<String, SigningPublicKey> enrolledKey;
    private final Map<String, KeyCeremonyTranscript> transcripts = new HashMap<>();
    private final Map<String, String> ceremonyModel = new HashMap<>();
    private final Map<String, Hash> ceremonyKey = new HashMap<>();
    private final Map<String, String> modelCeremony = new HashMap<>();
    private final Map<String, Set<String>> modelHolders = new HashMap<>();
    private final Map<Hash, Shares> shares = new HashMap<>();
    /** model/round → its RoundOpened: a compact round's aggregate is unmasked with its parameters. */
    private final Map<String, RoundOpened> rounds = new HashMap<>();

    private int completed;
    private int redecrypted;

    /**
     * @param enrolledKey a client's signing key as the log shows it enrolled so far (null if not)
     */
    CeremonyAudit(RegistryClient client, SigningPublicKey logKey, Function<String, SigningPublicKey> enrolledKey) {
        this.client = client;
        this.logKey = logKey;
        this.enrolledKey = enrolledKey;
    }

    String onOpened(LogEntry e, Hash subject) {
        KeyCeremonyOpened o;
        try {
            o = fetch(subject, KeyCeremonyOpened.class);
        } catch (IllegalStateException ex) {
            return ex.getMessage();
        }
        if (!o.getCeremonyId().equals(e.getCeremonyId()) || !o.getModelId().equals(e.getModelId())) {
            return "ceremony record " + subject + " is not the one the entry names";
        }
        Map<String, SigningPublicKey> keys = new HashMap<>();
        for (String h : o.getHolderIds()) {
            SigningPublicKey k = enrolledKey.apply(h);
            if (k == null) {
                return "ceremony " + o.getCeremonyId() + " names holder " + h
                        + ", whom the log does not show enrolled before it";
            }
            keys.put(h, k);
        }
        try {
            transcripts.put(o.getCeremonyId(), KeyCeremonyTranscript.open(o, logKey, keys));
        } catch (IllegalArgumentException ex) {
            return "ceremony " + o.getCeremonyId() + ": " + ex.getMessage();
        }
        ceremonyModel.put(o.getCeremonyId(), o.getModelId());
        modelCeremony.put(o.getModelId(), o.getCeremonyId());
        modelHolders.computeIfAbsent(o.getModelId(), k -> new HashSet<>()).addAll(o.getHolderIds());
        return null;
    }

    /** The holders of every ceremony of {@code modelId} logged so far (never sampled as clients). */
    Set<String> holdersOf(String modelId) {
        return modelHolders.getOrDefault(modelId, Set.of());
    }

    String onMessage(LogEntry e, Hash subject) {
        KeyCeremonyTranscript t = transcripts.get(e.getCeremonyId());
        if (t == null) {
            return "a message of ceremony " + e.getCeremonyId() + " before its opening";
        }
        try {
            KeyCeremonyMessage m = fetch(subject, KeyCeremonyMessage.class);
            if (!t.accept(m)) {
                return "message " + subject + " of ceremony " + e.getCeremonyId() + " is logged twice";
            }
        } catch (IllegalStateException ex) {
            return ex.getMessage();
        } catch (KeyCeremonyTranscript.RejectedException ex) {
            return "ceremony " + e.getCeremonyId() + " logs a message that does not verify: " + ex.getMessage();
        }
        return null;
    }

    String onCompleted(LogEntry e, Hash subject) {
        KeyCeremonyTranscript t = transcripts.get(e.getCeremonyId());
        if (t == null || !t.isComplete()) {
            return "ceremony " + e.getCeremonyId()
                    + " is logged completed before every holder revealed its committed share";
        }
        Hash recomputed;
        try {
            CommonReference crs =
                    CommonReference.forCeremony(t.ceremonyId(), t.payloads(CeremonyPhase.SEED_CONTRIBUTION));
            recomputed = Hash.sha256(ThresholdKeys.combinePublicKey(crs, t.payloads(CeremonyPhase.KEY_SHARE)));
        } catch (IllegalArgumentException ex) {
            return "ceremony " + e.getCeremonyId() + ": a revealed key share is invalid: " + ex.getMessage();
        }
        if (!recomputed.equals(subject)) {
            return "ceremony " + e.getCeremonyId() + ": the collective key recomputed from the logged shares is "
                    + recomputed + ", the log names " + subject;
        }
        ceremonyKey.put(e.getCeremonyId(), subject);
        completed++;
        return null;
    }

    /** A threshold model's round must use the collective key of the model's newest completed ceremony. */
    String onRound(RoundOpened r) {
        rounds.put(r.getModelId() + "/" + r.getRound(), r);
        String c = modelCeremony.get(r.getModelId());
        if (c == null) {
            return null;
        }
        Hash key = ceremonyKey.get(c);
        if (key == null || !key.matches(r.getPublicKeyHash())) {
            return "round " + r.getModelId() + "/" + r.getRound() + " of a threshold model does not use ceremony " + c
                    + "'s collective key";
        }
        return null;
    }

    String onShares(LogEntry e, Hash subject, Hash loggedAggregate) {
        try {
            DecryptionSharesPublished d = fetch(subject, DecryptionSharesPublished.class);
            KeyCeremonyTranscript t = transcripts.get(d.getCeremonyId());
            if (t == null
                    || !ceremonyKey.containsKey(d.getCeremonyId())
                    || !d.getCeremonyId().equals(e.getCeremonyId())) {
                return "decryption shares " + subject + " name ceremony " + d.getCeremonyId()
                        + ", not a completed ceremony";
            }
            if (!t.holderIds().contains(d.getHolderId())
                    || !Signatures.verifyRecord(d, enrolledKey.apply(d.getHolderId()))) {
                return "decryption shares " + subject + " are not signed by a holder of ceremony " + d.getCeremonyId();
            }
            Hash agg = Hash.of(d.getAggregateHash());
            if (!agg.equals(loggedAggregate)) {
                return "decryption shares " + subject + " decrypt " + agg + ", not the logged aggregate of "
                        + d.getModelId() + "/" + d.getRound();
            }
            shares.put(subject, new Shares(d.getCeremonyId(), d.getHolderId(), agg));
        } catch (IllegalStateException ex) {
            return ex.getMessage();
        }
        return null;
    }

    /** A version of a threshold model names its ceremony and one logged share record per holder. */
    String onVersion(ModelVersionPublished v, Hash aggregate) {
        try {
            Strategy.fromSpec(v.getStrategy());
        } catch (IllegalArgumentException ex) {
            return "its strategy is not valid: " + ex.getMessage();
        }
        String modelCeremonyId = modelCeremony.get(v.getModelId());
        if (v.getCeremonyId() == null) {
            return modelCeremonyId == null || v.getParentHash().remaining() == 0
                    ? null
                    : "version of threshold model " + v.getModelId() + " names no key ceremony";
        }
        KeyCeremonyTranscript t = transcripts.get(v.getCeremonyId());
        if (t == null
                || !ceremonyKey.containsKey(v.getCeremonyId())
                || !v.getModelId().equals(ceremonyModel.get(v.getCeremonyId()))) {
            return "version names ceremony " + v.getCeremonyId() + ", which the log does not show completed for "
                    + v.getModelId();
        }
        Set<String> holders = new HashSet<>();
        for (ByteBuffer b : v.getDecryptionShareHashes()) {
            Shares s = shares.get(Hash.of(b));
            if (s == null
                    || !s.ceremonyId().equals(v.getCeremonyId())
                    || !s.aggregateHash().equals(aggregate)) {
                return "version names decryption shares " + Hash.of(b) + " that are not logged for its aggregate";
            }
            holders.add(s.holderId());
        }
        if (!holders.equals(Set.copyOf(t.holderIds()))
                || holders.size() != v.getDecryptionShareHashes().size()) {
            return "version combines shares of " + holders + "; ceremony " + v.getCeremonyId() + "'s holders are "
                    + t.holderIds();
        }
        return redecrypt(v, aggregate, t);
    }

    /**
     * Decryption is verifiable: combining the logged shares needs no secret, so the auditor
     * re-combines them into the mean update, re-runs the version's server strategy
     * ({@link Strategy#fromSpec}, null = FedAvg, i.e. {@link ModelWeights#applyMean}) on the
     * parent's weights and the parent's stored strategy state (fetched by the parent's
     * optimizerStateHash), and requires the version's weights hash and optimizerStateHash bit for bit.
     */
    private String redecrypt(ModelVersionPublished v, Hash aggregateHash, KeyCeremonyTranscript t) {
        Strategy strategy = Strategy.fromSpec(v.getStrategy());
        double[] mean;
        float[] base;
        try {
            AggregatePublished a = fetch(aggregateHash, AggregatePublished.class);
            List<byte[]> vectors = Aggregates.ciphertexts(a, client::aggregateChunkSum);
            List<List<DecryptionShare>> byHolder = new ArrayList<>();
            for (ByteBuffer h : v.getDecryptionShareHashes()) {
                DecryptionSharesPublished d = fetch(Hash.of(h), DecryptionSharesPublished.class);
                byHolder.add(d.getShares().stream()
                        .map(b -> DecryptionShare.fromBytes(Auditor.bytes(b)))
                        .toList());
            }
            List<byte[]> keyShareDigests = t.payloads(CeremonyPhase.KEY_SHARE).stream()
                    .map(p -> Hash.sha256(p).bytes())
                    .toList();
            double[] sums =
                    ThresholdDecryptor.combineAll(MaskedVectors.withoutMasked(vectors), byHolder, keyShareDigests);
            base = ModelWeights.decode(client.weights(Hash.of(v.getParentHash())));
            if (MaskedVectors.anyMasked(vectors)) {
                RoundOpened r = rounds.get(v.getModelId() + "/" + v.getRound());
                if (r == null || !CompactRounds.isCompact(r)) {
                    return "its aggregate is masked, but the log opened no compact round " + v.getModelId() + "/"
                            + v.getRound();
                }
                sums = CompactMasking.forRound(r.getMaskModulus(), r.getMaskScaleBits(), CompactRounds.roundSeed(r))
                        .unmaskAll(
                                MaskedVectors.decodeMasked(vectors, r.getMaskModulus()),
                                sums,
                                a.getAcceptedCount(),
                                base.length);
            }
            if (sums.length < base.length) {
                return "its decryption shares combine to " + sums.length + " values, the parent has " + base.length;
            }
            mean = ModelWeights.mean(sums, a.getTotalWeight(), base.length);
        } catch (IllegalStateException | IllegalArgumentException | RegistryException ex) {
            return "its decryption shares do not combine: " + ex.getMessage();
        }
        StrategyState parentState;
        try {
            Hash parentHash = Hash.of(v.getParentHash());
            ModelVersionPublished parent = client.versionRecord(parentHash);
            if (!CanonicalHash.versionHash(parent).equals(parentHash)) {
                return "the registry serves a record for its parent " + parentHash + " that does not hash to it";
            }
            parentState = client.optimizerState(parent);
        } catch (IllegalStateException | RegistryException ex) {
            return "its parent's optimizer state is not retrievable: " + ex.getMessage();
        }
        Strategy.Step step;
        try {
            step = strategy.step(base, mean, strategy.resume(parentState, base.length));
        } catch (IllegalArgumentException ex) {
            return strategy.name() + " does not step from the parent: " + ex.getMessage();
        }
        if (!ModelWeights.hash(step.weights()).matches(v.getWeightsHash())) {
            return "its weights are not what " + strategy
                    + " makes from the parent's weights and state and the mean update"
                    + " its named decryption shares decrypt to";
        }
        if (!step.state().matches(v.getOptimizerStateHash())) {
            return "its optimizerStateHash " + Auditor.hex(v.getOptimizerStateHash()) + " is not the state " + strategy
                    + " makes from the parent's state and the mean update ("
                    + (step.state().isEmpty() ? "empty" : step.state().hash()) + ")";
        }
        redecrypted++;
        return null;
    }

    /** A summary line for the audit notes. */
    String summary() {
        return completed + " key ceremonies replayed (signatures, commit-before-reveal, collective key recomputed), "
                + shares.size() + " decryption share records checked, " + redecrypted
                + " threshold versions re-decrypted from their shares (weights and strategy state match)";
    }

    boolean any() {
        return !transcripts.isEmpty();
    }

    private <T extends SpecificRecord> T fetch(Hash h, Class<T> type) {
        T r;
        try {
            r = LARGE.decode(client.blob(h), type);
        } catch (WireFormatException | RegistryException ex) {
            throw new IllegalStateException(
                    type.getSimpleName() + " " + h + " is not retrievable: " + ex.getMessage(), ex);
        }
        if (!CanonicalHash.of(r).equals(h)) {
            throw new IllegalStateException(type.getSimpleName() + " served for " + h + " does not hash to it");
        }
        return r;
    }
}
