package org.fedseal.coordinator;

import java.util.List;
import java.util.Objects;
import org.fedseal.client.BaseModel;
import org.fedseal.he.EncryptedVector;
import org.fedseal.he.HeContext;
import org.fedseal.he.HeDecryptor;
import org.fedseal.he.HeParameters;
import org.fedseal.he.HeSecretKey;
import org.fedseal.he.MalformedHeDataException;
import org.fedseal.he.MaskedVectors;
import org.fedseal.he.SecretKeyAccess;
import org.fedseal.hejava.CompactMasking;
import org.fedseal.protocol.Aggregates;
import org.fedseal.protocol.CompactRounds;
import org.fedseal.protocol.FederatedEvaluation;
import org.fedseal.protocol.ModelWeights;
import org.fedseal.protocol.Strategy;
import org.fedseal.protocol.StrategyState;
import org.fedseal.protocol.wire.AggregatePublished;
import org.fedseal.protocol.wire.AggregateStatus;
import org.fedseal.protocol.wire.ChunkLayout;
import org.fedseal.protocol.wire.RoundOpened;

/**
 * The key-holder role: holds the CKKS secret key, decrypts an {@link AggregatePublished}'s per-chunk
 * summed ciphertexts ({@code Σ wᵢ·Δᵢ}), divides by {@code totalWeight} and adds the mean to the base
 * model. Verifying the aggregate's signature ({@code Signatures.verify(aggregate, aggregatorKey)}) is
 * the caller's job. Thread-safe; {@link #close()} frees the key if this object loaded it.
 */
public final class KeyHolder implements AutoCloseable {
    private final HeContext context;
    private final HeSecretKey secretKey;
    private final HeDecryptor decryptor;
    private final boolean owns;

    private KeyHolder(HeContext context, HeSecretKey secretKey, boolean owns) {
        this.context = context;
        this.secretKey = secretKey;
        this.owns = owns;
        this.decryptor = context.decryptor(secretKey);
    }

    /** A key holder over a context and secret key the caller keeps owning. */
    public static KeyHolder of(HeContext context, HeSecretKey secretKey) {
        return new KeyHolder(
                Objects.requireNonNull(context, "context"), Objects.requireNonNull(secretKey, "secretKey"), false);
    }

    /**
     * Loads a serialized secret key ({@code HeSecretKey.toBytes(access)}); reading secret bytes needs
     * the explicit {@code access} token.
     *
     * @throws MalformedHeDataException if the bytes are not a valid secret key for {@code parameters}
     */
    public static KeyHolder load(HeParameters parameters, byte[] secretKeyBytes, SecretKeyAccess access)
            throws MalformedHeDataException {
        HeContext ctx = HeContext.create(parameters);
        try {
            return new KeyHolder(ctx, ctx.loadSecretKey(secretKeyBytes, access), true);
        } catch (MalformedHeDataException | RuntimeException e) {
            ctx.close();
            throw e;
        }
    }

    /** The parameter set id of the key. */
    public String heParamsId() {
        return context.parameters().id();
    }

    /**
     * Decrypts the summed ciphertexts, concatenated in layout order: {@code Σ wᵢ·Δᵢ}. The chunk
     * sums of a chunked aggregate come from {@code chunks}, each verified against the manifest
     * ({@link Aggregates#ciphertexts}).
     *
     * @throws IllegalArgumentException if the aggregate is not COMPLETED, has other HE parameters,
     *     a chunk sum that does not match its manifest, or a ciphertext SEAL rejects
     */
    public double[] decryptSum(AggregatePublished aggregate, Aggregates.ChunkSource chunks) {
        Objects.requireNonNull(aggregate, "aggregate");
        if (aggregate.getStatus() != AggregateStatus.COMPLETED) {
            throw new IllegalArgumentException("aggregate " + aggregate.getModelId() + "/" + aggregate.getRound()
                    + " has status " + aggregate.getStatus() + "; only COMPLETED aggregates can be decrypted");
        }
        if (!heParamsId().equals(aggregate.getHeParamsId())) {
            throw new IllegalArgumentException(
                    "aggregate uses HE parameters " + aggregate.getHeParamsId() + ", this key holder " + heParamsId());
        }
        List<byte[]> cts = Aggregates.ciphertexts(aggregate, chunks);
        double[][] parts = new double[cts.size()][];
        long total = 0;
        for (int i = 0; i < cts.size(); i++) {
            if (MaskedVectors.isMasked(cts.get(i))) {
                throw new IllegalArgumentException("aggregate " + aggregate.getModelId() + "/" + aggregate.getRound()
                        + " is a compact round's: decrypt it with its RoundOpened");
            }
            try (EncryptedVector v = context.loadVector(cts.get(i))) {
                parts[i] = decryptor.decrypt(v);
                total += parts[i].length;
            } catch (MalformedHeDataException e) {
                throw new IllegalArgumentException("summed ciphertext " + i + " is malformed: " + e.getMessage(), e);
            }
        }
        double[] out = new double[Math.toIntExact(total)];
        int at = 0;
        for (double[] part : parts) {
            System.arraycopy(part, 0, out, at, part.length);
            at += part.length;
        }
        return out;
    }

    /** {@link #decryptSum(AggregatePublished, Aggregates.ChunkSource)} of an aggregate with its sums inline (release 0.1). */
    public double[] decryptSum(AggregatePublished aggregate) {
        return decryptSum(aggregate, Aggregates.INLINE);
    }

    /**
     * {@link #decryptSum(AggregatePublished, Aggregates.ChunkSource)} of the aggregate of
     * {@code round}, which may be a compact round (fl-protocol {@link CompactRounds}): then only the
     * summed masking keys are decrypted, giving {@code S = Σ sᵢ}, and every block sum is unmasked
     * with it (he-java {@link CompactMasking#unmaskAll}). Returns {@code layout.totalValues} sums.
     *
     * @param round the aggregate's round; null for a round that is not compact
     * @throws IllegalArgumentException as {@link #decryptSum(AggregatePublished, Aggregates.ChunkSource)},
     *     if the aggregate is not of {@code round}, or its entries do not follow the round's layout
     */
    public double[] decryptSum(AggregatePublished aggregate, Aggregates.ChunkSource chunks, RoundOpened round) {
        if (round == null || !CompactRounds.isCompact(round)) {
            return decryptSum(aggregate, chunks);
        }
        if (!aggregate.getModelId().equals(round.getModelId()) || aggregate.getRound() != round.getRound()) {
            throw new IllegalArgumentException("aggregate " + aggregate.getModelId() + "/" + aggregate.getRound()
                    + " is not of round " + round.getModelId() + "/" + round.getRound());
        }
        if (aggregate.getStatus() != AggregateStatus.COMPLETED || !heParamsId().equals(aggregate.getHeParamsId())) {
            throw new IllegalArgumentException("aggregate " + aggregate.getModelId() + "/" + aggregate.getRound()
                    + " is " + aggregate.getStatus() + " under " + aggregate.getHeParamsId()
                    + "; this key holder decrypts COMPLETED " + heParamsId() + " aggregates");
        }
        List<byte[]> entries = Aggregates.ciphertexts(aggregate, chunks);
        ChunkLayout layout = round.getChunkLayout();
        if (entries.size() != layout.getCiphertextCount()) {
            throw new IllegalArgumentException(
                    "aggregate has " + entries.size() + " entries, the round's layout " + layout.getCiphertextCount());
        }
        List<byte[]> keys = MaskedVectors.withoutMasked(entries);
        if (keys.size() != 1) {
            throw new IllegalArgumentException("a compact aggregate holds one key sum, this one " + keys.size());
        }
        double[] keyValues;
        try (EncryptedVector v = context.loadVector(keys.get(0))) {
            keyValues = decryptor.decrypt(v);
        } catch (MalformedHeDataException e) {
            throw new IllegalArgumentException("the summed masking key is malformed: " + e.getMessage(), e);
        }
        return CompactMasking.forRound(round.getMaskModulus(), round.getMaskScaleBits(), CompactRounds.roundSeed(round))
                .unmaskAll(
                        MaskedVectors.decodeMasked(entries, round.getMaskModulus()),
                        keyValues,
                        aggregate.getAcceptedCount(),
                        Math.toIntExact(layout.getTotalValues()));
    }

    /** {@link #decryptSum(AggregatePublished, Aggregates.ChunkSource, RoundOpened)} divided by the total weight. */
    public double[] decryptMean(AggregatePublished aggregate, Aggregates.ChunkSource chunks, RoundOpened round) {
        if (aggregate.getTotalWeight() < 1) {
            throw new IllegalArgumentException("aggregate totalWeight must be >= 1, got " + aggregate.getTotalWeight());
        }
        double[] sum = decryptSum(aggregate, chunks, round);
        return ModelWeights.mean(sum, aggregate.getTotalWeight(), sum.length);
    }

    /** {@link #decryptSum} divided by the aggregate's {@code totalWeight}: the FedAvg mean delta. */
    public double[] decryptMean(AggregatePublished aggregate, Aggregates.ChunkSource chunks) {
        if (aggregate.getTotalWeight() < 1) {
            throw new IllegalArgumentException("aggregate totalWeight must be >= 1, got " + aggregate.getTotalWeight());
        }
        double[] sum = decryptSum(aggregate, chunks);
        return ModelWeights.mean(sum, aggregate.getTotalWeight(), sum.length);
    }

    /**
     * The federated metrics of an evaluation round's aggregate ({@code RoundOpened.task = EVALUATE}):
     * decrypts the summed {@link FederatedEvaluation} vectors and divides by the total weight (the
     * examples), giving the example-weighted mean accuracy and loss of the participating clients.
     *
     * @throws IllegalArgumentException as {@link #decryptSum}, or if the sum is not an evaluation sum of
     *     the aggregate's total weight
     */
    public FederatedEvaluation.Metrics decryptEvaluation(AggregatePublished aggregate, Aggregates.ChunkSource chunks) {
        return FederatedEvaluation.decode(decryptSum(aggregate, chunks), aggregate.getTotalWeight());
    }

    /**
     * The new parameters {@code base + Σ wᵢΔᵢ / Σ wᵢ}.
     *
     * @throws IllegalArgumentException if the aggregate's length differs from the base model's
     */
    public float[] apply(AggregatePublished aggregate, Aggregates.ChunkSource chunks, float[] baseParameters) {
        double[] mean = decryptMean(aggregate, chunks);
        if (mean.length != baseParameters.length) {
            throw new IllegalArgumentException(
                    "aggregate has " + mean.length + " values, the base model " + baseParameters.length);
        }
        return ModelWeights.applyMean(baseParameters, mean);
    }

    /**
     * One step of a server {@code strategy}: decrypts the mean update and turns the parent's
     * parameters and state into the next ({@link Strategy#step}); FedAvg's weights are those of
     * {@link #apply(AggregatePublished, Aggregates.ChunkSource, float[])} bit for bit.
     *
     * @param parentState the base version's stored strategy state ({@code StrategyState.EMPTY} if
     *     none); the step starts from {@link Strategy#resume} of it
     * @param round the aggregate's round (needed for a compact round's; null otherwise)
     * @throws IllegalArgumentException if the aggregate's length differs from the base model's
     */
    public Strategy.Step apply(
            AggregatePublished aggregate,
            Aggregates.ChunkSource chunks,
            float[] baseParameters,
            Strategy strategy,
            StrategyState parentState,
            RoundOpened round) {
        double[] mean = decryptMean(aggregate, chunks, round);
        if (mean.length != baseParameters.length) {
            throw new IllegalArgumentException(
                    "aggregate has " + mean.length + " values, the base model " + baseParameters.length);
        }
        return strategy.step(baseParameters, mean, strategy.resume(parentState, baseParameters.length));
    }

    /**
     * {@link #apply(AggregatePublished, Aggregates.ChunkSource, float[], Strategy, StrategyState,
     * RoundOpened)} to {@code base}, then hands the step to {@code publisher}; returns it too.
     */
    public Strategy.Step finishRound(
            AggregatePublished aggregate,
            Aggregates.ChunkSource chunks,
            BaseModel base,
            Strategy strategy,
            StrategyState parentState,
            RoundOpened round,
            ModelPublisher publisher) {
        Strategy.Step step = apply(aggregate, chunks, base.parameters(), strategy, parentState, round);
        publisher.publish(
                base, aggregate, strategy, new Strategy.Step(step.weights().clone(), step.state()));
        return step;
    }

    /** {@link #apply} to {@code base}, then hands the result to {@code publisher}; returns it too. */
    public float[] finishRound(
            AggregatePublished aggregate, Aggregates.ChunkSource chunks, BaseModel base, ModelPublisher publisher) {
        float[] next = apply(aggregate, chunks, base.parameters());
        publisher.publish(base, aggregate, next.clone());
        return next;
    }

    @Override
    public void close() {
        decryptor.close();
        if (owns) {
            secretKey.close();
            context.close();
        }
    }

    @Override
    public String toString() {
        return "KeyHolder[" + heParamsId() + "]";
    }
}
