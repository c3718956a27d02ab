package org.fedseal.coordinator;

import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.ToDoubleFunction;
import org.fedseal.client.BaseModel;
import org.fedseal.coordinator.internal.CeremonyFollower;
import org.fedseal.protocol.CanonicalHash;
import org.fedseal.protocol.FederatedEvaluation;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.SigningKeyPair;
import org.fedseal.protocol.SigningPublicKey;
import org.fedseal.protocol.Strategy;
import org.fedseal.protocol.StrategyState;
import org.fedseal.protocol.Topics;
import org.fedseal.protocol.wire.AggregatePublished;
import org.fedseal.protocol.wire.AggregateStatus;
import org.fedseal.protocol.wire.DecryptionSharesPublished;
import org.fedseal.protocol.wire.RoundOpened;
import org.fedseal.registry.DecryptionSharesInfo;
import org.fedseal.registry.FederatedEvaluationInfo;
import org.fedseal.registry.RegistryClient;
import org.fedseal.registry.VersionInfo;

/**
 * The combiner of a threshold model (the version publisher): follows the key ceremony on Kafka (recomputing the
 * collective key from the holders' revealed shares), then, per round, collects every key holder's
 * signed decryption shares of the aggregate, combines them (no secret needed) and publishes the
 * next model version (with its server {@link Strategy}, FedAvg by default) naming the ceremony and the
 * share records. Holds no secret share.
 */
public final class Combiner implements AutoCloseable {
    private final RegistryClient registry;
    private final String publisherId;
    private final KeyCeremonyParticipant.Result ceremony;
    private final Map<String, SigningPublicKey> holderKeys = new HashMap<>();
    private final SigningKeyPair identity = SigningKeyPair.generate();
    private final ToDoubleFunction<float[]> evaluator;
    private final Strategy strategy;
    private final TopicFeed<AggregatePublished> aggregates;
    private final TopicFeed<DecryptionSharesPublished> shares;

    /**
     * Follows {@code ceremonyId} to completion (or throws after {@code timeout}) and checks that the
     * registry made the same collective key the model's rounds will name. Enrols itself as
     * {@code <modelId>-combiner}, the publisher the model was registered with.
     *
     * @param registry a registry client allowed to enrol (coordinator token)
     * @param evaluator the accuracy of a new version's weights, recorded with it; null for none
     */
    public Combiner(
            String bootstrapServers,
            RegistryClient registry,
            String modelId,
            String ceremonyId,
            Duration timeout,
            ToDoubleFunction<float[]> evaluator)
            throws Exception {
        this(bootstrapServers, registry, modelId, ceremonyId, timeout, evaluator, Strategy.fedAvg());
    }

    /**
     * As {@link #Combiner(String, RegistryClient, String, String, Duration, ToDoubleFunction)}, turning
     * each combined mean update into the next version with {@code strategy} (each step starts from the
     * base version's stored strategy state).
     */
    public Combiner(
            String bootstrapServers,
            RegistryClient registry,
            String modelId,
            String ceremonyId,
            Duration timeout,
            ToDoubleFunction<float[]> evaluator,
            Strategy strategy)
            throws Exception {
        this.strategy = java.util.Objects.requireNonNull(strategy, "strategy");
        this.registry = registry;
        this.publisherId = modelId + "-combiner";
        this.evaluator = evaluator;
        this.ceremony = KeyCeremonyParticipant.finish(CeremonyFollower.follow(
                bootstrapServers,
                registry,
                ceremonyId,
                null,
                timeout,
                msg -> System.out.println("  combiner: " + msg)));
        String registryKey = awaitRegistryKey(modelId, timeout);
        if (!ceremony.publicKeyHash().toHex().equals(registryKey)) {
            throw new IllegalStateException("the registry's key for " + modelId + " (" + registryKey
                    + ") is not the collective key of ceremony " + ceremonyId + " (" + ceremony.publicKeyHash() + ")");
        }
        for (String holder : ceremony.holderIds()) {
            holderKeys.put(holder, registry.clientKey(holder));
        }
        registry.enrollClient(publisherId, identity.publicKey(), List.of(modelId));
        this.aggregates = new TopicFeed<>(bootstrapServers, Topics.AGGREGATES, AggregatePublished.class);
        this.shares = new TopicFeed<>(bootstrapServers, Topics.DECRYPTION_SHARES, DecryptionSharesPublished.class);
    }

    /** The completed ceremony this combiner combines for. */
    public KeyCeremonyParticipant.Result ceremony() {
        return ceremony;
    }

    private String awaitRegistryKey(String modelId, Duration timeout) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < end) {
            var c = registry.ceremony(ceremony.ceremonyId());
            if ("failed".equals(c.status())) {
                throw new IllegalStateException("the registry failed ceremony " + c.ceremonyId() + ": " + c.failure());
            }
            if ("completed".equals(c.status())) {
                return registry.model(modelId).hePublicKeyHash();
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException(
                "the registry did not complete ceremony " + ceremony.ceremonyId() + " within " + timeout);
    }

    /** Waits for the round's aggregate and all shares, combines them and publishes the next version. */
    public VersionInfo combineAndPublish(RoundOpened round, Duration timeout) throws Exception {
        if (FederatedEvaluation.isEvaluation(round)) {
            throw new IllegalArgumentException("round " + round.getRound() + " of " + round.getModelId()
                    + " is an evaluation round: its aggregate yields metrics (combineEvaluation), not a version");
        }
        AggregatePublished agg = aggregates.await(
                a -> a.getModelId().equals(round.getModelId()) && a.getRound() == round.getRound(), timeout);
        if (agg.getStatus() != AggregateStatus.COMPLETED) {
            throw new IllegalStateException("round " + round.getRound() + " closed " + agg.getStatus());
        }
        Hash aggHash = CanonicalHash.of(agg);
        List<DecryptionSharesPublished> signed = shares.await(
                s -> s.getModelId().equals(round.getModelId())
                        && s.getRound() == round.getRound()
                        && aggHash.matches(s.getAggregateHash()),
                holderKeys.size(),
                timeout);
        BaseModel base =
                new RegistryModelSource(registry).baseModel(round.getModelId(), Hash.of(round.getBaseModelHash()));
        double[] mean = ThresholdKeyHolder.combine(
                agg,
                new RegistryUpdateArchive(registry, timeout)::chunkSum,
                signed,
                ceremony,
                holderKeys,
                base.parameters().length,
                round);
        List<Hash> shareHashes = signed.stream().map(CanonicalHash::of).toList();
        awaitLogged(round, shareHashes, timeout);
        RegistryVersionPublisher publisher =
                new RegistryVersionPublisher(registry, publisherId, identity.privateKey(), evaluator);
        int n = base.parameters().length;
        StrategyState parentState = strategy.stateless() ? StrategyState.EMPTY : publisher.stateOf(base.versionHash());
        Strategy.Step step = strategy.step(base.parameters(), mean, strategy.resume(parentState, n));
        publisher.publish(base, agg, strategy, step, ceremony.ceremonyId(), shareHashes);
        return publisher.lastPublished();
    }

    /**
     * Federated evaluation (issue 19): waits for an evaluation round's aggregate and all holders' shares,
     * combines them into the {@link FederatedEvaluation} totals (no secret needed, as for a version) and
     * records the example-weighted accuracy and loss with the evaluated version in the registry.
     *
     * @throws IllegalArgumentException if {@code round} is not an evaluation round, or the shares do not combine
     * @throws IllegalStateException if the round's aggregate is not COMPLETED
     */
    public FederatedEvaluationInfo combineEvaluation(RoundOpened round, Duration timeout) throws Exception {
        if (!FederatedEvaluation.isEvaluation(round)) {
            throw new IllegalArgumentException(
                    "round " + round.getRound() + " of " + round.getModelId() + " is a training round");
        }
        AggregatePublished agg = aggregates.await(
                a -> a.getModelId().equals(round.getModelId()) && a.getRound() == round.getRound(), timeout);
        if (agg.getStatus() != AggregateStatus.COMPLETED) {
            throw new IllegalStateException("evaluation round " + round.getRound() + " closed " + agg.getStatus());
        }
        Hash aggHash = CanonicalHash.of(agg);
        List<DecryptionSharesPublished> signed = shares.await(
                s -> s.getModelId().equals(round.getModelId())
                        && s.getRound() == round.getRound()
                        && aggHash.matches(s.getAggregateHash()),
                holderKeys.size(),
                timeout);
        double[] mean = ThresholdKeyHolder.combine(
                agg,
                new RegistryUpdateArchive(registry, timeout)::chunkSum,
                signed,
                ceremony,
                holderKeys,
                FederatedEvaluation.LENGTH,
                round);
        double[] sum = new double[mean.length];
        for (int i = 0; i < mean.length; i++) {
            sum[i] = mean[i] * agg.getTotalWeight();
        }
        FederatedEvaluation.Metrics m = FederatedEvaluation.decode(sum, agg.getTotalWeight());
        return registry.recordEvaluation(
                round.getModelId(), round.getRound(), aggHash, m.examples(), m.accuracy(), m.loss(), publisherId);
    }

    /** The registry refuses a version naming shares it has not logged yet; it reads the same topic, a moment later. */
    private void awaitLogged(RoundOpened round, List<Hash> shareHashes, Duration timeout) throws InterruptedException {
        Set<String> wanted = new HashSet<>(shareHashes.stream().map(Hash::toHex).toList());
        long end = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < end) {
            Set<String> logged = new HashSet<>(registry.decryptionShares(round.getModelId(), round.getRound()).stream()
                    .map(DecryptionSharesInfo::recordHash)
                    .toList());
            if (logged.containsAll(wanted)) {
                return;
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException(
                "the registry did not log the decryption shares of round " + round.getRound() + " within " + timeout);
    }

    @Override
    public void close() {
        aggregates.close();
        shares.close();
    }
}
