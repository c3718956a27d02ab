package org.fedseal.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import org.fedseal.coordinator.KeyCeremonyParticipant;
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
import org.fedseal.protocol.Topics;
import org.fedseal.protocol.WireCodec;
import org.fedseal.protocol.wire.CeremonyPhase;
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
 * A threshold key ceremony through a real broker: the registry opens it on Kafka, three holders
 * (KeyCeremonyParticipant) answer over the topic, a forged message and a rogue key share (one
 * that does not match its holder's commitment) are rejected with their reasons, the registry
 * forms the collective key that SEAL accepts; a round's real decryption shares are logged (a forged
 * record is refused), a version must name the ceremony and every holder's shares, and
 * {@code audit verify} replays all of it, re-decrypts the version from its shares, and fails on
 * a version whose weights are not what its shares decrypt to.
 *
 * <p>It lives in the coordinator module (the holders' roles are here; the registry cannot depend on
 * them) and in the registry's package, beside the registry's test {@code Fixture} (model-registry's test jar).
 */
@ExtendWith(SharedKafkaBroker.class)
class KeyCeremonyTest {
    private static final String P = "cerem.";
    private static final List<String> HOLDERS = List.of("tk-kh-1", "tk-kh-2", "tk-kh-3");

    @TempDir
    Path dir;

    @Test
    void holdersRunTheCeremonyOverKafkaAndTheRegistryLogsAndChecksIt(LocalKafkaBroker kafka) throws Exception {
        Map<String, String> topics = Fixture.kafkaTopics(kafka, P);
        try (RegistryServer s = RegistryServer.builder()
                        .dataDir(dir)
                        .port(0)
                        .adminToken("t")
                        .kafkaBootstrapServers(kafka.bootstrapServers())
                        .set(RegistryConfig.KAFKA_GROUP, "cerem-registry")
                        .setAll(topics)
                        .build()
                        .start();
                KafkaProducer<byte[], byte[]> producer = producer(kafka);
                KafkaConsumer<byte[], byte[]> consumer = consumer(kafka)) {
            RegistryClient c = Fixture.client(s);
            c.registerModel("tk", "mlp", HeParameters.CKKS_8192_T50.id(), new float[Fixture.PARAMS]);
            Map<String, SigningKeyPair> ids = new HashMap<>();
            Map<String, SigningPublicKey> keys = new HashMap<>();
            for (String h : HOLDERS) {
                ids.put(h, SigningKeyPair.generate());
                keys.put(h, ids.get(h).publicKey());
                c.enrollClient(h, ids.get(h).publicKey(), List.of("tk"));
            }
            RegistryException notEnrolled = assertThrows(
                    RegistryException.class, () -> c.openCeremony("tk", null, List.of("tk-kh-1", "nobody")));
            assertEquals(409, notEnrolled.status());
            CeremonyInfo opened = c.openCeremony("tk", null, HOLDERS);
            assertEquals("tk-ceremony-1", opened.ceremonyId());
            assertEquals("open", opened.status());
            assertEquals(
                    409,
                    assertThrows(RegistryException.class, () -> c.openCeremony("tk", null, HOLDERS))
                            .status(),
                    "one ceremony at a time");

            // Each holder keeps its own view of the topic, as a separate process would.
            List<KeyCeremonyTranscript> views = new ArrayList<>();
            List<KeyCeremonyParticipant> participants = new ArrayList<>();
            boolean rogueSent = false;
            boolean forgedSent = false;
            long deadline = System.currentTimeMillis() + 60_000;
            while (System.currentTimeMillis() < deadline
                    && (views.isEmpty() || !views.get(0).isComplete())) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    Object payload = WireCodec.DEFAULT
                            .decode(r.value(), KeyCeremonyEnvelope.class)
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
                                // the holders ignore what the transcript rejects, as the registry does
                            }
                        }
                    }
                }
                for (int i = 0; i < participants.size(); i++) {
                    Optional<KeyCeremonyMessage> next = participants.get(i).nextMessage(views.get(i));
                    if (next.isEmpty()) {
                        continue;
                    }
                    if (!forgedSent) { // someone without tk-kh-2's key speaks for it
                        send(
                                producer,
                                KeyCeremonyTranscript.sign(
                                        "tk-ceremony-1",
                                        "tk-kh-2",
                                        CeremonyPhase.SEED_CONTRIBUTION,
                                        new byte[32],
                                        SigningKeyPair.generate().privateKey()));
                        forgedSent = true;
                    }
                    if (next.get().getPhase() == CeremonyPhase.KEY_SHARE
                            && HOLDERS.get(i).equals("tk-kh-3")
                            && !rogueSent) {
                        // tk-kh-3 tries to reveal a share other than the one it committed to
                        byte[] other = next.get().getPayload().array().clone();
                        other[100] ^= 1;
                        send(
                                producer,
                                KeyCeremonyTranscript.sign(
                                        "tk-ceremony-1",
                                        "tk-kh-3",
                                        CeremonyPhase.KEY_SHARE,
                                        other,
                                        ids.get("tk-kh-3").privateKey()));
                        rogueSent = true;
                    }
                    send(producer, next.get());
                    views.get(i).accept(next.get()); // own message: no need to wait for the echo
                }
            }
            assertTrue(views.get(0).isComplete(), "the holders did not complete the ceremony: " + views.get(0));
            KeyCeremonyParticipant.Result result = KeyCeremonyParticipant.finish(views.get(0));

            CeremonyInfo done = c.ceremony("tk-ceremony-1");
            long wait = System.currentTimeMillis() + 30_000;
            while (!"completed".equals(done.status()) && System.currentTimeMillis() < wait) {
                Thread.sleep(200);
                done = c.ceremony("tk-ceremony-1");
            }
            assertEquals("completed", done.status(), String.valueOf(done));
            assertEquals(result.publicKeyHash().toHex(), done.publicKeyHash());
            assertEquals(result.publicKeyHash().toHex(), c.model("tk").hePublicKeyHash());
            assertEquals("tk-ceremony-1", c.model("tk").ceremonyId());
            assertEquals(
                    List.of("BAD_SIGNATURE", "COMMITMENT_MISMATCH"),
                    done.rejections().stream()
                            .map(CeremonyInfo.Rejection::reason)
                            .sorted()
                            .toList());
            HOLDERS.forEach(h -> assertTrue(
                    c.ceremony("tk-ceremony-1").sent().get("KEY_SHARE").contains(h)));
            try (HeContext he = HeContext.create(HeParameters.CKKS_8192_T50);
                    HePublicKey pk = he.loadPublicKey(c.hePublicKey(result.publicKeyHash()))) {
                // loaded with SEAL's validation: clients can encrypt under the collective key as under any key
                assertEquals(result.publicKeyHash(), Hash.sha256(pk.toBytes()));
            }
            RegistryException single =
                    assertThrows(RegistryException.class, () -> c.putHePublicKey("tk", result.collectivePublicKey()));
            assertEquals(409, single.status(), "a threshold model's key comes only from its ceremony");

            List<String> kinds = c.logEntries(0, c.signedTreeHead().getTreeSize()).stream()
                    .map(LogEntryInfo::kind)
                    .filter(k -> k.startsWith("KEY_CEREMONY"))
                    .toList();
            assertEquals(1 + 9 + 1, kinds.size(), kinds.toString());
            List<ThresholdParty> parties = new ArrayList<>();
            for (int i = 0; i < HOLDERS.size(); i++) {
                parties.add(participants.get(i).party(views.get(i)));
            }
            Runnable forgeWeights =
                    versionsMustNameTheCeremonyAndEveryHoldersShares(s, c, producer, ids, keys, parties, result);
            Fixture.Cli audit = Fixture.cli(s, "audit", "verify");
            assertEquals(0, audit.code(), audit.out());
            assertTrue(
                    audit.out().contains("1 key ceremonies replayed")
                            && audit.out().contains("3 decryption share records checked")
                            && audit.out().contains("1 threshold versions re-decrypted"),
                    audit.out());
            // A publisher that names the right shares but publishes other weights is caught: decryption is verifiable.
            forgeWeights.run();
            Fixture.Cli forged = Fixture.cli(s, "audit", "verify");
            assertEquals(1, forged.code(), forged.out());
            assertTrue(forged.out().contains("weights are not what FedAvg"), forged.out());
            Fixture.Cli show = Fixture.cli(s, "ceremony", "show", "tk-ceremony-1");
            assertEquals(0, show.code(), show.out());
            assertTrue(
                    show.out().contains("COMMITMENT_MISMATCH") && show.out().contains(done.publicKeyHash()),
                    show.out());
        }
    }

    /**
     * A round under the collective key: the holders' real decryption shares reach the registry
     * over Kafka (a forged record is refused), and a version is accepted only when it names the
     * ceremony and one logged share record of every holder. Returns a step that publishes a second
     * version naming the same shares but with other weights.
     */
    private static Runnable versionsMustNameTheCeremonyAndEveryHoldersShares(
            RegistryServer s,
            RegistryClient c,
            KafkaProducer<byte[], byte[]> producer,
            Map<String, SigningKeyPair> ids,
            Map<String, SigningPublicKey> keys,
            List<ThresholdParty> parties,
            KeyCeremonyParticipant.Result ceremony)
            throws Exception {
        RoundInfo r = c.openRound("tk", 2, Duration.ofMinutes(10), 1, 6);
        assertEquals(ceremony.publicKeyHash().toHex(), r.publicKeyHash(), "rounds name the collective key");
        Hash base = Hash.fromHex(r.baseModelHash());
        Fixture.RoundRun run;
        try (HeContext he = HeContext.create(HeParameters.CKKS_8192_T50);
                HePublicKey pk = he.loadPublicKey(ceremony.collectivePublicKey())) {
            run = Fixture.simulateRound("tk", r.round(), base, 2, false, he.encryptor(pk), HeParameters.CKKS_8192_T50);
        }
        Fixture.ingest(s, run);
        Hash agg = CanonicalHash.of(run.aggregate());
        SigningKeyPair combiner = SigningKeyPair.generate();
        c.enrollClient("tk-combiner", combiner.publicKey(), List.of("tk"));

        SecureRandom random = new SecureRandom();
        List<DecryptionSharesPublished> records = new ArrayList<>();
        for (int i = 0; i < HOLDERS.size(); i++) {
            List<ByteBuffer> shares = new ArrayList<>();
            for (ChunkSum chunk : run.aggregate().getChunkSums()) {
                for (ByteBuffer ct : chunk.getCiphertexts()) {
                    byte[] entry = new byte[ct.remaining()];
                    ct.duplicate().get(entry);
                    shares.add(ByteBuffer.wrap(
                            parties.get(i).decryptionShare(entry, random).toBytes()));
                }
            }
            DecryptionSharesPublished d = Signatures.signRecord(
                    DecryptionSharesPublished.newBuilder()
                            .setModelId("tk")
                            .setRound(r.round())
                            .setCeremonyId(ceremony.ceremonyId())
                            .setHolderId(HOLDERS.get(i))
                            .setAggregateHash(agg.toByteBuffer())
                            .setShares(shares)
                            .setSignature(ByteBuffer.allocate(0))
                            .build(),
                    ids.get(HOLDERS.get(i)).privateKey());
            records.add(d);
            producer.send(new ProducerRecord<>(
                            P + "decryption-shares", Topics.roundKey("tk", r.round()), WireCodec.UNBOUNDED.encode(d)))
                    .get();
        }
        List<Hash> shareHashes = records.stream().map(CanonicalHash::of).toList();
        DecryptionSharesPublished forged = Signatures.signRecord(
                DecryptionSharesPublished.newBuilder()
                        .setModelId("tk")
                        .setRound(r.round())
                        .setCeremonyId(ceremony.ceremonyId())
                        .setHolderId("tk-kh-1")
                        .setAggregateHash(agg.toByteBuffer())
                        .setShares(List.of())
                        .setSignature(ByteBuffer.allocate(0))
                        .build(),
                SigningKeyPair.generate().privateKey());
        producer.send(new ProducerRecord<>(
                        P + "decryption-shares", Topics.roundKey("tk", r.round()), WireCodec.UNBOUNDED.encode(forged)))
                .get();
        long wait = System.currentTimeMillis() + 30_000;
        while (c.decryptionShares("tk", r.round()).size() < HOLDERS.size() && System.currentTimeMillis() < wait) {
            Thread.sleep(100);
        }
        List<DecryptionSharesInfo> logged = c.decryptionShares("tk", r.round());
        assertEquals(
                HOLDERS,
                logged.stream().map(DecryptionSharesInfo::holderId).toList(),
                "the forged record is not logged");
        assertEquals(
                new java.util.HashSet<>(shareHashes),
                new java.util.HashSet<>(
                        logged.stream().map(i -> Hash.fromHex(i.recordHash())).toList()));

        // The combiner's part: the weighted mean update from the shares, applied to the base weights.
        double[] mean = ThresholdKeyHolder.combine(run.aggregate(), records, ceremony, keys, Fixture.PARAMS);
        float[] next = ModelWeights.applyMean(c.weightsAsFloats(base), mean);
        byte[] w = ModelWeights.encode(next);
        RegistryException bare = assertThrows(
                RegistryException.class,
                () -> c.publishVersion(Fixture.nextVersion("tk", base, run, w, combiner), "tk-combiner", w, null));
        assertEquals(409, bare.status());
        assertTrue(bare.getMessage().contains("threshold_provenance"), bare.getMessage());
        RegistryException twoOfThree = assertThrows(
                RegistryException.class,
                () -> c.publishVersion(
                        thresholdVersion(base, run, w, combiner, ceremony.ceremonyId(), shareHashes.subList(0, 2)),
                        "tk-combiner",
                        w,
                        null));
        assertEquals(409, twoOfThree.status());
        VersionInfo v = c.publishVersion(
                thresholdVersion(base, run, w, combiner, ceremony.ceremonyId(), shareHashes), "tk-combiner", w, null);
        assertEquals(
                ceremony.ceremonyId(),
                c.versionRecord(Hash.fromHex(v.versionHash())).getCeremonyId());

        float[] other = next.clone();
        other[0] += 0.5f;
        byte[] ow = ModelWeights.encode(other);
        return () -> c.publishVersion(
                thresholdVersion(base, run, ow, combiner, ceremony.ceremonyId(), shareHashes), "tk-combiner", ow, null);
    }

    private static ModelVersionPublished thresholdVersion(
            Hash base, Fixture.RoundRun run, byte[] w, SigningKeyPair signer, String ceremonyId, List<Hash> shares) {
        ModelVersionPublished v = ModelVersionPublished.newBuilder(Fixture.nextVersion("tk", base, run, w, signer))
                .setCeremonyId(ceremonyId)
                .setDecryptionShareHashes(
                        shares.stream().sorted().map(Hash::toByteBuffer).toList())
                .setVersionHash(ByteBuffer.allocate(0))
                .build();
        v.setVersionHash(CanonicalHash.versionHash(v).toByteBuffer());
        return Signatures.sign(v, signer.privateKey());
    }

    private static void send(KafkaProducer<byte[], byte[]> producer, KeyCeremonyMessage m) throws Exception {
        producer.send(new ProducerRecord<>(
                        P + "key-ceremony",
                        m.getCeremonyId().getBytes(StandardCharsets.UTF_8),
                        WireCodec.DEFAULT.encode(
                                KeyCeremonyEnvelope.newBuilder().setPayload(m).build())))
                .get();
    }

    private static KafkaProducer<byte[], byte[]> producer(LocalKafkaBroker kafka) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    }

    private static KafkaConsumer<byte[], byte[]> consumer(LocalKafkaBroker kafka) {
        Properties cp = new Properties();
        cp.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        cp.put(ConsumerConfig.GROUP_ID_CONFIG, "cerem-holders");
        cp.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        KafkaConsumer<byte[], byte[]> c =
                new KafkaConsumer<>(cp, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        c.subscribe(List.of(P + "key-ceremony"));
        return c;
    }
}
