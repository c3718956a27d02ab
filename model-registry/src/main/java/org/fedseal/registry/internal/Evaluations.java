package org.fedseal.registry.internal;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import org.fedseal.he.HeParameters;
import org.fedseal.he.Packing;
import org.fedseal.protocol.CanonicalHash;
import org.fedseal.protocol.FederatedEvaluation;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.RoundBounds;
import org.fedseal.protocol.Topics;
import org.fedseal.protocol.wire.AggregateStatus;
import org.fedseal.protocol.wire.LogEntryKind;
import org.fedseal.protocol.wire.RoundOpened;
import org.fedseal.protocol.wire.RoundTask;
import org.fedseal.registry.FederatedEvaluationInfo;
import org.fedseal.registry.ModelInfo;
import org.fedseal.registry.RegistryConfig;
import org.fedseal.registry.RoundInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The registry's federated-evaluation section (issue 19): opening an evaluation round of a version
 * ({@code RoundOpened.task = EVALUATE}, fl-protocol {@link FederatedEvaluation}'s layout and bounds),
 * and storing the metrics a key holder decrypted from its aggregate (table {@code federated_evaluations}).
 */
final class Evaluations {
    private static final Logger LOG = LoggerFactory.getLogger(Evaluations.class);
    private final Database db;
    private final ProvenanceLog log;
    private final RegistryConfig config;
    private final Supplier<EventPublisher> publisher;
    private final ModelsAndKeys models;
    private final RoundsAndIngest rounds;

    Evaluations(
            Database db,
            ProvenanceLog log,
            RegistryConfig config,
            Supplier<EventPublisher> publisher,
            ModelsAndKeys models,
            RoundsAndIngest rounds) {
        this.db = db;
        this.log = log;
        this.config = config;
        this.publisher = publisher;
        this.models = models;
        this.rounds = rounds;
    }

    /**
     * Opens the next round of {@code modelId} as an evaluation round of {@code versionHash} (null: the latest version).
     * The clip norm covers every client whose mean loss is at most {@code lossBound} (null: {@link FederatedEvaluation#DEFAULT_LOSS_BOUND});
     * {@code maxTotalWeight} (examples) defaults to the largest the headroom allows, {@code maxUpdateWeight} to all of it.
     */
    RoundInfo open(
            String modelId,
            String versionHash,
            int quorum,
            long deadlineEpochMillis,
            Double lossBound,
            Long maxTotalWeight,
            Long maxUpdateWeight) {
        ModelInfo m = models.model(modelId);
        long now = System.currentTimeMillis();
        if (quorum < 1) {
            throw ApiException.badRequest("quorum must be >= 1");
        }
        if (deadlineEpochMillis <= now) {
            throw ApiException.badRequest("deadline must be in the future");
        }
        if (m.hePublicKeyHash() == null) {
            throw ApiException.conflict(
                    "no_public_key", "model " + modelId + " has no HE public key; upload one first");
        }
        double bound = lossBound == null ? FederatedEvaluation.DEFAULT_LOSS_BOUND : lossBound;
        if (!(bound > 0) || Double.isInfinite(bound)) {
            throw ApiException.badRequest("lossBound must be positive and finite");
        }
        HeParameters params = ModelsAndKeys.params(m.heParamsId());
        RoundBounds bounds;
        try {
            double clip = FederatedEvaluation.clipNormFor(bound);
            long total =
                    maxTotalWeight != null ? maxTotalWeight : RoundBounds.largestTotalWeight(params.maxSumNorm(), clip);
            bounds = RoundBounds.withDefaults(
                    params.maxSumNorm(), clip, total, maxUpdateWeight != null ? maxUpdateWeight : total, quorum);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest(params.id() + ": " + e.getMessage()
                    + " (evaluation round: clipNorm = sqrt(3 + lossBound^2), " + "weights are examples)");
        }
        RoundOpened opened = db.tx(c -> {
            RoundRepository repo = rounds.repository();
            repo.failExpired(modelId, now);
            Optional<Integer> open = repo.openRoundNumber(modelId);
            if (open.isPresent()) {
                throw ApiException.conflict("round_open", "round " + open.get() + " of " + modelId + " is still open");
            }
            ModelInfo current = models.model(modelId);
            String version = versionHash == null ? current.latestVersionHash() : versionHash;
            if (db.queryLong("SELECT COUNT(*) FROM versions WHERE version_hash = ? AND model_id = ?", version, modelId)
                    == 0) {
                throw ApiException.notFound("version " + version + " is not a version of " + modelId);
            }
            int round = repo.nextRoundNumber(modelId);
            RoundOpened r = bounds.applyTo(RoundOpened.newBuilder())
                    .setModelId(modelId)
                    .setRound(round)
                    .setBaseModelHash(Hash.fromHex(version).toByteBuffer())
                    .setHeParamsId(params.id())
                    .setPublicKeyHash(Hash.fromHex(current.hePublicKeyHash()).toByteBuffer())
                    .setQuorum(quorum)
                    .setDeadlineEpochMillis(deadlineEpochMillis)
                    .setChunkLayout(FederatedEvaluation.layout(params.valuesPerCiphertext(Packing.COMPLEX)))
                    .setLocalEpochs(1)
                    .setOpenedAtEpochMillis(now)
                    .setTask(RoundTask.EVALUATE)
                    .build();
            new PrivacyBudgets(db).checkRound(r); // a budgeted model takes no unnoised release
            repo.insert(r, version, current.hePublicKeyHash());
            log.append(LogEntryKind.ROUND_OPENED, modelId, round, CanonicalHash.of(r), null, null, null, r, now);
            return r;
        });
        try {
            publisher
                    .get()
                    .publish(
                            config.get(RegistryConfig.TOPIC_ROUNDS),
                            Topics.roundKey(modelId, opened.getRound()),
                            opened);
        } catch (RuntimeException e) {
            LOG.error(
                    "evaluation round {}/{} recorded but RoundOpened not published: {}",
                    modelId,
                    opened.getRound(),
                    e.toString());
        }
        return rounds.round(modelId, opened.getRound());
    }

    /**
     * Stores the metrics decrypted from an evaluation round's aggregate. The round must be an evaluation round
     * with a stored COMPLETED aggregate of hash {@code aggregateHash} whose total weight is {@code examples};
     * the participants are the aggregate's. Posting the same metrics again returns them; different ones are a 409.
     */
    FederatedEvaluationInfo record(
            String modelId,
            int round,
            String aggregateHash,
            long examples,
            Double accuracy,
            double loss,
            String recordedBy) {
        ModelsAndKeys.requireId(recordedBy, "recordedBy");
        if (accuracy != null && (accuracy.isNaN() || accuracy < 0 || accuracy > 1)) {
            throw ApiException.badRequest("accuracy must be in [0, 1]");
        }
        if (!(loss >= 0) || Double.isInfinite(loss)) {
            throw ApiException.badRequest("loss must be finite and >= 0");
        }
        RoundOpened r = rounds.roundOpened(modelId, round);
        if (r.getTask() != RoundTask.EVALUATE) {
            throw ApiException.conflict(
                    "not_evaluation_round",
                    "round " + round + " of " + modelId + " is a " + r.getTask()
                            + " round; only evaluation rounds have federated metrics");
        }
        return db.tx(c -> {
            Optional<Object[]> agg = db.queryOne(
                    "SELECT aggregate_hash, status, total_weight, participants FROM aggregates "
                            + "WHERE model_id = ? AND round_no = ? ORDER BY closed_at DESC",
                    rs -> new Object[] {rs.getString(1), rs.getString(2), rs.getLong(3), rs.getString(4)},
                    modelId,
                    round);
            if (agg.isEmpty() || !AggregateStatus.COMPLETED.name().equals(agg.get()[1])) {
                throw ApiException.conflict(
                        "aggregate_mismatch",
                        "evaluation round " + round + " of " + modelId + " has no completed aggregate");
            }
            if (!agg.get()[0].equals(aggregateHash)) {
                throw ApiException.conflict(
                        "aggregate_mismatch",
                        "aggregateHash is not the stored aggregate " + agg.get()[0] + " of round " + round);
            }
            if ((long) agg.get()[2] != examples) {
                throw ApiException.conflict(
                        "examples_mismatch",
                        "examples " + examples + " is not the aggregate's total weight " + agg.get()[2]);
            }
            Optional<FederatedEvaluationInfo> existing = find(modelId, round);
            if (existing.isPresent()) {
                FederatedEvaluationInfo e = existing.get();
                if (e.examples() == examples && java.util.Objects.equals(e.accuracy(), accuracy) && e.loss() == loss) {
                    return e;
                }
                throw ApiException.conflict(
                        "evaluation_exists", "round " + round + " of " + modelId + " already has federated metrics");
            }
            String participants = (String) agg.get()[3];
            db.update(
                    "INSERT INTO federated_evaluations (model_id, round_no, version_hash, aggregate_hash, examples, accuracy, loss, "
                            + "participants, recorded_by, recorded_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                    modelId,
                    round,
                    Hash.of(r.getBaseModelHash()).toHex(),
                    aggregateHash,
                    examples,
                    accuracy,
                    loss,
                    participants,
                    recordedBy,
                    System.currentTimeMillis());
            return find(modelId, round).orElseThrow();
        });
    }

    Optional<FederatedEvaluationInfo> find(String modelId, int round) {
        return db.queryOne(
                "SELECT " + COLS + " FROM federated_evaluations WHERE model_id = ? AND round_no = ?",
                Evaluations::row,
                modelId,
                round);
    }

    /** Evaluations of one version, oldest round first. */
    List<FederatedEvaluationInfo> ofVersion(String versionHash) {
        return db.query(
                "SELECT " + COLS + " FROM federated_evaluations WHERE version_hash = ? ORDER BY round_no",
                Evaluations::row,
                versionHash);
    }

    /** Evaluations of a model's versions, oldest round first. */
    List<FederatedEvaluationInfo> ofModel(String modelId) {
        models.model(modelId);
        return db.query(
                "SELECT " + COLS + " FROM federated_evaluations WHERE model_id = ? ORDER BY round_no",
                Evaluations::row,
                modelId);
    }

    private static final String COLS =
            "model_id, round_no, version_hash, aggregate_hash, examples, accuracy, loss, participants, recorded_by, recorded_at";

    private static FederatedEvaluationInfo row(java.sql.ResultSet rs) throws java.sql.SQLException {
        double acc = rs.getDouble(6);
        Double accuracy = rs.wasNull() ? null : acc;
        String p = rs.getString(8);
        List<String> participants =
                p.isEmpty() ? List.of() : Arrays.stream(p.split(",")).sorted().toList();
        return new FederatedEvaluationInfo(
                rs.getString(1),
                rs.getInt(2),
                rs.getString(3),
                rs.getString(4),
                rs.getLong(5),
                accuracy,
                rs.getDouble(7),
                participants,
                rs.getString(9),
                rs.getLong(10));
    }
}
