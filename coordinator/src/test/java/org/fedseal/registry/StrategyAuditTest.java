package org.fedseal.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.fedseal.client.BaseModel;
import org.fedseal.coordinator.KeyCeremonyParticipant;
import org.fedseal.coordinator.RegistryVersionPublisher;
import org.fedseal.coordinator.ThresholdKeyHolder;
import org.fedseal.he.HeContext;
import org.fedseal.he.HeParameters;
import org.fedseal.he.HePublicKey;
import org.fedseal.hejava.threshold.ThresholdParty;
import org.fedseal.kafkalocal.LocalKafkaBroker;
import org.fedseal.kafkalocal.junit.SharedKafkaBroker;
import org.fedseal.protocol.CanonicalHash;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.KeyCeremonyTranscript;
import org.fedseal.protocol.ModelWeights;
import org.fedseal.protocol.Signatures;
import org.fedseal.protocol.SigningKeyPair;
import org.fedseal.protocol.SigningPublicKey;
import org.fedseal.protocol.Strategy;
import org.fedseal.protocol.StrategyState;
import org.fedseal.protocol.Topics;
import org.fedseal.protocol.WireCodec;
import org.fedseal.protocol.wire.ChunkSum;
import org.fedseal.protocol.wire.DecryptionSharesPublished;
import org.fedseal.protocol.wire.KeyCeremonyEnvelope;
import org.fedseal.protocol.wire.KeyCeremonyMessage;
import org.fedseal.protocol.wire.KeyCeremonyOpened;
import org.fedseal.protocol.wire.ModelVersionPublished;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 18: server strategies are re-derivable. A threshold model (real key ceremony over Kafka,
 * real decryption shares, the combiner's publisher) runs rounds with every strategy — two rounds
 * each, so the second resumes the first's stored state, and a change of strategy restarts from the
 * new one's initial state — and {@code audit verify} re-derives every version bit for bit (weights
 * and optimizer state). A version whose recorded hyperparameter, or whose optimizer state, is not
 * the one really used fails the audit, naming the version.
 */
@ExtendWith(SharedKafkaBroker.class)
class StrategyAuditTest {
    private static final List<String> HOLDERS = List.of("sa-kh-1", "sa-kh-2", "sa-kh-3");
    private static final String MODEL = "sa";

    @TempDir
    Path dir;

    /** One registry with a completed ceremony, and what a combiner needs. */
    private record Setup(
            RegistryServer server,
            RegistryClient client,
            KafkaProducer<byte[], byte[]> producer,
            String topicPrefix,
            Map<String, SigningKeyPair> ids,
            Map<String, SigningPublicKey> keys,
            List<ThresholdParty> parties,
            KeyCeremonyParticipant.Result ceremony,
            RegistryVersionPublisher publisher)
            implements AutoCloseable {
        @Override
        public void close() {
            producer.close();
            server.close();
        }
    }

    @Test
    void everyStrategyReDerivesBitForBitAndTheAuditPasses(LocalKafkaBroker kafka) throws Exception {
        List<Strategy> plan = List.of(
                Strategy.fedAvgM(0.5, 0.9),
                Strategy.fedAdagrad(0.1),
                Strategy.fedAdam(0.01),
                Strategy.fedYogi(0.01),
                Strategy.fedProx(0.01),
                Strategy.fedAvg());
        try (Setup s = setUp(kafka, "stratok.")) {
            int versions = 0;
            for (Strategy strategy : plan) {
                for (int i = 0; i < 2; i++) {
                    VersionInfo v = round(s, strategy, strategy, false);
                    versions++;
                    ModelVersionPublished rec = s.client().versionRecord(Hash.fromHex(v.versionHash()));
                    if (strategy.name().equals("FedAvg")) {
                        assertNull(rec.getStrategy(), "plain FedAvg versions record no strategy, as before");
                        assertEquals(0, rec.getOptimizerStateHash().remaining());
                    } else {
                        assertEquals(strategy.toSpec(), rec.getStrategy());
                    }
                    // the registry serves the state under the recorded hash
                    StrategyState state = s.client().optimizerState(rec);
                    assertEquals(strategy.stateless(), state.isEmpty(), strategy.name());
                    assertTrue(state.matches(rec.getOptimizerStateHash()));
                }
            }
            Fixture.Cli audit = Fixture.cli(s.server(), "audit", "verify");
            assertEquals(0, audit.code(), audit.out());
            assertTrue(
                    audit.out().contains("PASS") && audit.out().contains(versions + " threshold versions re-decrypted"),
                    audit.out());
        }
    }

    @Test
    void aVersionClaimingAnotherHyperparameterFailsTheAuditNamingIt(LocalKafkaBroker kafka) throws Exception {
        try (Setup s = setUp(kafka, "strathp.")) {
            round(s, Strategy.fedAdam(0.01), Strategy.fedAdam(0.01), false);
            // computed with eta = 0.01, recorded as eta = 0.02
            VersionInfo lie = round(s, Strategy.fedAdam(0.01), Strategy.fedAdam(0.02), false);
            Fixture.Cli audit = Fixture.cli(s.server(), "audit", "verify");
            assertEquals(1, audit.code(), audit.out());
            assertTrue(
                    audit.out().contains("FAIL")
                            && audit.out().contains("version " + lie.versionHash())
                            && audit.out().contains("weights are not what FedAdam"),
                    audit.out());
        }
    }

    @Test
    void aVersionWithAnotherOptimizerStateFailsTheAuditNamingIt(LocalKafkaBroker kafka) throws Exception {
        try (Setup s = setUp(kafka, "stratst.")) {
            VersionInfo lie = round(s, Strategy.fedYogi(0.01), Strategy.fedYogi(0.01), true);
            Fixture.Cli audit = Fixture.cli(s.server(), "audit", "verify");
            assertEquals(1, audit.code(), audit.out());
            assertTrue(
                    audit.out().contains("FAIL")
                            && audit.out().contains("version " + lie.versionHash())
                            && audit.out().contains("optimizerStateHash"),
                    audit.out());
        }
    }

    @Test
    void theRegistryRefusesAStateThatDoesNotMatchTheRecordedHash(LocalKafkaBroker kafka) throws Exception {
        try (Setup s = setUp(kafka, "stratreg.")) {
            RegistryException e = assertThrows(
                    RegistryException.class,
                    () -> round(s, Strategy.fedAdam(0.01), Strategy.fedAdam(0.01), false, true));
            assertEquals(409, e.status());
            assertTrue(e.getMessage().contains("optimizer_state_mismatch"), e.getMessage());
        }
    }

    private static VersionInfo round(Setup s, Strategy used, Strategy recorded, boolean tamperState) throws Exception {
        return round(s, used, recorded, tamperState, false);
    }

    /**
     * One round: clients' encrypted updates, the holders' decryption shares over Kafka, the combined
     * mean, a step of {@code used} from the base version's stored state, published as {@code recorded}
     * (with a tampered state, or other uploaded state bytes, if asked).
     */
    private static VersionInfo round(Setup s, Strategy used, Strategy recorded, boolean tamperState, boolean otherBytes)
            throws Exception {
        RegistryClient c = s.client();
        RoundInfo r = c.openRound(MODEL, 2, Duration.ofMinutes(10), 1, 6);
        Hash base = Hash.fromHex(r.baseModelHash());
        Fixture.RoundRun run;
        try (HeContext he = HeContext.create(HeParameters.CKKS_8192_T50);
                HePublicKey pk = he.loadPublicKey(s.ceremony().collectivePublicKey())) {
            run = Fixture.simulateRound(MODEL, r.round(), base, 2, false, he.encryptor(pk), HeParameters.CKKS_8192_T50);
        }
        Fixture.ingest(s.server(), run);
        Hash agg = CanonicalHash.of(run.aggregate());
        SecureRandom random = new SecureRandom();
        List<DecryptionSharesPublished> records = new ArrayList<>();
        for (int i = 0; i < HOLDERS.size(); i++) {
            List<ByteBuffer> shares = new ArrayList<>();
            for (ChunkSum chunk : run.aggregate().getChunkSums()) {
                for (ByteBuffer ct : chunk.getCiphertexts()) {
                    byte[] entry = new byte[ct.remaining()];
                    ct.duplicate().get(entry);
                    shares.add(ByteBuffer.wrap(
                            s.parties().get(i).decryptionShare(entry, random).toBytes()));
                }
            }
            DecryptionSharesPublished d = Signatures.signRecord(
                    DecryptionSharesPublished.newBuilder()
                            .setModelId(MODEL)
                            .setRound(r.round())
                            .setCeremonyId(s.ceremony().ceremonyId())
                            .setHolderId(HOLDERS.get(i))
                            .setAggregateHash(agg.toByteBuffer())
                            .setShares(shares)
                            .setSignature(ByteBuffer.allocate(0))
                            .build(),
                    s.ids().get(HOLDERS.get(i)).privateKey());
            records.add(d);
            s.producer()
                    .send(new ProducerRecord<>(
                            s.topicPrefix() + "decryption-shares",
                            Topics.roundKey(MODEL, r.round()),
                            WireCodec.UNBOUNDED.encode(d)))
                    .get();
        }
        long wait = System.currentTimeMillis() + 30_000;
        while (c.decryptionShares(MODEL, r.round()).size() < HOLDERS.size() && System.currentTimeMillis() < wait) {
            Thread.sleep(100);
        }
        List<Hash> shareHashes = records.stream().map(CanonicalHash::of).toList();
        double[] mean = ThresholdKeyHolder.combine(run.aggregate(), records, s.ceremony(), s.keys(), Fixture.PARAMS);
        BaseModel parent = new BaseModel(c.versionRecord(base), c.weightsAsFloats(base));
        Strategy.Step step =
                used.step(parent.parameters(), mean, used.resume(s.publisher().stateOf(base), Fixture.PARAMS));
        if (!used.stateless()) {
            assertNotEquals(
                    ModelWeights.hash(ModelWeights.applyMean(parent.parameters(), mean)),
                    ModelWeights.hash(step.weights()),
                    used + " must move differently from FedAvg here");
        }
        if (tamperState) {
            double[] m = step.state().vector(0);
            m[0] += 1e-6;
            step = new Strategy.Step(
                    step.weights(),
                    StrategyState.of(
                            step.state().strategy(), List.of(m, step.state().vector(1))));
        }
        if (otherBytes) {
            // a record naming this state's hash, uploaded with other state bytes
            Strategy.Step real = step;
            StrategyState other = used.initialState(Fixture.PARAMS);
            ModelVersionPublished v = ModelVersionPublished.newBuilder(Fixture.nextVersion(
                            MODEL, base, run, ModelWeights.encode(real.weights()), SigningKeyPair.generate()))
                    .setCeremonyId(s.ceremony().ceremonyId())
                    .setDecryptionShareHashes(shareHashes.stream()
                            .sorted()
                            .map(Hash::toByteBuffer)
                            .toList())
                    .setStrategy(recorded.toRecordSpec())
                    .setOptimizerStateHash(real.state().hashField())
                    .setVersionHash(ByteBuffer.allocate(0))
                    .build();
            v.setVersionHash(CanonicalHash.versionHash(v).toByteBuffer());
            return c.publishVersion(
                    Signatures.sign(v, COMBINER.privateKey()),
                    MODEL + "-combiner",
                    ModelWeights.encode(real.weights()),
                    other.encode(),
                    null);
        }
        s.publisher()
                .publish(parent, run.aggregate(), recorded, step, s.ceremony().ceremonyId(), shareHashes);
        return s.publisher().lastPublished();
    }

    private static final SigningKeyPair COMBINER = SigningKeyPair.generate();

    /** A registry on Kafka, the model, its three holders and their completed ceremony, and the combiner's publisher. */
    private Setup setUp(LocalKafkaBroker kafka, String prefix) throws Exception {
        Map<String, String> topics = Fixture.kafkaTopics(kafka, prefix);
        RegistryServer server = RegistryServer.builder()
                .dataDir(dir)
                .port(0)
                .adminToken("t")
                .kafkaBootstrapServers(kafka.bootstrapServers())
                .set(RegistryConfig.KAFKA_GROUP, prefix + "registry")
                .setAll(topics)
                .build()
                .start();
        Properties pp = new Properties();
        pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(pp, new ByteArraySerializer(), new ByteArraySerializer());
        RegistryClient c = Fixture.client(server);
        c.registerModel(MODEL, "mlp", HeParameters.CKKS_8192_T50.id(), new float[Fixture.PARAMS]);
        Map<String, SigningKeyPair> ids = new HashMap<>();
        Map<String, SigningPublicKey> keys = new HashMap<>();
        for (String h : HOLDERS) {
            ids.put(h, SigningKeyPair.generate());
            keys.put(h, ids.get(h).publicKey());
            c.enrollClient(h, ids.get(h).publicKey(), List.of(MODEL));
        }
        c.enrollClient(MODEL + "-combiner", COMBINER.publicKey(), List.of(MODEL));
        c.openCeremony(MODEL, null, HOLDERS);
        Properties cp = new Properties();
        cp.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        cp.put(ConsumerConfig.GROUP_ID_CONFIG, prefix + "holders");
        cp.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        List<KeyCeremonyTranscript> views = new ArrayList<>();
        List<KeyCeremonyParticipant> participants = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(cp, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(prefix + "key-ceremony"));
            long deadline = System.currentTimeMillis() + 60_000;
            while (System.currentTimeMillis() < deadline
                    && (views.isEmpty() || !views.get(0).isComplete())) {
                for (ConsumerRecord<byte[], byte[]> rec : consumer.poll(Duration.ofMillis(200))) {
                    Object payload = WireCodec.DEFAULT
                            .decode(rec.value(), KeyCeremonyEnvelope.class)
                            .getPayload();
                    if (payload instanceof KeyCeremonyOpened o) {
                        for (String h : HOLDERS) {
                            views.add(KeyCeremonyTranscript.open(o, c.logPublicKey(), keys));
                            participants.add(new KeyCeremonyParticipant(
                                    h,
                                    ids.get(h).privateKey(),
                                    KeyCeremonyParticipant.SecretShareStore.inMemory(),
                                    new SecureRandom()));
                        }
                    } else {
                        for (KeyCeremonyTranscript v : views) {
                            try {
                                v.accept((KeyCeremonyMessage) payload);
                            } catch (KeyCeremonyTranscript.RejectedException e) {
                                // ignored, as the registry does
                            }
                        }
                    }
                }
                for (int i = 0; i < participants.size(); i++) {
                    Optional<KeyCeremonyMessage> next = participants.get(i).nextMessage(views.get(i));
                    if (next.isPresent()) {
                        KeyCeremonyMessage m = next.get();
                        producer.send(new ProducerRecord<>(
                                        prefix + "key-ceremony",
                                        m.getCeremonyId().getBytes(StandardCharsets.UTF_8),
                                        WireCodec.DEFAULT.encode(KeyCeremonyEnvelope.newBuilder()
                                                .setPayload(m)
                                                .build())))
                                .get();
                        views.get(i).accept(m);
                    }
                }
            }
        }
        assertTrue(!views.isEmpty() && views.get(0).isComplete(), "the holders did not complete the ceremony");
        KeyCeremonyParticipant.Result result = KeyCeremonyParticipant.finish(views.get(0));
        long wait = System.currentTimeMillis() + 30_000;
        while (!"completed".equals(c.ceremony(result.ceremonyId()).status()) && System.currentTimeMillis() < wait) {
            Thread.sleep(200);
        }
        assertEquals("completed", c.ceremony(result.ceremonyId()).status());
        List<ThresholdParty> parties = new ArrayList<>();
        for (int i = 0; i < HOLDERS.size(); i++) {
            parties.add(participants.get(i).party(views.get(i)));
        }
        RegistryVersionPublisher publisher =
                new RegistryVersionPublisher(c, MODEL + "-combiner", COMBINER.privateKey(), null);
        return new Setup(server, c, producer, prefix, ids, keys, parties, result, publisher);
    }
}
