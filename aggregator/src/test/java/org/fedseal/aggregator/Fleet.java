package org.fedseal.aggregator;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.function.Predicate;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.fedseal.he.EncryptedVector;
import org.fedseal.he.HeContext;
import org.fedseal.he.HeDecryptor;
import org.fedseal.he.HeKeyPair;
import org.fedseal.he.HeParameters;
import org.fedseal.he.Packing;
import org.fedseal.he.VectorEncryptor;
import org.fedseal.protocol.Aggregates;
import org.fedseal.protocol.CanonicalHash;
import org.fedseal.protocol.Chunker;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.RoundBounds;
import org.fedseal.protocol.SigningKeyPair;
import org.fedseal.protocol.Topics;
import org.fedseal.protocol.UpdateKey;
import org.fedseal.protocol.WireCodec;
import org.fedseal.protocol.wire.AggregateChunkSum;
import org.fedseal.protocol.wire.AggregatePublished;
import org.fedseal.protocol.wire.ChunkLayout;
import org.fedseal.protocol.wire.ClientEnrolled;
import org.fedseal.protocol.wire.RoundOpened;
import org.fedseal.protocol.wire.UpdateChunk;
import org.fedseal.protocol.wire.UpdateEnvelope;

/**
 * Test side of a deployment: the HE key holder, simulated clients (encrypt, chunk, sign with
 * he-native + fl-protocol), a Kafka producer and read_committed consumers.
 */
final class Fleet implements AutoCloseable {
    static final HeParameters PARAMS = HeParameters.CKKS_8192;

    final String bootstrap;
    final HeContext he = HeContext.create(PARAMS);
    final HeKeyPair heKeys = he.generateKeys();
    final VectorEncryptor encryptor = he.encryptor(heKeys.publicKey());
    final SigningKeyPair aggregatorKey = SigningKeyPair.generate();
    final Map<String, SigningKeyPair> clientKeys = new HashMap<>();
    final KafkaProducer<byte[], byte[]> producer;
    final Random random = new Random(42);
    private String chunkSumsTopic;
    private Reader chunkSums;
    private final Map<Hash, AggregateChunkSum> chunkSumsByHash = new HashMap<>();

    Fleet(String bootstrap) {
        this.bootstrap = bootstrap;
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("key.serializer", ByteArraySerializer.class.getName());
        p.put("value.serializer", ByteArraySerializer.class.getName());
        p.put("linger.ms", "0");
        p.put("enable.idempotence", "true");
        producer = new KafkaProducer<>(p);
    }

    /** Job config for the given topics prefix. */
    AggregatorConfig.Builder config(String prefix) {
        this.chunkSumsTopic = prefix + ".aggregate-chunks";
        return AggregatorConfig.builder()
                .bootstrapServers(bootstrap)
                .signingKey(aggregatorKey.privateKey())
                .set(AggregatorConfig.TOPIC_UPDATES, prefix + ".updates")
                .set(AggregatorConfig.TOPIC_ROUNDS, prefix + ".rounds")
                .set(AggregatorConfig.TOPIC_ENROLLMENTS, prefix + ".enrollments")
                .set(AggregatorConfig.TOPIC_AGGREGATES, prefix + ".aggregates")
                .set(AggregatorConfig.TOPIC_AGGREGATE_CHUNKS, prefix + ".aggregate-chunks")
                .set(AggregatorConfig.TOPIC_ACCEPTED, prefix + ".accepted")
                .set(AggregatorConfig.TOPIC_REJECTS, prefix + ".rejects")
                .set(AggregatorConfig.GROUP_ID, prefix + "-group")
                .set(AggregatorConfig.TRANSACTIONAL_ID_PREFIX, prefix + "-tx-" + System.nanoTime())
                .set(AggregatorConfig.CHECKPOINT_INTERVAL_MS, 1000)
                .set(AggregatorConfig.PARALLELISM, 1)
                .set(AggregatorConfig.PENDING_GRACE_MS, 2000)
                .set(AggregatorConfig.MAX_RECORD_BYTES, 600_000);
    }

    static Map<String, Integer> topics(String prefix, int updatePartitions) {
        Map<String, Integer> t = new HashMap<>();
        t.put(prefix + ".updates", updatePartitions);
        for (String s :
                new String[] {"rounds", "enrollments", "aggregates", "aggregate-chunks", "accepted", "rejects"}) {
            t.put(prefix + "." + s, 1);
        }
        return t;
    }

    static ChunkLayout layout(int totalValues, int ciphertextsPerChunk) {
        return Chunker.layout(totalValues, PARAMS.valuesPerCiphertext(Packing.COMPLEX), ciphertextsPerChunk);
    }

    RoundOpened round(String model, int round, int quorum, long deadline, ChunkLayout layout) {
        return RoundBounds.loosest(PARAMS.maxSumNorm(), 1.0)
                .applyTo(RoundOpened.newBuilder())
                .setModelId(model)
                .setRound(round)
                .setBaseModelHash(Hash.sha256(("base-" + model).getBytes()).toByteBuffer())
                .setHeParamsId(PARAMS.id())
                .setPublicKeyHash(Hash.sha256(heKeys.publicKey().toBytes()).toByteBuffer())
                .setQuorum(quorum)
                .setDeadlineEpochMillis(deadline)
                .setChunkLayout(layout)
                .setLocalEpochs(1)
                .setOpenedAtEpochMillis(System.currentTimeMillis())
                .build();
    }

    void openRound(String prefix, RoundOpened r) {
        send(prefix + ".rounds", Topics.roundKey(r.getModelId(), r.getRound()), r);
    }

    void enrol(String prefix, String... clients) {
        for (String c : clients) {
            SigningKeyPair k = clientKeys.computeIfAbsent(c, x -> SigningKeyPair.generate());
            ClientEnrolled e = ClientEnrolled.newBuilder()
                    .setClientId(c)
                    .setSigningPublicKey(ByteBuffer.wrap(k.publicKey().toX509()))
                    .setModelIds(List.of())
                    .setRevoked(false)
                    .setEnrolledAtEpochMillis(System.currentTimeMillis())
                    .build();
            send(prefix + ".enrollments", c.getBytes(), e);
        }
        producer.flush();
    }

    /** A client's update: its plaintext and its signed chunks + commit. */
    record Update(double[] plain, Chunker.PreparedUpdate prepared) {}

    double[] randomValues(int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = random.nextDouble() * 2 - 1;
        }
        return v;
    }

    List<byte[]> encrypt(double[] values, ChunkLayout layout) {
        int per = layout.getValuesPerCiphertext();
        List<byte[]> cts = new ArrayList<>();
        for (int from = 0; from < values.length; from += per) {
            double[] slice = java.util.Arrays.copyOfRange(values, from, Math.min(values.length, from + per));
            try (EncryptedVector v = encryptor.encrypt(slice)) {
                cts.add(v.toBytes());
            }
        }
        return cts;
    }

    Update update(String client, RoundOpened round, String updateId, long weight) {
        ChunkLayout l = round.getChunkLayout();
        double[] plain = randomValues((int) l.getTotalValues());
        return update(client, round, updateId, weight, plain, encrypt(plain, l));
    }

    Update update(String client, RoundOpened round, String updateId, long weight, double[] plain, List<byte[]> cts) {
        SigningKeyPair k = clientKeys.get(client);
        return new Update(
                plain,
                Chunker.prepare(
                        client,
                        round,
                        updateId,
                        cts,
                        weight,
                        System.currentTimeMillis(),
                        k.privateKey(),
                        WireCodec.DEFAULT_MAX_RECORD_BYTES));
    }

    void sendUpdate(String prefix, Update u) {
        for (UpdateChunk c : u.prepared().chunks()) {
            sendEnvelope(prefix, new UpdateEnvelope(c));
        }
        sendEnvelope(prefix, new UpdateEnvelope(u.prepared().commit()));
    }

    void sendEnvelope(String prefix, UpdateEnvelope env) {
        Object p = env.getPayload();
        UpdateKey key = p instanceof UpdateChunk c
                ? new UpdateKey(c.getModelId(), c.getRound(), c.getClientId())
                : new UpdateKey(
                        ((org.fedseal.protocol.wire.UpdateCommit) p).getModelId(),
                        ((org.fedseal.protocol.wire.UpdateCommit) p).getRound(),
                        ((org.fedseal.protocol.wire.UpdateCommit) p).getClientId());
        send(prefix + ".updates", key.toBytes(), env);
    }

    void send(String topic, byte[] key, SpecificRecord value) {
        sendRaw(topic, key, WireCodec.DEFAULT.encode(value));
    }

    void sendRaw(String topic, byte[] key, byte[] value) {
        try {
            producer.send(new ProducerRecord<>(topic, key, value)).get();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** The chunk sums an aggregate names, read from the aggregate-chunks topic of the last {@link #config} prefix. */
    List<AggregateChunkSum> chunkSums(AggregatePublished agg) throws Exception {
        if (chunkSums == null) {
            chunkSums = reader(chunkSumsTopic);
        }
        List<Hash> wanted = new ArrayList<>();
        for (int i = 0; i < Aggregates.chunkCount(agg); i++) {
            wanted.add(Aggregates.chunkSumHash(agg, i));
        }
        long end = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (!chunkSumsByHash.keySet().containsAll(wanted)) {
            for (ConsumerRecord<byte[], byte[]> r : chunkSums.consumer.poll(Duration.ofMillis(200))) {
                chunkSums.records.add(r);
                AggregateChunkSum c = WireCodec.UNBOUNDED.decode(r.value(), AggregateChunkSum.class);
                chunkSumsByHash.put(CanonicalHash.of(c), c);
            }
            if (System.nanoTime() > end) {
                throw new AssertionError(
                        "chunk sums of " + agg.getModelId() + "/" + agg.getRound() + " did not all arrive");
            }
        }
        return wanted.stream().map(chunkSumsByHash::get).toList();
    }

    /** The records of the aggregate-chunks topic read so far (after {@link #chunkSums}). */
    List<ConsumerRecord<byte[], byte[]>> chunkSumRecords() {
        return chunkSums == null ? List.of() : chunkSums.records;
    }

    /** Decrypts an aggregate (its manifest and the chunk sums it names, each verified) into one vector. */
    double[] decrypt(AggregatePublished agg) throws Exception {
        Aggregates.ChunkSource source = Aggregates.of(chunkSums(agg));
        List<Double> out = new ArrayList<>();
        try (HeDecryptor d = he.decryptor(heKeys.secretKey())) {
            for (byte[] ct : Aggregates.ciphertexts(agg, source)) {
                try (EncryptedVector v = he.loadVector(ct)) {
                    for (double x : d.decrypt(v)) {
                        out.add(x);
                    }
                }
            }
        }
        return out.stream().mapToDouble(Double::doubleValue).toArray();
    }

    /** A read_committed consumer of a topic from the beginning. */
    Reader reader(String topic) {
        return new Reader(bootstrap, topic);
    }

    @Override
    public void close() {
        if (chunkSums != null) {
            chunkSums.close();
        }
        producer.close(Duration.ofSeconds(5));
        encryptor.close();
        heKeys.close();
        he.close();
    }

    /** Accumulates every committed record of a topic. */
    static final class Reader implements AutoCloseable {
        final KafkaConsumer<byte[], byte[]> consumer;
        final List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();

        Reader(String bootstrap, String topic) {
            Properties p = new Properties();
            p.put("bootstrap.servers", bootstrap);
            p.put("key.deserializer", ByteArrayDeserializer.class.getName());
            p.put("value.deserializer", ByteArrayDeserializer.class.getName());
            p.put("isolation.level", "read_committed");
            p.put("auto.offset.reset", "earliest");
            p.put("enable.auto.commit", "false");
            p.put("max.partition.fetch.bytes", Integer.toString(32 << 20));
            p.put("fetch.max.bytes", Integer.toString(64 << 20));
            consumer = new KafkaConsumer<>(p);
            consumer.assign(consumer.partitionsFor(topic).stream()
                    .map(i -> new org.apache.kafka.common.TopicPartition(topic, i.partition()))
                    .toList());
            consumer.seekToBeginning(consumer.assignment());
        }

        <T extends SpecificRecord> List<T> values(Class<T> type) throws Exception {
            List<T> out = new ArrayList<>();
            for (ConsumerRecord<byte[], byte[]> r : records) {
                out.add(WireCodec.UNBOUNDED.decode(r.value(), type));
            }
            return out;
        }

        /** Polls until {@code done} holds for the decoded values, or fails after the timeout. */
        <T extends SpecificRecord> List<T> await(Class<T> type, Predicate<List<T>> done, Duration timeout)
                throws Exception {
            long end = System.nanoTime() + timeout.toNanos();
            while (true) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    records.add(r);
                }
                List<T> v = values(type);
                if (done.test(v)) {
                    return v;
                }
                if (System.nanoTime() > end) {
                    throw new AssertionError(
                            "timed out after " + timeout + " waiting on " + type.getSimpleName() + "; have " + v);
                }
            }
        }

        /** Polls for {@code d} more, returning everything seen. */
        <T extends SpecificRecord> List<T> drain(Class<T> type, Duration d) throws Exception {
            return await(type, v -> false, d, true);
        }

        private <T extends SpecificRecord> List<T> await(
                Class<T> type, Predicate<List<T>> done, Duration d, boolean quiet) throws Exception {
            long end = System.nanoTime() + d.toNanos();
            while (System.nanoTime() < end) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    records.add(r);
                }
            }
            return values(type);
        }

        @Override
        public void close() {
            consumer.close(Duration.ofSeconds(5));
        }
    }

    static double[] sum(List<double[]> vs) {
        double[] s = new double[vs.get(0).length];
        for (double[] v : vs) {
            for (int i = 0; i < s.length; i++) {
                s[i] += v[i];
            }
        }
        return s;
    }

    static double maxError(double[] expected, double[] actual) {
        double m = 0;
        for (int i = 0; i < expected.length; i++) {
            m = Math.max(m, Math.abs(expected[i] - actual[i]));
        }
        return m;
    }
}
