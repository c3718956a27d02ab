package org.fedseal.aggregator.bench;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.fedseal.he.EncryptedVector;
import org.fedseal.he.HeContext;
import org.fedseal.he.MalformedHeDataException;
import org.fedseal.protocol.CanonicalHash;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.WireCodec;
import org.fedseal.protocol.WireFormatException;
import org.fedseal.protocol.wire.ChunkLayout;
import org.fedseal.protocol.wire.UpdateChunk;
import org.fedseal.protocol.wire.UpdateEnvelope;

/**
 * Single-thread rates of the work every update needs on its way into a round's sum, measured on
 * the records of a real updates topic: the same bytes the Flink job reads. Every rate is in MB/s
 * of <em>ciphertext</em> bytes (the serialized he-native ciphertexts inside the chunks; MB = 10^6
 * bytes), so the stages, their chain and the job compare directly.
 *
 * <p>The unavoidable stages, in the order a record meets them:
 * <ol>
 *   <li>{@link #kafkaFetch Kafka fetch}: one consumer ({@code read_committed}, like the job's
 *       source; fetch settings for the ceiling, see the constructor) reads every partition of the
 *       topic from the beginning to the end offsets from the local broker;
 *   <li>{@link #avroDecode Avro decode}: {@link WireCodec#decode} of every record as an
 *       {@link UpdateEnvelope} (chunks and commits);
 *   <li>{@link #sha256 SHA-256 of the chunk}: the chunk's canonical hash, which the commit signs
 *       and the job must check, computed over the chunk's canonical bytes where they already lie
 *       in the record (an {@code UpdateChunk} has no signature field, so its canonical encoding
 *       is the record minus the envelope's union tag; checked when the bench starts);
 *   <li>{@link #heLoad he-native's validating load}: {@link HeContext#loadVector} of every
 *       ciphertext (parses and range-checks untrusted bytes);
 *   <li>{@link #heAdd modular add}: {@link EncryptedVector#addInPlace} of loaded ciphertexts into
 *       loaded running sums.
 * </ol>
 *
 * <p>{@link #chained} runs those five in one thread, record by record, as one slot would: poll,
 * decode, hash, load, add into sums that stay loaded. A slot does at least this work for every
 * byte it sums, with nothing but its one core, so the chained rate is the ceiling a slot can
 * reach; what a job does beyond it (copies, a second load, saving the sums after every update,
 * re-encoding to hash, state and checkpoint overhead, hand-over between threads) shows as the gap
 * between the job at parallelism 1 and this rate.
 *
 * <p>For reference, not part of the chain: {@link #canonicalHash} ({@link CanonicalHash#of} of the
 * decoded chunk: re-encode and SHA-256, the generic way to the same hash),
 * {@link #heLoadAddSave} (load the sum, add, save it again for every ciphertext: sums kept
 * serialized between updates, as in Flink heap state) and {@link #plainAdd} (plain Java
 * {@code (a + b) mod p} over arrays of the same size: the memory-bandwidth baseline of the
 * arithmetic).
 *
 * <p>Each rate is the median of {@value #MEASURED_PASSES} passes over all records, after at least
 * {@value #WARMUP_PASSES} warm-up passes and {@link #WARMUP_TIME} (JIT compilation here and in the
 * broker, connections, page cache).
 */
final class StageRates implements AutoCloseable {
    static final int WARMUP_PASSES = 2;
    /** Warm-up also lasts at least this long: the broker's JVM warms up too, and fetching takes seconds to reach its rate. */
    static final Duration WARMUP_TIME = Duration.ofSeconds(3);

    static final int MEASURED_PASSES = 5;
    /** Loaded updates the add stage cycles through (more than the caches hold, like a stream of updates). */
    private static final int ADD_UPDATES_IN_MEMORY = 4;

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final List<TopicPartition> partitions;
    private final HeContext he;
    private final ChunkLayout layout;
    /** Every record value of the topic, in the order the consumer returned them. */
    private final List<byte[]> values;
    /** The chunk records' values and their decoded chunks, index for index. */
    private final List<byte[]> chunkValues = new ArrayList<>();

    private final List<UpdateChunk> chunks = new ArrayList<>();
    /** Every ciphertext of every chunk and its index in the update's layout. */
    private final List<byte[]> ciphertexts = new ArrayList<>();

    private final int[] layoutIndex;
    /** Where a chunk's canonical bytes start in its record: after the envelope's union tag. */
    private final int canonicalOffset;
    /** Sum of {@link #ciphertexts}' lengths: the bytes every pass processes. */
    private final long ciphertextBytes;

    /**
     * Reads the whole topic once (the records every stage then processes) and checks that a
     * chunk's canonical bytes are its record minus the union tag.
     *
     * @param maxFetchBytes fetch limits of the consumer (at least the largest record)
     */
    StageRates(String bootstrapServers, String topic, int maxFetchBytes, HeContext he, ChunkLayout layout)
            throws WireFormatException {
        this.he = he;
        this.layout = layout;
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrapServers);
        p.put("key.deserializer", ByteArrayDeserializer.class.getName());
        p.put("value.deserializer", ByteArrayDeserializer.class.getName());
        p.put("isolation.level", "read_committed");
        p.put("enable.auto.commit", "false");
        // Settings for the ceiling, not the job's: fetches as large as the broker's record limit, the
        // OS's auto-tuned socket receive buffer instead of Kafka's fixed 64 KiB, and a short long-poll:
        // the fetch left parked at the end of the topic would otherwise delay the next pass by
        // fetch.max.wait.ms (500 ms), and a pass here takes about 100 ms.
        p.put("max.partition.fetch.bytes", Integer.toString(maxFetchBytes));
        p.put("fetch.max.bytes", Integer.toString(maxFetchBytes));
        p.put("receive.buffer.bytes", "-1");
        p.put("fetch.max.wait.ms", "10");
        consumer = new KafkaConsumer<>(p);
        partitions = consumer.partitionsFor(topic).stream()
                .map(i -> new TopicPartition(topic, i.partition()))
                .toList();
        consumer.assign(partitions);
        values = readToEnd(consumer.endOffsets(partitions));

        int offset = -1;
        for (byte[] v : values) {
            if (WireCodec.UNBOUNDED.decode(v, UpdateEnvelope.class).getPayload() instanceof UpdateChunk c) {
                byte[] canonical = CanonicalHash.canonicalBytes(c);
                int o = v.length - canonical.length;
                if (o < 0
                        || (offset >= 0 && o != offset)
                        || !Arrays.equals(v, o, v.length, canonical, 0, canonical.length)) {
                    throw new IllegalStateException("a chunk's canonical bytes are not its record minus the union tag: "
                            + "the SHA-256 stage would hash the wrong bytes");
                }
                offset = o;
                chunkValues.add(v);
                chunks.add(c);
                for (int j = 0; j < c.getCiphertexts().size(); j++) {
                    ciphertexts.add(toArray(c.getCiphertexts().get(j)));
                }
            }
        }
        if (chunks.isEmpty()) {
            throw new IllegalStateException("no chunks on " + topic);
        }
        canonicalOffset = offset;
        layoutIndex = new int[ciphertexts.size()];
        int k = 0;
        for (UpdateChunk c : chunks) {
            for (int j = 0; j < c.getCiphertexts().size(); j++) {
                layoutIndex[k++] = layoutIndex(c, j);
            }
        }
        ciphertextBytes = ciphertexts.stream().mapToLong(b -> b.length).sum();
    }

    /** Ciphertext bytes on the topic: what each pass of each stage processes. */
    long ciphertextBytes() {
        return ciphertextBytes;
    }

    /** Records on the topic (chunks and commits). */
    int records() {
        return values.size();
    }

    /** Polls every partition from the beginning until the consumer reaches {@code ends}; returns the values. */
    private List<byte[]> readToEnd(Map<TopicPartition, Long> ends) {
        consumer.seekToBeginning(partitions);
        List<byte[]> out = new ArrayList<>();
        while (partitions.stream().anyMatch(tp -> consumer.position(tp) < ends.get(tp))) {
            for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                out.add(r.value());
            }
        }
        return out;
    }

    // ---- the unavoidable stages, one at a time ----

    /** Kafka fetch: polls the whole topic from the beginning (as many records as it holds). */
    double kafkaFetch() {
        return rate(() -> {
            consumer.seekToBeginning(partitions);
            long seen = 0;
            long sink = 0;
            while (seen < values.size()) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    seen++;
                    sink += r.value().length;
                }
            }
            return sink;
        });
    }

    /** Avro decode of every record as an {@link UpdateEnvelope}. */
    double avroDecode() {
        return rate(() -> {
            long sink = 0;
            for (byte[] v : values) {
                sink += WireCodec.UNBOUNDED
                        .decode(v, UpdateEnvelope.class)
                        .getSchema()
                        .getFields()
                        .size();
            }
            return sink;
        });
    }

    /** SHA-256 of every chunk's canonical bytes, in place in its record. */
    double sha256() {
        return rate(() -> {
            long sink = 0;
            for (byte[] v : chunkValues) {
                sink += chunkHash(v)[0];
            }
            return sink;
        });
    }

    /** he-native's validating load of every ciphertext (and freeing it). */
    double heLoad() {
        return rate(() -> {
            long sink = 0;
            for (byte[] ct : ciphertexts) {
                try (EncryptedVector v = he.loadVector(ct)) {
                    sink += v.length();
                }
            }
            return sink;
        });
    }

    /**
     * he-native's add: every ciphertext of the topic added into loaded running sums, the addends
     * drawn from {@value #ADD_UPDATES_IN_MEMORY} loaded updates in turn (loading is not timed).
     */
    double heAdd() throws MalformedHeDataException {
        int inMemory = Math.min(ciphertexts.size(), ADD_UPDATES_IN_MEMORY * layout.getCiphertextCount());
        List<EncryptedVector> addends = new ArrayList<>(inMemory);
        EncryptedVector[] sums = new EncryptedVector[layout.getCiphertextCount()];
        try {
            for (int i = 0; i < inMemory; i++) {
                addends.add(he.loadVector(ciphertexts.get(i)));
            }
            for (int i = 0; i < ciphertexts.size(); i++) {
                if (sums[layoutIndex[i]] == null) {
                    sums[layoutIndex[i]] = he.loadVector(ciphertexts.get(i));
                }
            }
            return rate(() -> {
                for (int i = 0; i < ciphertexts.size(); i++) {
                    int a = i % inMemory;
                    sums[layoutIndex[a]].addInPlace(addends.get(a));
                }
                return sums.length;
            });
        } finally {
            addends.forEach(EncryptedVector::close);
            closeAll(sums);
        }
    }

    // ---- all of them in one thread ----

    /**
     * Fetch, decode, hash, load and add, record by record in this thread: the chained
     * single-thread ceiling. The first ciphertext at each layout index becomes that index's sum;
     * the sums stay loaded (nothing is saved between updates).
     */
    double chained() {
        return rate(() -> {
            EncryptedVector[] sums = new EncryptedVector[layout.getCiphertextCount()];
            try {
                consumer.seekToBeginning(partitions);
                long seen = 0;
                long sink = 0;
                while (seen < values.size()) {
                    for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                        seen++;
                        byte[] v = r.value();
                        if (WireCodec.UNBOUNDED.decode(v, UpdateEnvelope.class).getPayload() instanceof UpdateChunk c) {
                            sink += chunkHash(v)[0];
                            List<ByteBuffer> cts = c.getCiphertexts();
                            for (int j = 0; j < cts.size(); j++) {
                                EncryptedVector x = he.loadVector(cts.get(j));
                                int g = layoutIndex(c, j);
                                if (sums[g] == null) {
                                    sums[g] = x;
                                } else {
                                    try (x) {
                                        sums[g].addInPlace(x);
                                    }
                                }
                            }
                        }
                    }
                }
                return sink;
            } finally {
                closeAll(sums);
            }
        });
    }

    // ---- for reference ----

    /** {@link CanonicalHash#of} of every decoded chunk: re-encode, then SHA-256. */
    double canonicalHash() {
        return rate(() -> {
            long sink = 0;
            for (UpdateChunk c : chunks) {
                sink += CanonicalHash.of(c).bytes()[0];
            }
            return sink;
        });
    }

    /** Per ciphertext: load it, load the serialized sum, add, save the sum (sums kept serialized between updates). */
    double heLoadAddSave() {
        return rate(() -> {
            byte[][] sums = new byte[layout.getCiphertextCount()][];
            for (int i = 0; i < ciphertexts.size(); i++) {
                int g = layoutIndex[i];
                try (EncryptedVector add = he.loadVector(ciphertexts.get(i))) {
                    if (sums[g] == null) {
                        sums[g] = add.toBytes();
                    } else {
                        try (EncryptedVector s = he.loadVector(sums[g])) {
                            s.addInPlace(add);
                            sums[g] = s.toBytes();
                        }
                    }
                }
            }
            return sums[0].length;
        });
    }

    /**
     * Plain Java {@code a[i] = (a[i] + b[i]) mod p} with SEAL's first 60-bit prime of ckks-8192,
     * over arrays of as many bytes as the ciphertexts of one update, {@code updates} times per pass
     * (the addends cycle through 8 arrays): the memory-bandwidth baseline of the arithmetic.
     */
    static double plainAdd(long bytesPerUpdate, int updates) {
        int n = (int) (bytesPerUpdate / 8);
        long p = 1152921504606748673L;
        long[] acc = new long[n];
        long[][] addends = new long[8][n];
        java.util.Random r = new java.util.Random(3);
        for (long[] a : addends) {
            for (int i = 0; i < n; i++) {
                a[i] = Math.floorMod(r.nextLong(), p);
            }
        }
        return rate(bytesPerUpdate * updates, () -> {
            for (int u = 0; u < updates; u++) {
                long[] b = addends[u % addends.length];
                for (int i = 0; i < n; i++) {
                    long s = acc[i] + b[i];
                    acc[i] = s >= p ? s - p : s;
                }
            }
            return acc[n / 2];
        });
    }

    // ---- helpers ----

    /** One pass over the data; returns something derived from the work so that it cannot be optimised away. */
    @FunctionalInterface
    interface Pass {
        long run() throws Exception;
    }

    private double rate(Pass pass) {
        return rate(ciphertextBytes, pass);
    }

    /** Median MB/s of {@value #MEASURED_PASSES} passes of {@code bytesPerPass}, after the warm-up. */
    static double rate(long bytesPerPass, Pass pass) {
        double[] seconds = new double[MEASURED_PASSES];
        long sink = 0;
        try {
            long warmupEnd = System.nanoTime() + WARMUP_TIME.toNanos();
            for (int i = 0; i < WARMUP_PASSES || System.nanoTime() < warmupEnd; i++) {
                sink += pass.run();
            }
            for (int i = 0; i < MEASURED_PASSES; i++) {
                long t0 = System.nanoTime();
                sink += pass.run();
                seconds[i] = (System.nanoTime() - t0) / 1e9;
            }
        } catch (Exception e) {
            throw new IllegalStateException("bench pass failed", e);
        }
        if (sink == 42) {
            System.err.print(""); // keeps the results alive
        }
        Arrays.sort(seconds);
        return bytesPerPass / 1e6 / seconds[MEASURED_PASSES / 2];
    }

    private byte[] chunkHash(byte[] chunkRecord) {
        MessageDigest md = Hash.newDigest();
        md.update(chunkRecord, canonicalOffset, chunkRecord.length - canonicalOffset);
        return md.digest();
    }

    private int layoutIndex(UpdateChunk c, int j) {
        return c.getChunkIndex() * layout.getCiphertextsPerChunk() + j;
    }

    private static byte[] toArray(ByteBuffer b) {
        byte[] a = new byte[b.remaining()];
        b.duplicate().get(a);
        return a;
    }

    private static void closeAll(EncryptedVector[] vectors) {
        for (EncryptedVector v : vectors) {
            if (v != null) {
                v.close();
            }
        }
    }

    @Override
    public void close() {
        consumer.close();
    }
}
