package org.fedseal.registry.internal;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;
import org.fedseal.he.HeParameters;
import org.fedseal.he.Packing;
import org.fedseal.protocol.CanonicalHash;
import org.fedseal.protocol.Chunker;
import org.fedseal.protocol.ClientSampling;
import org.fedseal.protocol.CompactRounds;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.RoundBounds;
import org.fedseal.protocol.Signatures;
import org.fedseal.protocol.SigningPublicKey;
import org.fedseal.protocol.Topics;
import org.fedseal.protocol.WireCodec;
import org.fedseal.protocol.wire.AggregateChunkSum;
import org.fedseal.protocol.wire.AggregatePublished;
import org.fedseal.protocol.wire.AggregateStatus;
import org.fedseal.protocol.wire.ChunkLayout;
import org.fedseal.protocol.wire.LogEntry;
import org.fedseal.protocol.wire.LogEntryKind;
import org.fedseal.protocol.wire.RoundOpened;
import org.fedseal.protocol.wire.UpdateAccepted;
import org.fedseal.protocol.wire.UpdateChunk;
import org.fedseal.protocol.wire.UpdateCommit;
import org.fedseal.protocol.wire.UpdateEnvelope;
import org.fedseal.protocol.wire.UpdateRejected;
import org.fedseal.registry.AcceptedUpdateInfo;
import org.fedseal.registry.ModelInfo;
import org.fedseal.registry.RegistryConfig;
import org.fedseal.registry.RoundInfo;
import org.fedseal.registry.RoundOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The registry's rounds-and-ingest section: opening rounds, and recording what the aggregator reports about them. */
final class RoundsAndIngest {
    private static final Logger LOG = LoggerFactory.getLogger(RoundsAndIngest.class);
    private final Database db;
    private final BlobStore blobs;
    private final ProvenanceLog log;
    private final RegistryConfig config;
    private final Supplier<EventPublisher> publisher;
    private final ModelsAndKeys models;
    private final RoundRepository rounds;
    private final Optional<SigningPublicKey> aggregatorKey;
    private final Enrolment enrolment;
    private final PrivacyBudgets budgets;
    private final Function<String, List<String>> ceremonyHolders;

    RoundsAndIngest(
            Database db,
            BlobStore blobs,
            ProvenanceLog log,
            RegistryConfig config,
            Supplier<EventPublisher> publisher,
            ModelsAndKeys models,
            Optional<SigningPublicKey> aggregatorKey,
            Enrolment enrolment,
            Function<String, List<String>> ceremonyHolders) {
        this.budgets = new PrivacyBudgets(db);
        this.enrolment = enrolment;
        this.ceremonyHolders = ceremonyHolders;
        this.db = db;
        this.blobs = blobs;
        this.log = log;
        this.config = config;
        this.publisher = publisher;
        this.models = models;
        this.rounds = new RoundRepository(db);
        this.aggregatorKey = aggregatorKey;
    }

    RoundRepository repository() {
        return rounds;
    }

    RoundInfo openRound(
            String modelId,
            int quorum,
            long deadlineEpochMillis,
            int localEpochs,
            int ciphertextsPerChunk,
            Double clipNorm,
            Long maxTotalWeight,
            Long maxUpdateWeight,
            RoundOptions options) {
        RoundOptions opts = options == null ? RoundOptions.DEFAULT : options;
        ModelInfo m = models.model(modelId);
        long now = System.currentTimeMillis();
        if (quorum < 1) {
            throw ApiException.badRequest("quorum must be >= 1");
        }
        if (deadlineEpochMillis <= now) {
            throw ApiException.badRequest("deadline must be in the future");
        }
        if (localEpochs < 1) {
            throw ApiException.badRequest("localEpochs must be >= 1");
        }
        if (ciphertextsPerChunk < 1 || ciphertextsPerChunk > 7) {
            throw ApiException.badRequest(
                    "ciphertextsPerChunk must be in [1, 7] (a chunk must fit a 1 MiB Kafka record)");
        }
        if (m.hePublicKeyHash() == null) {
            throw ApiException.conflict(
                    "no_public_key", "model " + modelId + " has no HE public key; upload one first");
        }
        HeParameters params = ModelsAndKeys.params(m.heParamsId());
        RoundBounds bounds;
        // distributed DP: each of the quorum's clients adds noise of multiplier z/sqrt(quorum), which the headroom must
        // hold too
        double clientNoise = opts.noiseMultiplier() / Math.sqrt(quorum);
        Long total = maxTotalWeight;
        if (opts.noiseMultiplier() > 0 && total == null) {
            double c = clipNorm == null ? RoundBounds.DEFAULT_CLIP_NORM : clipNorm;
            long w = RoundBounds.largestTotalWeight(
                    params.maxSumNorm(), c * (1 + RoundBounds.NOISE_TAIL_SIGMAS * clientNoise));
            while (w > 1 && c * (1 + RoundBounds.NOISE_TAIL_SIGMAS * clientNoise) * w > params.maxSumNorm()) {
                w--;
            }
            total = Math.max(1, w);
        }
        try {
            bounds = RoundBounds.withDefaults(params.maxSumNorm(), clipNorm, total, maxUpdateWeight, quorum);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest(params.id() + ": " + e.getMessage());
        }
        if (!bounds.fitsNoise(clientNoise)) {
            throw ApiException.badRequest(String.format(
                    java.util.Locale.ROOT,
                    "%s: noise multiplier %s does not fit the headroom: each of "
                            + "the quorum's %d clients adds noise of multiplier %.6g, and clipNorm %s x (1 + %s x %.6g) x maxTotalWeight %d exceeds "
                            + "sumNormBound %.6g; lower maxTotalWeight or the clip norm",
                    params.id(),
                    opts.noiseMultiplier(),
                    quorum,
                    clientNoise,
                    bounds.clipNorm(),
                    RoundBounds.NOISE_TAIL_SIGMAS,
                    clientNoise,
                    bounds.maxTotalWeight(),
                    params.maxSumNorm()));
        }
        int perCt = params.valuesPerCiphertext(Packing.COMPLEX);
        long maskModulus = 0;
        ChunkLayout layout;
        if (opts.compact()) {
            if (perCt != CompactRounds.BLOCK_VALUES) {
                throw ApiException.badRequest("compact updates need a parameter set of " + CompactRounds.BLOCK_VALUES
                        + " values per ciphertext for the masking key; " + params.id() + " packs " + perCt);
            }
            if (opts.noiseMultiplier() > 0) {
                throw ApiException.badRequest("compact updates do not take distributed noise yet");
            }
            double valueBound =
                    opts.clipValue() > 0 ? Math.min(opts.clipValue(), bounds.clipNorm()) : bounds.clipNorm();
            try {
                maskModulus = CompactRounds.modulusFor(
                        valueBound * bounds.maxTotalWeight(), opts.maskScaleBits(), bounds.maxTotalWeight());
            } catch (IllegalArgumentException e) {
                throw ApiException.badRequest(e.getMessage());
            }
            // a masked block is about q's bits per value, the key ciphertext one public-key ciphertext
            int perChunk = Math.max(
                    1,
                    (Chunker.DEFAULT_MAX_RECORD_BYTES - Chunker.RECORD_OVERHEAD_BYTES - 140_000)
                            / (CompactRounds.BLOCK_VALUES * 8 + 64));
            layout = Chunker.layout(m.parameterCount(), perCt, perChunk, 1);
        } else {
            layout = Chunker.layout(m.parameterCount(), perCt, ciphertextsPerChunk);
        }
        long modulus = maskModulus;
        RoundOpened opened = db.tx(c -> {
            rounds.failExpired(modelId, now);
            Optional<Integer> open = rounds.openRoundNumber(modelId);
            if (open.isPresent()) {
                throw ApiException.conflict("round_open", "round " + open.get() + " of " + modelId + " is still open");
            }
            // Read again inside the transaction: a version published meanwhile is the base.
            ModelInfo current = models.model(modelId);
            int round = rounds.nextRoundNumber(modelId);
            RoundOpened r = bounds.applyTo(RoundOpened.newBuilder())
                    .setModelId(modelId)
                    .setRound(round)
                    .setBaseModelHash(Hash.fromHex(current.latestVersionHash()).toByteBuffer())
                    .setHeParamsId(params.id())
                    .setPublicKeyHash(Hash.fromHex(current.hePublicKeyHash()).toByteBuffer())
                    .setQuorum(quorum)
                    .setDeadlineEpochMillis(deadlineEpochMillis)
                    .setChunkLayout(layout)
                    .setLocalEpochs(localEpochs)
                    .setOpenedAtEpochMillis(now)
                    .setLearningRate(opts.learningRate())
                    .setBatchSize(opts.batchSize())
                    .setProximalMu(opts.proximalMu())
                    .setSamplingFraction(opts.samplingFraction())
                    .setMinSampledClients(opts.minSampledClients())
                    .setNoiseMultiplier(opts.noiseMultiplier())
                    .setClipValue(opts.clipValue())
                    .setMaskModulus(modulus)
                    .setMaskScaleBits(modulus == 0 ? 0 : opts.maskScaleBits())
                    .build();
            budgets.checkRound(r);
            // Last, over the otherwise complete record: the sample's seed binds every other field.
            sample(r, current);
            rounds.insert(r, current.latestVersionHash(), current.hePublicKeyHash());
            log.append(LogEntryKind.ROUND_OPENED, modelId, round, CanonicalHash.of(r), null, null, null, r, now);
            return r;
        });
        boolean published = false;
        try {
            published = publisher
                    .get()
                    .publish(
                            config.get(RegistryConfig.TOPIC_ROUNDS),
                            Topics.roundKey(modelId, opened.getRound()),
                            opened);
        } catch (RuntimeException e) {
            LOG.error(
                    "round {}/{} recorded but RoundOpened not published: {}", modelId, opened.getRound(), e.toString());
        }
        RoundInfo info = round(modelId, opened.getRound());
        return new RoundInfo(
                info.modelId(),
                info.round(),
                info.status(),
                info.quorum(),
                info.deadlineEpochMillis(),
                info.localEpochs(),
                info.baseModelHash(),
                info.publicKeyHash(),
                info.openedAtEpochMillis(),
                info.closedAtEpochMillis(),
                info.latencyMillis(),
                info.acceptedCount(),
                info.rejectedCount(),
                info.participants(),
                info.aggregateHash(),
                published,
                info.clipNorm(),
                info.maxUpdateWeight(),
                info.maxTotalWeight(),
                info.sumNormBound(),
                info.learningRate(),
                info.batchSize(),
                info.proximalMu(),
                info.samplingFraction(),
                info.minSampledClients(),
                info.sampledClients());
    }

    /**
     * Writes the round's client sample ({@link ClientSampling}) into {@code r} when it samples: over
     * the clients enrolled for the model now (in this transaction), minus the model's service
     * identities ({@link #serviceIdentities}). Refuses a round whose sample would be empty or
     * smaller than its quorum.
     */
    private void sample(RoundOpened r, ModelInfo model) {
        if (r.getSamplingFraction() >= 1.0) {
            return;
        }
        Set<String> service = serviceIdentities(model);
        List<String> eligible = enrolment.clientsOf(model.modelId()).stream()
                .filter(id -> !service.contains(id))
                .toList();
        List<String> sample = ClientSampling.sample(r, eligible);
        if (sample.isEmpty()) {
            throw ApiException.conflict(
                    "no_clients", "no client is enrolled for " + model.modelId() + " to sample from");
        }
        if (sample.size() < r.getQuorum()) {
            throw ApiException.badRequest("the sample of " + sample.size() + " of " + eligible.size()
                    + " enrolled clients (fraction " + r.getSamplingFraction() + ", minimum " + r.getMinSampledClients()
                    + ") is smaller than the quorum " + r.getQuorum());
        }
        r.setSampledClients(new java.util.ArrayList<>(sample));
    }

    /**
     * Identities enrolled for a model that are not its training clients, never sampled: the model's
     * key holder ({@link ModelInfo#keyHolderId}: the single key holder, or the combiner that
     * publishes a threshold model's versions) and the holders of its key ceremonies.
     */
    Set<String> serviceIdentities(ModelInfo model) {
        Set<String> out = new java.util.HashSet<>(ceremonyHolders.apply(model.modelId()));
        if (model.keyHolderId() != null) {
            out.add(model.keyHolderId());
        }
        return out;
    }

    RoundOpened roundOpened(String modelId, int round) {
        return rounds.opened(modelId, round)
                .orElseThrow(() -> ApiException.notFound("unknown round " + modelId + "/" + round));
    }

    Optional<RoundOpened> currentRound(String modelId) {
        models.model(modelId);
        return rounds.current(modelId, System.currentTimeMillis());
    }

    void publishUpdate(byte[] key, UpdateEnvelope envelope) {
        if (!publisher.get().enabled()) {
            throw new ApiException(
                    503, "kafka_unavailable", "this registry has no Kafka broker configured; it cannot ingest updates");
        }
        publisher.get().publish(config.get(RegistryConfig.TOPIC_UPDATES), key, envelope);
    }

    RoundInfo round(String modelId, int round) {
        models.model(modelId);
        return rounds.find(modelId, round, publisher.get().enabled())
                .orElseThrow(() -> ApiException.notFound("unknown round " + modelId + "/" + round));
    }

    List<RoundInfo> rounds(String modelId) {
        models.model(modelId);
        return rounds.ofModel(modelId, publisher.get().enabled());
    }

    Map<String, Long> rejectsByReason(String modelId, int round) {
        round(modelId, round);
        return rounds.rejectsByReason(modelId, round);
    }

    Map<String, Long> roundBytes(String modelId, int round) {
        round(modelId, round);
        long updates = 0;
        long records = 0;
        for (String h : rounds.archivedRecordHashes(modelId, round)) {
            long n = blobs.size(Hash.fromHex(h));
            if (n >= 0) {
                updates += n;
                records++;
            }
        }
        long aggregate = rounds.latestAggregateHash(modelId, round)
                .map(h -> Math.max(0, blobs.size(Hash.fromHex(h))))
                .orElse(0L);
        Map<String, Long> out = new java.util.LinkedHashMap<>();
        out.put("updateBytes", updates);
        out.put("archivedRecords", records);
        out.put("aggregateBytes", aggregate);
        return out;
    }

    void onUpdateEnvelope(UpdateEnvelope envelope) {
        if (!config.getBoolean(RegistryConfig.ARCHIVE_UPDATES)) {
            return;
        }
        long now = System.currentTimeMillis();
        if (envelope.getPayload() instanceof UpdateChunk chunk) {
            Hash h = CanonicalHash.of(chunk);
            blobs.put(h, WireCodec.UNBOUNDED.encode(chunk));
            rounds.insertChunkIfAbsent(h, chunk, now);
        } else if (envelope.getPayload() instanceof UpdateCommit commit) {
            Hash h = CanonicalHash.of(commit);
            blobs.put(h, WireCodec.UNBOUNDED.encode(commit));
            rounds.insertCommitIfAbsent(h, commit, now);
        }
    }

    void onAccepted(UpdateAccepted a) {
        Hash h = Hash.of(a.getUpdateHash());
        db.tx(c -> {
            if (rounds.hasAccepted(h)) {
                return null;
            }
            rounds.insertAccepted(h, a);
            log.append(
                    LogEntryKind.UPDATE_ACCEPTED,
                    a.getModelId(),
                    a.getRound(),
                    h,
                    a.getClientId(),
                    a.getUpdateId(),
                    null,
                    a,
                    System.currentTimeMillis());
            return null;
        });
    }

    void onRejected(UpdateRejected r) {
        Hash h = CanonicalHash.of(r);
        db.tx(c -> {
            if (rounds.hasRejected(h)) {
                return null;
            }
            rounds.insertRejected(h, r);
            LogEntry e = ProvenanceLog.entry(
                    LogEntryKind.UPDATE_REJECTED,
                    r.getModelId(),
                    r.getRound(),
                    h,
                    r.getClientId(),
                    r.getUpdateId(),
                    null,
                    r,
                    System.currentTimeMillis());
            e.setReason(r.getReason());
            log.append(e);
            return null;
        });
    }

    void onAggregateChunkSum(AggregateChunkSum c) {
        blobs.put(CanonicalHash.of(c), CanonicalHash.canonicalBytes(c));
    }

    boolean onAggregate(AggregatePublished a) {
        if (aggregatorKey.isPresent() && !Signatures.verify(a, aggregatorKey.get())) {
            LOG.error(
                    "refused aggregate of {}/{} from '{}': its signature is not the configured aggregator key's",
                    a.getModelId(),
                    a.getRound(),
                    a.getAggregatorId());
            return false;
        }
        boolean completed = a.getStatus() == AggregateStatus.COMPLETED;
        String weightProblem = completed ? totalWeightProblem(a) : null;
        if (weightProblem != null) {
            LOG.error(
                    "refused aggregate of {}/{} from '{}': {}",
                    a.getModelId(),
                    a.getRound(),
                    a.getAggregatorId(),
                    weightProblem);
            return false;
        }
        Hash h = CanonicalHash.of(a);
        blobs.put(h, WireCodec.UNBOUNDED.encode(a));
        db.tx(c -> {
            if (rounds.hasAggregate(h)) {
                return null;
            }
            rounds.insertAggregateAndClose(h, a, completed);
            log.append(
                    LogEntryKind.AGGREGATE_PUBLISHED,
                    a.getModelId(),
                    a.getRound(),
                    h,
                    null,
                    null,
                    null,
                    null,
                    System.currentTimeMillis());
            return null;
        });
        applyRetention(a.getModelId(), a.getRound());
        return true;
    }

    /** Why a completed aggregate's total weight is nonsense for its round (not positive, past maxTotalWeight), or null. */
    private String totalWeightProblem(AggregatePublished a) {
        if (a.getTotalWeight() < 1) {
            return "totalWeight " + a.getTotalWeight() + " is not positive";
        }
        Optional<RoundOpened> round = rounds.opened(a.getModelId().toString(), a.getRound());
        if (round.isPresent()
                && round.get().getMaxTotalWeight() > 0
                && a.getTotalWeight() > round.get().getMaxTotalWeight()) {
            return "totalWeight " + a.getTotalWeight() + " exceeds the round's maxTotalWeight "
                    + round.get().getMaxTotalWeight();
        }
        return null;
    }

    private void applyRetention(String modelId, int round) {
        int keep = config.getInt(RegistryConfig.ARCHIVE_RETENTION_ROUNDS);
        if (keep <= 0) {
            return;
        }
        int cutoff = round - keep;
        for (String ch : rounds.chunkHashesUpTo(modelId, cutoff)) {
            blobs.delete(Hash.fromHex(ch));
        }
        rounds.deleteChunksUpTo(modelId, cutoff);
    }

    Optional<byte[]> aggregateBytes(String modelId, int round) {
        return rounds.latestAggregateHash(modelId, round).flatMap(h -> blobs.get(Hash.fromHex(h)));
    }

    List<AcceptedUpdateInfo> acceptedUpdates(String modelId, int round) {
        return rounds.accepted(modelId, round).stream()
                .map(a -> {
                    Optional<UpdateCommit> commit =
                            blobs.get(Hash.fromHex(a.hash())).map(b -> Records.decodeBytes(b, UpdateCommit.class));
                    List<String> chunkHashes = commit.map(cm -> cm.getChunkHashes().stream()
                                    .map(bb -> Hash.of(bb).toHex())
                                    .toList())
                            .orElse(List.of());
                    boolean archived = commit.isPresent()
                            && !chunkHashes.isEmpty()
                            && chunkHashes.stream().allMatch(rounds::hasChunk);
                    return new AcceptedUpdateInfo(
                            a.hash(), a.clientId(), a.updateId(), a.weight(), archived, chunkHashes);
                })
                .toList();
    }

    byte[] blob(Hash h) {
        return blobs.get(h).orElseThrow(() -> ApiException.notFound("no blob " + h));
    }
}
