package org.fedseal.it;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Predicate;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.fedseal.client.BaseModel;
import org.fedseal.client.ClientConfig;
import org.fedseal.client.FederatedClient;
import org.fedseal.client.LocalTrainer;
import org.fedseal.coordinator.KeyHolder;
import org.fedseal.coordinator.RegistryModelSource;
import org.fedseal.coordinator.RegistryUpdateArchive;
import org.fedseal.coordinator.RegistryVersionPublisher;
import org.fedseal.demo.FederatedDeployment;
import org.fedseal.he.HeContext;
import org.fedseal.he.HeKeyPair;
import org.fedseal.he.HeParameters;
import org.fedseal.protocol.Aggregates;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.ModelWeights;
import org.fedseal.protocol.SigningKeyPair;
import org.fedseal.protocol.Topics;
import org.fedseal.protocol.wire.AggregatePublished;
import org.fedseal.protocol.wire.ModelLayout;
import org.fedseal.protocol.wire.RoundOpened;
import org.fedseal.protocol.wire.UpdateRejected;
import org.fedseal.registry.RegistryClient;
import org.fedseal.registry.RoundInfo;
import org.fedseal.registry.VersionInfo;

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
        this(deployment, modelId, initial, "test model", null);
    }

    /** A model registered with its architecture text and layout (null: none), e.g. of {@code DjlTrainer.layout()}. */
    Scenario(FederatedDeployment deployment, String modelId, float[] initial, String architecture, ModelLayout layout) {
        this.deployment = deployment;
        this.modelId = modelId;
        this.initial = initial;
        this.admin = deployment.adminClient();
        this.he = HeContext.create(HeParameters.CKKS_8192);
        this.keys = he.generateKeys();
        this.keyHolder = KeyHolder.of(he, keys.secretKey());
        this.keyHolderIdentity = SigningKeyPair.generate();
        admin.registerModel(
                modelId,
                architecture,
                HeParameters.CKKS_8192.id(),
                ModelWeights.encode(initial),
                keyHolderId(),
                layout);
        admin.putHePublicKey(modelId, keys.publicKey().toBytes());
        admin.enrollClient(keyHolderId(), keyHolderIdentity.publicKey(), List.of(modelId));
    }

    String keyHolderId() {
        return modelId + "-keyholder";
    }

    /** Where the key holder reads a chunked aggregate's chunk sums: the registry (content-checked). */
    Aggregates.ChunkSource chunkSums() {
        return new RegistryUpdateArchive(admin, Duration.ofSeconds(60))::chunkSum;
    }

    /** As the key holder: turns a completed aggregate into the next version in the registry. */
    VersionInfo publishVersion(AggregatePublished agg) throws Exception {
        RoundInfo round = admin.roundStatus(modelId, agg.getRound());
        BaseModel base = new RegistryModelSource(admin).baseModel(modelId, Hash.fromHex(round.baseModelHash()));
        RegistryVersionPublisher publisher =
                new RegistryVersionPublisher(admin, keyHolderId(), keyHolderIdentity.privateKey(), null);
        keyHolder.finishRound(agg, chunkSums(), base, publisher);
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
                        ClientConfig.MODEL_IDS, modelId))
                .trainer(trainer)
                .modelSource(new RegistryModelSource(
                        RegistryClient.create(deployment.registry().uri())))
                .signingKey(identity.privateKey())
                .build();
        clients.add(c);
        return c;
    }

    /** Opens a round through the registry and returns the announcement as clients read it from Kafka. */
    RoundOpened open(int quorum, Duration deadline) {
        return open(quorum, deadline, 1);
    }

    /** {@link #open(int, Duration)} with {@code localEpochs} local epochs. */
    RoundOpened open(int quorum, Duration deadline, int localEpochs) {
        // clip norm 10, at most the 2,000 MNIST training digits in all, any client may hold all of them
        RoundInfo info = admin.openRound(modelId, quorum, deadline, localEpochs, 6, 10, 2000, 2000);
        return await(
                        Topics.ROUNDS,
                        RoundOpened.class,
                        o -> o.getModelId().equals(modelId) && o.getRound() == info.round(),
                        Duration.ofSeconds(30))
                .get(0);
    }

    AggregatePublished aggregate(int round, Duration timeout) {
        return await(
                        Topics.AGGREGATES,
                        AggregatePublished.class,
                        a -> a.getModelId().equals(modelId) && a.getRound() == round,
                        timeout)
                .get(0);
    }

    /** Rejects of this model's round, reading until at least {@code atLeast} arrived or the timeout. */
    List<UpdateRejected> rejects(int round, int atLeast, Duration timeout) {
        long end = System.nanoTime() + timeout.toNanos();
        List<UpdateRejected> out = List.of();
        while (System.nanoTime() < end && out.size() < atLeast) {
            out = collect(
                    Topics.REJECTS,
                    UpdateRejected.class,
                    x -> modelId.equals(x.getModelId()) && x.getRound() == round,
                    Duration.ofSeconds(2));
        }
        return out;
    }

    /** The matching records of {@code type} on {@code topic} in the first poll that has any (read_committed). */
    <T extends org.apache.avro.specific.SpecificRecord> List<T> await(
            String topic, Class<T> type, Predicate<T> match, Duration timeout) {
        return Topic.awaitAll(deployment, topic, type, match, timeout);
    }

    /** Every matching record of {@code type} on {@code topic}, reading for {@code duration} (read_committed). */
    <T extends org.apache.avro.specific.SpecificRecord> List<T> collect(
            String topic, Class<T> type, Predicate<T> match, Duration duration) {
        return Topic.collect(deployment, topic, type, match, duration);
    }

    KafkaProducer<byte[], byte[]> rawProducer() {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, deployment.bootstrapServers());
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 32 << 20);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
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
