package org.fedseal.demo;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.fedseal.client.BaseModel;
import org.fedseal.client.DjlTrainer;
import org.fedseal.client.LocalDataset;
import org.fedseal.client.ThresholdKeyHolder;
import org.fedseal.hejava.threshold.CommonReference;
import org.fedseal.hejava.threshold.ThresholdKeys;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.SigningKeyPair;
import org.fedseal.protocol.SigningPublicKey;
import org.fedseal.protocol.Topics;
import org.fedseal.protocol.wire.AggregatePublished;
import org.fedseal.protocol.wire.AggregateStatus;
import org.fedseal.protocol.wire.DecryptionSharesPublished;
import org.fedseal.protocol.wire.RoundOpened;
import org.fedseal.registry.RegistryClient;
import org.fedseal.registry.VersionInfo;

/**
 * The demo's combiner in threshold mode: collects every key holder's signed decryption shares of
 * a round's aggregate from Kafka, combines them (no secret needed), and publishes the next model
 * version as the model's publisher. Holds no secret share.
 */
final class Combiner implements AutoCloseable {
  private final RegistryClient registry;
  private final String publisherId;
  private final List<byte[]> keyShareDigests;
  private final Map<String, SigningPublicKey> holderKeys = new HashMap<>();
  private final SigningKeyPair identity = SigningKeyPair.generate();
  private final DjlTrainer evaluator;
  private final LocalDataset test;
  private final TopicFeed<AggregatePublished> aggregates;
  private final TopicFeed<DecryptionSharesPublished> shares;

  Combiner(FederatedDeployment deployment, RegistryClient registry, String modelId, CommonReference crs,
      List<byte[]> publicKeyShares, DjlTrainer evaluator, LocalDataset test) {
    this.registry = registry;
    this.publisherId = modelId + "-combiner";
    this.evaluator = evaluator;
    this.test = test;
    this.keyShareDigests = publicKeyShares.stream().map(s -> ThresholdKeys.keyShareDigest(crs, s)).toList();
    for (int i = 1; i <= publicKeyShares.size(); i++) {
      holderKeys.put(modelId + "-keyholder-" + i, registry.clientKey(modelId + "-keyholder-" + i));
    }
    registry.enrollClient(publisherId, identity.publicKey(), List.of(modelId));
    this.aggregates = new TopicFeed<>(deployment.bootstrapServers(), Topics.AGGREGATES, AggregatePublished.class);
    this.shares = new TopicFeed<>(deployment.bootstrapServers(), Topics.DECRYPTION_SHARES, DecryptionSharesPublished.class);
  }

  /** Waits for the round's aggregate and all shares, combines them and publishes the next version. */
  VersionInfo combineAndPublish(RoundOpened round, Duration timeout) throws Exception {
    AggregatePublished agg = aggregates.await(a -> a.getModelId().equals(round.getModelId())
        && a.getRound() == round.getRound(), timeout);
    if (agg.getStatus() != AggregateStatus.COMPLETED) {
      throw new IllegalStateException("round " + round.getRound() + " closed " + agg.getStatus());
    }
    List<ThresholdKeyHolder.SignedShares> signed = shares.await(s -> s.getModelId().equals(round.getModelId())
        && s.getRound() == round.getRound(), holderKeys.size(), timeout).stream()
        .map(s -> new ThresholdKeyHolder.SignedShares(s.getHolderId(), Hash.of(s.getAggregateHash()),
            s.getShares().stream().map(Combiner::bytes).toList(), bytes(s.getSignature())))
        .toList();
    BaseModel base = new RegistryModelSource(registry).baseModel(round.getModelId(), Hash.of(round.getBaseModelHash()));
    double[] mean = ThresholdKeyHolder.combine(agg, signed, holderKeys, keyShareDigests, base.parameters().length);
    float[] next = base.parameters().clone();
    for (int i = 0; i < next.length; i++) {
      next[i] += (float) mean[i];
    }
    RegistryVersionPublisher publisher = new RegistryVersionPublisher(registry, publisherId, identity.privateKey(),
        p -> evaluator.accuracy(p, test));
    publisher.publish(base, agg, next);
    return publisher.lastPublished();
  }

  private static byte[] bytes(ByteBuffer b) {
    byte[] out = new byte[b.remaining()];
    b.duplicate().get(out);
    return out;
  }

  @Override
  public void close() {
    aggregates.close();
    shares.close();
  }
}
