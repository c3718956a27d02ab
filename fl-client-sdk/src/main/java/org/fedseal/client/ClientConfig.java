package org.fedseal.client;

import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import org.fedseal.protocol.Chunker;
import org.fedseal.protocol.Topics;

/**
 * The configuration keys of a {@link FederatedClient}, in the style of Kafka's client configs: one
 * string-keyed map, validated when the client is built, with a clear message naming a bad key.
 * Values may be strings or the natural Java type. Keys starting with {@link #KAFKA_PREFIX} are
 * passed to the Kafka producer and consumer with the prefix removed (except the ones the client
 * controls: serializers, {@code acks}, {@code enable.idempotence}).
 */
public final class ClientConfig {
    /** Kafka bootstrap servers, {@code host:port,...}. Required unless a producer is injected. */
    public static final String BOOTSTRAP_SERVERS = "bootstrap.servers";
    /** This client's enrolled id (no '/', at most 256 characters). Required. */
    public static final String CLIENT_ID = "client.id";
    /**
     * Path of a file with the client's Ed25519 private key as PKCS#8 (DER, or PEM "PRIVATE KEY").
     * Required unless {@link FederatedClient.Builder#signingKey} is used.
     */
    public static final String SIGNING_KEY_FILE = "signing.key.file";
    /** Topic with {@code RoundOpened} records. Default {@value Topics#ROUNDS}. */
    public static final String TOPIC_ROUNDS = "topic.rounds";
    /** Topic the update chunks and commits go to. Default {@value Topics#UPDATES}. */
    public static final String TOPIC_UPDATES = "topic.updates";
    /** Comma-separated model ids the listener takes part in; empty = all (default). */
    public static final String MODEL_IDS = "model.ids";
    /** This client's own L2 clip bound of the delta (before weighting); it clips to the smaller of this and the round's clip norm. Default: the round's. */
    public static final String CLIP_L2_BOUND = "clip.l2.bound";
    /**
     * Extra local noise multiplier σ: discrete Gaussian noise of std σ·C per coordinate that this client adds on top of its
     * share of a round's distributed-DP noise ({@code RoundOpened.noiseMultiplier}, which clients always honour); 0 = none
     * (default). Not covered by the registry's accountant. See {@link UpdatePolicy}.
     */
    public static final String NOISE_MULTIPLIER = "noise.multiplier";
    /** Seed of the noise generator, for reproducible simulations only; default: a SecureRandom. */
    public static final String NOISE_SEED = "noise.seed";
    /** PyTorch intra-op threads for DJL (applied before the engine first starts). Default 1. */
    public static final String NUM_THREADS = "num.threads";
    /** Largest Kafka record (bytes) an update chunk may make. Default 1048576 (1 MiB). */
    public static final String MAX_RECORD_BYTES = "max.record.bytes";
    /** Attempts to send an update after a transient Kafka failure. Default 3. */
    public static final String SUBMIT_RETRIES = "submit.retries";
    /** Pause between attempts, milliseconds. Default 1000. */
    public static final String SUBMIT_RETRY_BACKOFF_MS = "submit.retry.backoff.ms";
    /** Time allowed for one attempt to be acknowledged, milliseconds. Default 120000. */
    public static final String SUBMIT_TIMEOUT_MS = "submit.timeout.ms";
    /** Prefix of settings passed through to the Kafka clients, e.g. {@code kafka.security.protocol}. */
    public static final String KAFKA_PREFIX = "kafka.";

    static final Set<String> KNOWN = Collections.unmodifiableSet(new LinkedHashSet<>(java.util.List.of(
            BOOTSTRAP_SERVERS,
            CLIENT_ID,
            SIGNING_KEY_FILE,
            TOPIC_ROUNDS,
            TOPIC_UPDATES,
            MODEL_IDS,
            CLIP_L2_BOUND,
            NOISE_MULTIPLIER,
            NOISE_SEED,
            NUM_THREADS,
            MAX_RECORD_BYTES,
            SUBMIT_RETRIES,
            SUBMIT_RETRY_BACKOFF_MS,
            SUBMIT_TIMEOUT_MS)));

    private final Map<String, String> values;

    private ClientConfig(Map<String, String> values) {
        this.values = values;
    }

    /**
     * Parses and checks {@code raw}.
     *
     * @throws IllegalArgumentException naming the first unknown or malformed key
     */
    static ClientConfig parse(Map<String, ?> raw) {
        Map<String, String> v = new HashMap<>();
        for (Map.Entry<String, ?> e : raw.entrySet()) {
            String k = e.getKey();
            if (k == null) {
                throw new IllegalArgumentException("null config key");
            }
            if (!KNOWN.contains(k) && !k.startsWith(KAFKA_PREFIX)) {
                throw new IllegalArgumentException(
                        "unknown config key '" + k + "'; known keys: " + KNOWN + " and '" + KAFKA_PREFIX + "*'");
            }
            if (e.getValue() == null) {
                throw new IllegalArgumentException("config key '" + k + "' has a null value");
            }
            v.put(k, e.getValue().toString().trim());
        }
        ClientConfig c = new ClientConfig(v);
        // validate every typed key eagerly
        c.clipBound();
        c.noiseMultiplier();
        c.noiseSeed();
        c.numThreads();
        c.maxRecordBytes();
        c.submitRetries();
        c.retryBackoffMs();
        c.submitTimeoutMs();
        String id = c.clientId();
        if (id == null || id.isEmpty()) {
            throw new IllegalArgumentException("config key '" + CLIENT_ID + "' is required");
        }
        if (id.length() > 256 || id.indexOf('/') >= 0) {
            throw new IllegalArgumentException(
                    "config key '" + CLIENT_ID + "' must be at most 256 characters without '/'");
        }
        if (c.topic(TOPIC_ROUNDS, Topics.ROUNDS).isEmpty()
                || c.topic(TOPIC_UPDATES, Topics.UPDATES).isEmpty()) {
            throw new IllegalArgumentException("topic names must not be empty");
        }
        return c;
    }

    String get(String key) {
        return values.get(key);
    }

    String clientId() {
        return values.get(CLIENT_ID);
    }

    String topic(String key, String dflt) {
        return values.getOrDefault(key, dflt);
    }

    Set<String> modelIds() {
        Set<String> s = new LinkedHashSet<>();
        for (String p : values.getOrDefault(MODEL_IDS, "").split(",")) {
            if (!p.isBlank()) {
                s.add(p.trim());
            }
        }
        return s;
    }

    double clipBound() {
        return dbl(CLIP_L2_BOUND, Double.POSITIVE_INFINITY, Double.MIN_VALUE);
    }

    double noiseMultiplier() {
        return dbl(NOISE_MULTIPLIER, 0.0, 0.0);
    }

    Long noiseSeed() {
        return values.containsKey(NOISE_SEED) ? lng(NOISE_SEED, 0, Long.MIN_VALUE) : null;
    }

    int numThreads() {
        return (int) lng(NUM_THREADS, 1, 1);
    }

    int maxRecordBytes() {
        long v = lng(MAX_RECORD_BYTES, Chunker.DEFAULT_MAX_RECORD_BYTES, Chunker.RECORD_OVERHEAD_BYTES + 1);
        if (v > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("config key '" + MAX_RECORD_BYTES + "' is too large: " + v);
        }
        return (int) v;
    }

    int submitRetries() {
        return (int) lng(SUBMIT_RETRIES, 3, 0);
    }

    long retryBackoffMs() {
        return lng(SUBMIT_RETRY_BACKOFF_MS, 1000, 0);
    }

    long submitTimeoutMs() {
        return lng(SUBMIT_TIMEOUT_MS, 120_000, 1);
    }

    Map<String, Object> kafkaPassThrough() {
        Map<String, Object> out = new HashMap<>();
        values.forEach((k, v) -> {
            if (k.startsWith(KAFKA_PREFIX)) {
                out.put(k.substring(KAFKA_PREFIX.length()), v);
            }
        });
        return out;
    }

    private double dbl(String key, double dflt, double min) {
        String s = values.get(key);
        if (s == null) {
            return dflt;
        }
        double d;
        try {
            d = Double.parseDouble(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("config key '" + key + "' must be a number, got '" + s + "'");
        }
        if (!Double.isFinite(d) || d < min) {
            throw new IllegalArgumentException("config key '" + key + "' must be finite and >= " + min + ", got " + s);
        }
        return d;
    }

    private long lng(String key, long dflt, long min) {
        String s = values.get(key);
        if (s == null) {
            return dflt;
        }
        long v;
        try {
            v = Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("config key '" + key + "' must be an integer, got '" + s + "'");
        }
        if (v < min) {
            throw new IllegalArgumentException("config key '" + key + "' must be >= " + min + ", got " + v);
        }
        return v;
    }
}
