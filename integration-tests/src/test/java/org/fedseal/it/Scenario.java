package org.fedseal.it;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.fedseal.client.ClientConfig;
import org.fedseal.client.FederatedClient;
import org.fedseal.client.KeyHolder;
import org.fedseal.client.LocalTrainer;
import org.fedseal.demo.FederatedDeployment;
import org.fedseal.demo.RegistryModelSource;
import org.fedseal.he.HeContext;
import org.fedseal.he.HeKeyPair;
import org.fedseal.he.HeParameters;
import org.fedseal.protocol.ModelWeights;
import org.fedseal.protocol.SigningKeyPair;
import org.fedseal.protocol.Topics;
import org.fedseal.protocol.WireCodec;
import org.fedseal.protocol.WireFormatException;
import org.fedseal.protocol.wire.AggregatePublished;
import org.fedseal.protocol.wire.RoundOpened;
import org.fedseal.protocol.wire.UpdateRejected;
import org.fedseal.registry.RegistryClient;
import org.fedseal.registry.RoundInfo;
import org.fedseal.registry.VersionInfo;
import org.fedseal.client.BaseModel;
import org.fedseal.demo.RegistryVersionPublisher;
import org.fedseal.protocol.Hash;

/**
 * One model on the shared deployment, with an in-test key holder (HE keys made here, only the
 * public key handed to the registry) and helpers to run rounds and read the output topics.
 */
final class Scenario implements AutoCloseable {
  final FederatedDeployment deployment;
  final String modelId;
  final HeContext he;
  final HeKeyPair keys;
  final KeyHolder keyHolder;
  final RegistryClient admin;
  final float[] initial;
  final List<FederatedClient> clients = new ArrayList<>();
  final Map<String, SigningKeyPair> identities = new java.util.HashMap<>();
  final SigningKeyPair keyHolderIdentity;

  Scenario(FederatedDeployment deployment, String modelId, float[] initial) {
    this.deployment = deployment;
    this.modelId = modelId;
    this.initial = initial;
    this.admin = deployment.adminClient();
    this.he = HeContext.create(HeParameters.CKKS_8192);
    this.keys = he.generateKeys();
    this.keyHolder = KeyHolder.of(he, keys.secretKey());
    this.keyHolderIdentity = SigningKeyPair.generate();
    admin.registerModel(modelId, "test model", HeParameters.CKKS_8192.id(), ModelWeights.encode(initial), keyHolderId());
    admin.putHePublicKey(modelId, keys.publicKey().toBytes());
    admin.enrollClient(keyHolderId(), keyHolderIdentity.publicKey(), List.of(modelId));
  }

  String keyHolderId() {
    return modelId + "-keyholder";
  }

  /** As the key holder: turns a completed aggregate into the next version in the registry. */
  VersionInfo publishVersion(AggregatePublished agg) throws Exception {
    RoundInfo round = admin.roundStatus(modelId, agg.getRound());
    BaseModel base = new RegistryModelSource(admin).baseModel(modelId, Hash.fromHex(round.baseModelHash()));
    RegistryVersionPublisher publisher = new RegistryVersionPublisher(admin, keyHolderId(), keyHolderIdentity.privateKey(), null);
    keyHolder.finishRound(agg, base, publisher);
    return publisher.lastPublished();
  }

  /** Enrols {@code id} and builds a real client (real Kafka producer) around {@code trainer}. */
  FederatedClient client(String id, LocalTrainer trainer) {
    SigningKeyPair identity = SigningKeyPair.generate();
    identities.put(id, identity);
    admin.enrollClient(id, identity.publicKey(), List.of(modelId));
    FederatedClient c = FederatedClient.builder(Map.of(
            ClientConfig.BOOTSTRAP_SERVERS, deployment.bootstrapServers(),
            ClientConfig.CLIENT_ID, id,
            ClientConfig.MODEL_IDS, modelId,
            ClientConfig.CLIP_L2_BOUND, "10",
            ClientConfig.MAX_TOTAL_WEIGHT, "20000"))
        .trainer(trainer)
        .modelSource(new RegistryModelSource(RegistryClient.create(deployment.registry().uri())))
        .signingKey(identity.privateKey())
        .build();
    clients.add(c);
    return c;
  }

  /** Opens a round through the registry and returns the announcement as clients read it from Kafka. */
  RoundOpened open(int quorum, Duration deadline) {
    RoundInfo info = admin.openRound(modelId, quorum, deadline, 1, 6);
    return await(Topics.ROUNDS, RoundOpened.class, o -> o.getModelId().equals(modelId) && o.getRound() == info.round(),
        Duration.ofSeconds(30)).get(0);
  }

  AggregatePublished aggregate(int round, Duration timeout) {
    return await(Topics.AGGREGATES, AggregatePublished.class,
        a -> a.getModelId().equals(modelId) && a.getRound() == round, timeout).get(0);
  }

  /** Rejects of this model's round, waiting until at least {@code atLeast} arrived. */
  List<UpdateRejected> rejects(int round, int atLeast, Duration timeout) {
    List<UpdateRejected> out = new ArrayList<>();
    long end = System.nanoTime() + timeout.toNanos();
    try (KafkaConsumer<byte[], byte[]> consumer = consumer(Topics.REJECTS)) {
      while (System.nanoTime() < end && out.size() < atLeast) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          decode(r.value(), UpdateRejected.class).filter(x -> modelId.equals(x.getModelId()) && x.getRound() == round)
              .ifPresent(out::add);
        }
      }
    }
    return out;
  }

  /** The first records of {@code type} on {@code topic} matching {@code match} (read_committed). */
  <T extends org.apache.avro.specific.SpecificRecord> List<T> await(String topic, Class<T> type, Predicate<T> match,
      Duration timeout) {
    long end = System.nanoTime() + timeout.toNanos();
    try (KafkaConsumer<byte[], byte[]> consumer = consumer(topic)) {
      while (System.nanoTime() < end) {
        List<T> found = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          decode(r.value(), type).filter(match).ifPresent(found::add);
        }
        if (!found.isEmpty()) {
          return found;
        }
      }
    }
    throw new AssertionError("no matching " + type.getSimpleName() + " on " + topic + " within " + timeout);
  }

  /** Every matching record of {@code type} on {@code topic}, reading for {@code duration} (read_committed). */
  <T extends org.apache.avro.specific.SpecificRecord> List<T> collect(String topic, Class<T> type, Predicate<T> match,
      Duration duration) {
    List<T> found = new ArrayList<>();
    long end = System.nanoTime() + duration.toNanos();
    try (KafkaConsumer<byte[], byte[]> consumer = consumer(topic)) {
      while (System.nanoTime() < end) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          decode(r.value(), type).filter(match).ifPresent(found::add);
        }
      }
    }
    return found;
  }

  KafkaProducer<byte[], byte[]> rawProducer() {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, deployment.bootstrapServers());
    p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 32 << 20);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
  }

  private KafkaConsumer<byte[], byte[]> consumer(String topic) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, deployment.bootstrapServers());
    p.put(ConsumerConfig.GROUP_ID_CONFIG, "it-" + modelId + "-" + topic + "-" + System.nanoTime());
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 64 << 20);
    p.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, 64 << 20);
    KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    c.subscribe(List.of(topic));
    return c;
  }

  private static <T extends org.apache.avro.specific.SpecificRecord> java.util.Optional<T> decode(byte[] v, Class<T> type) {
    try {
      return java.util.Optional.of(WireCodec.UNBOUNDED.decode(v, type));
    } catch (WireFormatException e) {
      return java.util.Optional.empty();
    }
  }

  @Override
  public void close() {
    for (FederatedClient c : clients) {
      c.close(Duration.ofSeconds(5));
    }
    keyHolder.close();
    keys.close();
    he.close();
  }
}
