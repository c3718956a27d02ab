package org.fedseal.aggregator.bench;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.fedseal.aggregator.AggregatorConfig;
import org.fedseal.aggregator.AggregatorJob;
import org.fedseal.aggregator.LocalAggregator;
import org.fedseal.he.EncryptedVector;
import org.fedseal.he.HeContext;
import org.fedseal.he.HeKeyPair;
import org.fedseal.he.HeParameters;
import org.fedseal.he.Packing;
import org.fedseal.he.VectorEncryptor;
import org.fedseal.kafkalocal.LocalKafkaBroker;
import org.fedseal.protocol.Chunker;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.SigningKeyPair;
import org.fedseal.protocol.UpdateKey;
import org.fedseal.protocol.WireCodec;
import org.fedseal.protocol.wire.AggregatePublished;
import org.fedseal.protocol.wire.ChunkLayout;
import org.fedseal.protocol.wire.ClientEnrolled;
import org.fedseal.protocol.wire.RoundOpened;
import org.fedseal.protocol.wire.UpdateAccepted;
import org.fedseal.protocol.wire.UpdateChunk;
import org.fedseal.protocol.wire.UpdateEnvelope;

/**
 * Throughput of the aggregator job on a real broker: updates/s and ciphertext MB/s at parallelism 1
 * and 2, next to the same sums done in-process with he-native (load + add + save, what the job does
 * per ciphertext) and a plain Java {@code a[i] = (a[i] + b[i]) mod p} loop over the same bytes (the
 * memory-bandwidth ceiling). Not a test: run {@code scripts/bench-aggregator.sh [updates] [ciphertextsPerUpdate]}.
 *
 * <p>The updates are produced to Kafka before the job starts; the job's rate is measured between the
 * first and the last {@code UpdateAccepted} (acceptedAtEpochMillis), so start-up is excluded.
 */
public final class AggregatorBench {
    public static void main(String[] args) throws Exception {
        int updates = args.length > 0 ? Integer.parseInt(args[0]) : 40;
        int ctsPerUpdate = args.length > 1 ? Integer.parseInt(args[1]) : 12;
        HeParameters params = HeParameters.CKKS_8192;
        int vpc = params.valuesPerCiphertext(Packing.COMPLEX);
        ChunkLayout layout = Chunker.layout((long) vpc * ctsPerUpdate, vpc, 6);
        System.out.printf("updates=%d, %d ciphertexts (%d values) per update, %d chunks of <=6 ciphertexts%n",
                updates, ctsPerUpdate, ctsPerUpdate * vpc, layout.getChunkCount());

        Path work = Files.createTempDirectory("fedseal-agg-bench");
        try (HeContext he = HeContext.create(params);
             HeKeyPair keys = he.generateKeys();
             VectorEncryptor enc = he.encryptor(keys.publicKey());
             LocalKafkaBroker kafka = LocalKafkaBroker.builder().workDir(work.resolve("kafka"))
                     .brokerProperty("message.max.bytes", Integer.toString(64 << 20)).start()) {
            // one set of ciphertexts, signed by every client (encryption is the client's cost, not measured here)
            java.util.Random rnd = new java.util.Random(1);
            List<byte[]> cts = new ArrayList<>();
            for (int i = 0; i < ctsPerUpdate; i++) {
                double[] v = new double[vpc];
                for (int j = 0; j < vpc; j++) {
                    v[j] = rnd.nextDouble() - 0.5;
                }
                try (EncryptedVector e = enc.encrypt(v)) {
                    cts.add(e.toBytes());
                }
            }
            long bytesPerUpdate = cts.stream().mapToLong(b -> b.length).sum();

            List<String[]> rows = new ArrayList<>();
            for (int p : new int[] {1, 2}) {
                double[] r = runJob(kafka, work, p, updates, layout, cts);
                rows.add(new String[] {"Flink job, parallelism " + p, fmt(r[0]), fmt(r[0] * bytesPerUpdate / 1e6)});
            }
            double heRate = heOnly(he, cts, updates);
            rows.add(new String[] {"he-native load+add+save, 1 thread", fmt(heRate), fmt(heRate * bytesPerUpdate / 1e6)});
            double javaMBps = plainJavaSum(bytesPerUpdate, updates);
            rows.add(new String[] {"plain Java a=(a+b) mod p, 1 thread", fmt(javaMBps * 1e6 / bytesPerUpdate), fmt(javaMBps)});

            System.out.printf("%n%-38s %14s %18s%n", "what", "updates/s", "ciphertext MB/s");
            for (String[] row : rows) {
                System.out.printf("%-38s %14s %18s%n", row[0], row[1], row[2]);
            }
            System.out.printf("(%.2f MB of ciphertext per update; MB = 10^6 bytes; %d cores)%n", bytesPerUpdate / 1e6,
                    Runtime.getRuntime().availableProcessors());
        }
    }

    private static String fmt(double d) {
        return String.format("%.1f", d);
    }

    /** Returns {updates/s}. */
    private static double[] runJob(LocalKafkaBroker kafka, Path work, int parallelism, int updates, ChunkLayout layout,
                                   List<byte[]> cts) throws Exception {
        String prefix = "bench" + parallelism;
        Map<String, Integer> topics = Map.of(prefix + ".updates", 4, prefix + ".rounds", 1, prefix + ".enrollments", 1,
                prefix + ".aggregates", 1, prefix + ".accepted", 1, prefix + ".rejects", 1);
        kafka.createTopics(topics);
        SigningKeyPair aggKey = SigningKeyPair.generate();
        Properties pp = new Properties();
        pp.put("bootstrap.servers", kafka.bootstrapServers());
        pp.put("key.serializer", ByteArraySerializer.class.getName());
        pp.put("value.serializer", ByteArraySerializer.class.getName());
        pp.put("linger.ms", "5");
        String model = "bench";
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(pp)) {
            RoundOpened round = RoundOpened.newBuilder().setModelId(model).setRound(1)
                    .setBaseModelHash(Hash.sha256(new byte[1]).toByteBuffer()).setHeParamsId(HeParameters.CKKS_8192.id())
                    .setPublicKeyHash(Hash.sha256(new byte[2]).toByteBuffer()).setQuorum(updates)
                    .setDeadlineEpochMillis(System.currentTimeMillis() + 600_000).setChunkLayout(layout)
                    .setLocalEpochs(1).setOpenedAtEpochMillis(System.currentTimeMillis()).build();
            producer.send(new ProducerRecord<>(prefix + ".rounds", "k".getBytes(), WireCodec.DEFAULT.encode(round)));
            for (int i = 0; i < updates; i++) {
                String client = "client-" + i;
                SigningKeyPair k = SigningKeyPair.generate();
                ClientEnrolled e = ClientEnrolled.newBuilder().setClientId(client)
                        .setSigningPublicKey(ByteBuffer.wrap(k.publicKey().toX509())).setModelIds(List.of())
                        .setRevoked(false).setEnrolledAtEpochMillis(0).build();
                producer.send(new ProducerRecord<>(prefix + ".enrollments", client.getBytes(), WireCodec.DEFAULT.encode(e)));
                Chunker.PreparedUpdate u = Chunker.prepare(client, round, "u-" + i, cts, 1, System.currentTimeMillis(),
                        k.privateKey(), WireCodec.DEFAULT_MAX_RECORD_BYTES);
                byte[] key = new UpdateKey(model, 1, client).toBytes();
                for (UpdateChunk c : u.chunks()) {
                    producer.send(new ProducerRecord<>(prefix + ".updates", key, WireCodec.DEFAULT.encode(new UpdateEnvelope(c))));
                }
                producer.send(new ProducerRecord<>(prefix + ".updates", key, WireCodec.DEFAULT.encode(new UpdateEnvelope(u.commit()))));
            }
            producer.flush();
        }
        AggregatorConfig config = AggregatorConfig.builder().bootstrapServers(kafka.bootstrapServers())
                .signingKey(aggKey.privateKey())
                .set(AggregatorConfig.TOPIC_UPDATES, prefix + ".updates").set(AggregatorConfig.TOPIC_ROUNDS, prefix + ".rounds")
                .set(AggregatorConfig.TOPIC_ENROLLMENTS, prefix + ".enrollments")
                .set(AggregatorConfig.TOPIC_AGGREGATES, prefix + ".aggregates")
                .set(AggregatorConfig.TOPIC_ACCEPTED, prefix + ".accepted").set(AggregatorConfig.TOPIC_REJECTS, prefix + ".rejects")
                .set(AggregatorConfig.GROUP_ID, prefix).set(AggregatorConfig.TRANSACTIONAL_ID_PREFIX, prefix + "-tx")
                .set(AggregatorConfig.PARALLELISM, parallelism).set(AggregatorConfig.CHECKPOINT_INTERVAL_MS, 1000)
                .build();
        Properties cp = new Properties();
        cp.put("bootstrap.servers", kafka.bootstrapServers());
        cp.put("key.deserializer", ByteArrayDeserializer.class.getName());
        cp.put("value.deserializer", ByteArrayDeserializer.class.getName());
        cp.put("isolation.level", "read_committed");
        cp.put("max.partition.fetch.bytes", Integer.toString(64 << 20));
        cp.put("fetch.max.bytes", Integer.toString(64 << 20));
        List<Long> acceptedAt = new ArrayList<>();
        try (LocalAggregator job = AggregatorJob.runLocal(config, work.resolve("ckpt-" + parallelism));
             KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(cp)) {
            TopicPartition acc = new TopicPartition(prefix + ".accepted", 0);
            TopicPartition agg = new TopicPartition(prefix + ".aggregates", 0);
            c.assign(List.of(acc, agg));
            c.seekToBeginning(List.of(acc, agg));
            boolean done = false;
            long end = System.nanoTime() + Duration.ofMinutes(5).toNanos();
            while (!done && System.nanoTime() < end) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
                    if (r.topic().endsWith(".accepted")) {
                        acceptedAt.add(WireCodec.UNBOUNDED.decode(r.value(), UpdateAccepted.class).getAcceptedAtEpochMillis());
                    } else {
                        AggregatePublished a = WireCodec.UNBOUNDED.decode(r.value(), AggregatePublished.class);
                        System.out.printf("parallelism %d: aggregate %s, %d accepted%n", parallelism, a.getStatus(), a.getAcceptedCount());
                        done = true;
                    }
                }
            }
            if (!done) {
                throw new IllegalStateException("no aggregate within 5 minutes");
            }
        }
        acceptedAt.sort(null);
        double seconds = (acceptedAt.get(acceptedAt.size() - 1) - acceptedAt.get(0)) / 1000.0;
        return new double[] {(acceptedAt.size() - 1) / Math.max(seconds, 1e-3)};
    }

    /** What the keyed stage does per update, without Flink and Kafka: updates/s. */
    private static double heOnly(HeContext he, List<byte[]> cts, int updates) throws Exception {
        byte[][] sums = new byte[cts.size()][];
        long t0 = 0;
        int warm = Math.min(5, updates);
        for (int u = 0; u < updates + warm; u++) {
            if (u == warm) {
                t0 = System.nanoTime();
            }
            for (int i = 0; i < cts.size(); i++) {
                try (EncryptedVector add = he.loadVector(cts.get(i))) {
                    if (sums[i] == null) {
                        sums[i] = add.toBytes();
                    } else {
                        try (EncryptedVector s = he.loadVector(sums[i])) {
                            s.addInPlace(add);
                            sums[i] = s.toBytes();
                        }
                    }
                }
            }
        }
        return updates / ((System.nanoTime() - t0) / 1e9);
    }

    /** Plain Java modular add over arrays of the same size: addend MB/s. */
    private static double plainJavaSum(long bytesPerUpdate, int updates) {
        int n = (int) (bytesPerUpdate / 8);
        long p = 1152921504606748673L; // SEAL's first 60-bit prime of ckks-8192
        long[] acc = new long[n];
        long[][] addends = new long[8][n];
        java.util.Random r = new java.util.Random(3);
        for (long[] a : addends) {
            for (int i = 0; i < n; i++) {
                a[i] = Math.floorMod(r.nextLong(), p);
            }
        }
        long t0 = 0;
        for (int u = 0; u < updates + 5; u++) {
            if (u == 5) {
                t0 = System.nanoTime();
            }
            long[] b = addends[u % addends.length];
            for (int i = 0; i < n; i++) {
                long s = acc[i] + b[i];
                acc[i] = s >= p ? s - p : s;
            }
        }
        double sec = (System.nanoTime() - t0) / 1e9;
        if (acc[n / 2] == 42) {
            System.out.print("");
        }
        return (double) updates * bytesPerUpdate / 1e6 / sec;
    }
}
