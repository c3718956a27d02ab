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
import org.fedseal.protocol.wire.AggregatePublished;
import org.fedseal.protocol.wire.ModelVersionPublished;
import org.fedseal.registry.RegistryClient;
import org.fedseal.registry.VersionInfo;

/**
 * The SDK's {@link ModelPublisher} over the registry: builds the new version's record (chained
 * to its parent, the aggregate and the accepted-update root), signs it with the key holder's
 * enrolled Ed25519 key and publishes it with its weights and, optionally, its accuracy.
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
  public RegistryVersionPublisher(RegistryClient registry, String publisherId, SigningPrivateKey signingKey,
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

  /**
   * Publishes a threshold model's version, naming the key ceremony and the holders' decryption
   * share records (their canonical hashes) that were combined.
   */
  public void publish(BaseModel base, AggregatePublished aggregate, float[] next, String ceremonyId, List<Hash> shareHashes) {
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
        .setDecryptionShareHashes(shareHashes.stream().sorted().map(Hash::toByteBuffer).toList())
        .build();
    v.setVersionHash(CanonicalHash.versionHash(v).toByteBuffer());
    Double accuracy = evaluator == null ? null : evaluator.applyAsDouble(next);
    last = registry.publishVersion(Signatures.sign(v, signingKey), publisherId, ModelWeights.encode(next), accuracy);
  }

  /** The version published last, or null. */
  public VersionInfo lastPublished() {
    return last;
  }
}
