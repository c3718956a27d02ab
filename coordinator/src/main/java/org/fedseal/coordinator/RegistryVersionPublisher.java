package org.fedseal.coordinator;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.function.ToDoubleFunction;
import org.fedseal.client.BaseModel;
import org.fedseal.protocol.CanonicalHash;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.ModelWeights;
import org.fedseal.protocol.Signatures;
import org.fedseal.protocol.SigningPrivateKey;
import org.fedseal.protocol.Strategy;
import org.fedseal.protocol.StrategyState;
import org.fedseal.protocol.wire.AggregatePublished;
import org.fedseal.protocol.wire.ModelVersionPublished;
import org.fedseal.registry.RegistryClient;
import org.fedseal.registry.VersionInfo;

/**
 * The SDK's {@link ModelPublisher} over the registry: builds the new version's record (chained
 * to its parent, the aggregate and the accepted-update root), signs it with the key holder's
 * enrolled Ed25519 key and publishes it with its weights, its server strategy's state and, optionally,
 * its accuracy.
 */
public final class RegistryVersionPublisher implements ModelPublisher {
    private final RegistryClient registry;
    private final String publisherId;
    private final SigningPrivateKey signingKey;
    private final ToDoubleFunction<float[]> evaluator;
    private volatile VersionInfo last;

    /**
     * @param publisherId the key holder's enrolled client id (the model's key holder)
     * @param evaluator accuracy of new parameters, or null to report none
     */
    public RegistryVersionPublisher(
            RegistryClient registry,
            String publisherId,
            SigningPrivateKey signingKey,
            ToDoubleFunction<float[]> evaluator) {
        this.registry = registry;
        this.publisherId = publisherId;
        this.signingKey = signingKey;
        this.evaluator = evaluator;
    }

    @Override
    public void publish(BaseModel base, AggregatePublished aggregate, float[] next) {
        publish(base, aggregate, next, null, List.of());
    }

    @Override
    public void publish(BaseModel base, AggregatePublished aggregate, Strategy strategy, Strategy.Step step) {
        publish(base, aggregate, strategy, step, null, List.of());
    }

    /**
     * Publishes a threshold model's FedAvg version, naming the key ceremony and the holders'
     * decryption share records (their canonical hashes) that were combined.
     */
    public void publish(
            BaseModel base, AggregatePublished aggregate, float[] next, String ceremonyId, List<Hash> shareHashes) {
        publish(
                base,
                aggregate,
                Strategy.fedAvg(),
                new Strategy.Step(next, StrategyState.EMPTY),
                ceremonyId,
                shareHashes);
    }

    /**
     * Publishes a version made by {@code strategy}: the record names the strategy (null for plain
     * FedAvg) and the hash of {@code step.state()}, whose bytes go to the registry with the weights;
     * for a threshold model also the key ceremony and the combined share records ({@code ceremonyId}
     * null otherwise).
     */
    public void publish(
            BaseModel base,
            AggregatePublished aggregate,
            Strategy strategy,
            Strategy.Step step,
            String ceremonyId,
            List<Hash> shareHashes) {
        float[] next = step.weights();
        ModelVersionPublished v = ModelVersionPublished.newBuilder()
                .setModelId(base.modelId())
                .setVersionHash(ByteBuffer.allocate(0))
                .setParentHash(base.versionHash().toByteBuffer())
                .setAggregateHash(CanonicalHash.of(aggregate).toByteBuffer())
                .setAcceptedUpdateRoot(aggregate.getAcceptedUpdateRoot())
                .setRound(aggregate.getRound())
                .setWeightsHash(ModelWeights.hash(next).toByteBuffer())
                .setPublishedAtEpochMillis(System.currentTimeMillis())
                .setSignature(ByteBuffer.allocate(0))
                .setCeremonyId(ceremonyId)
                .setDecryptionShareHashes(
                        shareHashes.stream().sorted().map(Hash::toByteBuffer).toList())
                .setStrategy(strategy.toRecordSpec())
                .setOptimizerStateHash(step.state().hashField())
                .build();
        v.setVersionHash(CanonicalHash.versionHash(v).toByteBuffer());
        Double accuracy = evaluator == null ? null : evaluator.applyAsDouble(next);
        last = registry.publishVersion(
                Signatures.sign(v, signingKey),
                publisherId,
                ModelWeights.encode(next),
                step.state().encode(),
                accuracy);
    }

    /**
     * The strategy state stored with version {@code versionHash} ({@link StrategyState#EMPTY} if its
     * record names none): what the next step starts from.
     *
     * @throws IllegalStateException if the registry serves bytes that do not hash to the record's optimizerStateHash
     */
    public StrategyState stateOf(Hash versionHash) {
        return registry.optimizerState(registry.versionRecord(versionHash));
    }

    /** The version published last, or null. */
    public VersionInfo lastPublished() {
        return last;
    }
}
