package org.fedseal.aggregator;

import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import org.fedseal.he.HeParameters;
import org.fedseal.protocol.SigningPrivateKey;
import org.fedseal.protocol.Topics;
import org.fedseal.protocol.WireCodec;

/**
 * Configuration of the aggregator job. Immutable and {@link Serializable} (it travels with the job
 * graph). It holds <em>public</em> material only, plus the aggregator's own Ed25519 signing key for
 * {@code AggregatePublished}: there is no field for, and no code path that accepts, an HE secret key.
 *
 * <p>Every key below can be given in a properties file ({@link #fromProperties}), and as an
 * environment variable {@code FEDSEAL_AGG_<KEY>} with dots and dashes turned into underscores and
 * upper-cased (e.g. {@code FEDSEAL_AGG_BOOTSTRAP_SERVERS}); see {@link #fromEnvironment}.
 */
public final class AggregatorConfig implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Kafka bootstrap servers (required). */
    public static final String BOOTSTRAP_SERVERS = "bootstrap.servers";
    /** Topic of UpdateEnvelope records (default {@value Topics#UPDATES}). */
    public static final String TOPIC_UPDATES = "topic.updates";
    /** Topic of RoundOpened records (default {@value Topics#ROUNDS}). */
    public static final String TOPIC_ROUNDS = "topic.rounds";
    /** Topic of ClientEnrolled records (default {@value Topics#ENROLLMENTS}). */
    public static final String TOPIC_ENROLLMENTS = "topic.enrollments";
    /** Topic for AggregatePublished, the signed manifests (default {@value Topics#AGGREGATES}). */
    public static final String TOPIC_AGGREGATES = "topic.aggregates";
    /** Topic for AggregateChunkSum, one record per chunk sum (default {@value Topics#AGGREGATE_CHUNKS}). */
    public static final String TOPIC_AGGREGATE_CHUNKS = "topic.aggregate.chunks";
    /** Topic for UpdateAccepted (default {@value Topics#ACCEPTED}). */
    public static final String TOPIC_ACCEPTED = "topic.accepted";
    /** Topic for UpdateRejected (default {@value Topics#REJECTS}). */
    public static final String TOPIC_REJECTS = "topic.rejects";
    /** Consumer group id of the job's sources (default {@code fedseal-aggregator}). */
    public static final String GROUP_ID = "group.id";
    /** Prefix of the KafkaSink transactional ids (default {@code fedseal-aggregator}); unique per job. */
    public static final String TRANSACTIONAL_ID_PREFIX = "transactional.id.prefix";
    /** Producer {@code transaction.timeout.ms}; must be below the broker's max (default 60000). */
    public static final String TRANSACTION_TIMEOUT_MS = "transaction.timeout.ms";
    /**
     * HE parameter set ids the job serves, comma-separated (default {@code ckks-8192-v1}); e.g.
     * {@code ckks-8192-v1,ckks-8192-t50-v1} for single-key and threshold models side by side.
     */
    public static final String HE_PARAMS_ID = "he.params.id";
    /** Id written into every AggregatePublished (default {@code fedseal-aggregator}). */
    public static final String AGGREGATOR_ID = "aggregator.id";
    /** Aggregator Ed25519 signing key, PKCS#8, base64 (this or the file is required). */
    public static final String SIGNING_KEY = "aggregator.signing.key";
    /** File holding the aggregator's Ed25519 signing key, PKCS#8 DER or base64 text. */
    public static final String SIGNING_KEY_FILE = "aggregator.signing.key.file";
    /** Quorum used when a RoundOpened says {@code quorum <= 0} (default 1). */
    public static final String DEFAULT_QUORUM = "round.default.quorum";
    /** Round duration used when a RoundOpened has no deadline ({@code <= 0}) (default 600000). */
    public static final String DEFAULT_ROUND_DURATION_MS = "round.default.duration.ms";
    /** Close a round as soon as its quorum is reached (default true); else only at the deadline. */
    public static final String CLOSE_AT_QUORUM = "round.close.at.quorum";
    /**
     * How long an update for a round or client the job has not seen yet is held back before it is
     * rejected (UNKNOWN_ROUND / UNKNOWN_CLIENT): rounds, enrollments and updates come from different
     * topics, in no guaranteed order (default 5000).
     */
    public static final String PENDING_GRACE_MS = "pending.grace.ms";
    /** Largest accepted update record (default 1048576). */
    public static final String MAX_RECORD_BYTES = "max.record.bytes";
    /** Producer {@code max.request.size} for the output (default 4194304; every output record stays below 1 MiB for chunks of up to 7 ciphertexts). */
    public static final String MAX_OUTPUT_RECORD_BYTES = "max.output.record.bytes";
    /** Checkpoint interval (default 2000). */
    public static final String CHECKPOINT_INTERVAL_MS = "checkpoint.interval.ms";
    /** Job parallelism, 0 = the environment's default (default 0). The chunk sums of one round spread over all of it. */
    public static final String PARALLELISM = "parallelism";
    /** Max parallelism (key groups) of the keyed stages: the most the job can be rescaled to (default 128). */
    public static final String MAX_PARALLELISM = "max.parallelism";
    /**
     * Flink state backend of {@link AggregatorJob#runLocal}: {@code hashmap} (heap, the default) or
     * {@code rocksdb} (large state on disk, incremental checkpoints). On a cluster the cluster's
     * configuration decides.
     */
    public static final String STATE_BACKEND = "state.backend";
    /** TEST ONLY: fail the job once (first attempt) after this many update records after a checkpoint (default 0 = off). */
    public static final String TEST_FAIL_AFTER_RECORDS = "test.fail.after.records";
    /**
     * Prefix of Flink settings for in-process runs ({@link AggregatorJob#runLocal}): {@code flink.x.y=v}
     * sets Flink's {@code x.y=v} (e.g. a metrics reporter). On a cluster, Flink's own configuration applies.
     */
    public static final String FLINK_PREFIX = "flink.";
    /** TEST ONLY: fail the job once (first attempt) after a round's chunk sums are out and before its manifest (default false). */
    public static final String TEST_FAIL_BEFORE_MANIFEST = "test.fail.before.manifest";

    private final Map<String, String> values;

    private AggregatorConfig(Map<String, String> values) {
        this.values = Map.copyOf(values);
        validate();
    }

    /** Default values of every key that has one. */
    public static Map<String, String> defaults() {
        Map<String, String> d = new LinkedHashMap<>();
        d.put(TOPIC_UPDATES, Topics.UPDATES);
        d.put(TOPIC_ROUNDS, Topics.ROUNDS);
        d.put(TOPIC_ENROLLMENTS, Topics.ENROLLMENTS);
        d.put(TOPIC_AGGREGATES, Topics.AGGREGATES);
        d.put(TOPIC_AGGREGATE_CHUNKS, Topics.AGGREGATE_CHUNKS);
        d.put(TOPIC_ACCEPTED, Topics.ACCEPTED);
        d.put(TOPIC_REJECTS, Topics.REJECTS);
        d.put(GROUP_ID, "fedseal-aggregator");
        d.put(TRANSACTIONAL_ID_PREFIX, "fedseal-aggregator");
        d.put(TRANSACTION_TIMEOUT_MS, "60000");
        d.put(HE_PARAMS_ID, HeParameters.CKKS_8192.id());
        d.put(AGGREGATOR_ID, "fedseal-aggregator");
        d.put(DEFAULT_QUORUM, "1");
        d.put(DEFAULT_ROUND_DURATION_MS, "600000");
        d.put(CLOSE_AT_QUORUM, "true");
        d.put(PENDING_GRACE_MS, "5000");
        d.put(MAX_RECORD_BYTES, Integer.toString(WireCodec.DEFAULT_MAX_RECORD_BYTES));
        d.put(MAX_OUTPUT_RECORD_BYTES, Integer.toString(4 << 20));
        d.put(CHECKPOINT_INTERVAL_MS, "2000");
        d.put(PARALLELISM, "0");
        d.put(MAX_PARALLELISM, "128");
        d.put(STATE_BACKEND, "hashmap");
        d.put(TEST_FAIL_AFTER_RECORDS, "0");
        d.put(TEST_FAIL_BEFORE_MANIFEST, "false");
        return d;
    }

    /** Every key this config understands. */
    public static java.util.Set<String> keys() {
        java.util.Set<String> k = new java.util.TreeSet<>(defaults().keySet());
        k.add(BOOTSTRAP_SERVERS);
        k.add(SIGNING_KEY);
        k.add(SIGNING_KEY_FILE);
        return k;
    }

    /** A builder starting from the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Defaults, overridden by {@code props}.
     *
     * @throws IllegalArgumentException naming the key, for an unknown key or a bad value
     */
    public static AggregatorConfig fromProperties(Properties props) {
        return builder().putAll(props).build();
    }

    /** Loads a properties file (see {@link #fromProperties}). */
    public static Properties loadProperties(Path file) throws IOException {
        Properties p = new Properties();
        try (InputStream in = Files.newInputStream(file)) {
            p.load(in);
        }
        return p;
    }

    /** The {@code FEDSEAL_AGG_*} environment variables that name a known key, as properties. */
    public static Properties fromEnvironment(Map<String, String> env) {
        Properties p = new Properties();
        for (String key : keys()) {
            String v = env.get(envName(key));
            if (v != null && !v.isBlank()) {
                p.setProperty(key, v);
            }
        }
        return p;
    }

    /** {@code FEDSEAL_AGG_} + the key upper-cased with '.' and '-' as '_'. */
    public static String envName(String key) {
        return "FEDSEAL_AGG_" + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    /** A builder holding this config's values. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.values.putAll(values);
        return b;
    }

    private void validate() {
        for (String k : values.keySet()) {
            if (!keys().contains(k) && !(k.startsWith(FLINK_PREFIX) && k.length() > FLINK_PREFIX.length())) {
                throw new IllegalArgumentException("unknown aggregator config key '" + k + "'; known: " + keys());
            }
        }
        if (bootstrapServers().isBlank()) {
            throw new IllegalArgumentException("'" + BOOTSTRAP_SERVERS + "' is required");
        }
        for (String id : heParamsIds()) {
            if (HeParameters.byId(id).isEmpty()) {
                throw new IllegalArgumentException("'" + HE_PARAMS_ID + "': unknown HE parameter set " + id
                        + "; known: "
                        + HeParameters.all().stream().map(HeParameters::id).toList());
            }
        }
        positive(TRANSACTION_TIMEOUT_MS);
        positive(DEFAULT_QUORUM);
        positive(DEFAULT_ROUND_DURATION_MS);
        nonNegative(PENDING_GRACE_MS);
        positive(MAX_RECORD_BYTES);
        positive(MAX_OUTPUT_RECORD_BYTES);
        positive(CHECKPOINT_INTERVAL_MS);
        nonNegative(PARALLELISM);
        positive(MAX_PARALLELISM);
        if (parallelism() > maxParallelism()) {
            throw new IllegalArgumentException("'" + PARALLELISM + "' (" + parallelism() + ") exceeds '"
                    + MAX_PARALLELISM + "' (" + maxParallelism() + ")");
        }
        nonNegative(TEST_FAIL_AFTER_RECORDS);
        for (String key : new String[] {CLOSE_AT_QUORUM, TEST_FAIL_BEFORE_MANIFEST}) {
            String b = get(key);
            if (!"true".equalsIgnoreCase(b) && !"false".equalsIgnoreCase(b)) {
                throw new IllegalArgumentException("'" + key + "' must be true or false, got '" + b + "'");
            }
        }
        if (!List.of("hashmap", "rocksdb").contains(get(STATE_BACKEND))) {
            throw new IllegalArgumentException(
                    "'" + STATE_BACKEND + "' must be hashmap or rocksdb, got '" + get(STATE_BACKEND) + "'");
        }
        for (String t : new String[] {
            TOPIC_UPDATES,
            TOPIC_ROUNDS,
            TOPIC_ENROLLMENTS,
            TOPIC_AGGREGATES,
            TOPIC_AGGREGATE_CHUNKS,
            TOPIC_ACCEPTED,
            TOPIC_REJECTS,
            GROUP_ID,
            TRANSACTIONAL_ID_PREFIX,
            AGGREGATOR_ID
        }) {
            if (get(t).isBlank()) {
                throw new IllegalArgumentException("'" + t + "' must not be empty");
            }
        }
        signingKeyPkcs8(); // parses, or explains which key is wrong
    }

    private long number(String key) {
        try {
            return Long.parseLong(get(key).trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + key + "' must be a number, got '" + get(key) + "'");
        }
    }

    private void positive(String key) {
        if (number(key) <= 0) {
            throw new IllegalArgumentException("'" + key + "' must be positive, got " + get(key));
        }
    }

    private void nonNegative(String key) {
        if (number(key) < 0) {
            throw new IllegalArgumentException("'" + key + "' must not be negative, got " + get(key));
        }
    }

    /** Raw value of {@code key} (the default if unset, "" if it has none). */
    public String get(String key) {
        String v = values.get(key);
        if (v == null) {
            v = defaults().getOrDefault(key, "");
        }
        return v;
    }

    /** All explicitly set values, with the signing key redacted. */
    @Override
    public String toString() {
        Map<String, String> shown = new java.util.TreeMap<>(values);
        if (shown.containsKey(SIGNING_KEY)) {
            shown.put(SIGNING_KEY, "<redacted>");
        }
        return "AggregatorConfig" + shown;
    }

    public String bootstrapServers() {
        return get(BOOTSTRAP_SERVERS);
    }

    public String updatesTopic() {
        return get(TOPIC_UPDATES);
    }

    public String roundsTopic() {
        return get(TOPIC_ROUNDS);
    }

    public String enrollmentsTopic() {
        return get(TOPIC_ENROLLMENTS);
    }

    public String aggregatesTopic() {
        return get(TOPIC_AGGREGATES);
    }

    public String aggregateChunksTopic() {
        return get(TOPIC_AGGREGATE_CHUNKS);
    }

    public String acceptedTopic() {
        return get(TOPIC_ACCEPTED);
    }

    public String rejectsTopic() {
        return get(TOPIC_REJECTS);
    }

    public String groupId() {
        return get(GROUP_ID);
    }

    public String transactionalIdPrefix() {
        return get(TRANSACTIONAL_ID_PREFIX);
    }

    public int transactionTimeoutMs() {
        return (int) number(TRANSACTION_TIMEOUT_MS);
    }

    public String heParamsId() {
        return get(HE_PARAMS_ID);
    }
    /** The served parameter set ids, in configured order. */
    public java.util.List<String> heParamsIds() {
        return java.util.Arrays.stream(get(HE_PARAMS_ID).split(","))
                .map(String::trim)
                .filter(x -> !x.isEmpty())
                .toList();
    }

    public String aggregatorId() {
        return get(AGGREGATOR_ID);
    }

    public int defaultQuorum() {
        return (int) number(DEFAULT_QUORUM);
    }

    public long defaultRoundDurationMs() {
        return number(DEFAULT_ROUND_DURATION_MS);
    }

    public boolean closeAtQuorum() {
        return Boolean.parseBoolean(get(CLOSE_AT_QUORUM));
    }

    public long pendingGraceMs() {
        return number(PENDING_GRACE_MS);
    }

    public int maxRecordBytes() {
        return (int) number(MAX_RECORD_BYTES);
    }

    public int maxOutputRecordBytes() {
        return (int) number(MAX_OUTPUT_RECORD_BYTES);
    }

    public long checkpointIntervalMs() {
        return number(CHECKPOINT_INTERVAL_MS);
    }

    public int parallelism() {
        return (int) number(PARALLELISM);
    }

    public int maxParallelism() {
        return (int) number(MAX_PARALLELISM);
    }

    public String stateBackend() {
        return get(STATE_BACKEND);
    }

    public long testFailAfterRecords() {
        return number(TEST_FAIL_AFTER_RECORDS);
    }

    public boolean testFailBeforeManifest() {
        return Boolean.parseBoolean(get(TEST_FAIL_BEFORE_MANIFEST));
    }

    /** The {@link #FLINK_PREFIX} settings, prefix removed. */
    public Map<String, String> flinkSettings() {
        Map<String, String> out = new LinkedHashMap<>();
        values.forEach((k, v) -> {
            if (k.startsWith(FLINK_PREFIX)) {
                out.put(k.substring(FLINK_PREFIX.length()), v);
            }
        });
        return out;
    }

    /**
     * The aggregator's Ed25519 signing key, PKCS#8 (from {@link #SIGNING_KEY} or {@link #SIGNING_KEY_FILE}).
     *
     * @throws IllegalArgumentException if neither is set or it is not an Ed25519 PKCS#8 key
     */
    public byte[] signingKeyPkcs8() {
        String inline = get(SIGNING_KEY).trim();
        String file = get(SIGNING_KEY_FILE).trim();
        byte[] content;
        if (!inline.isEmpty()) {
            content = inline.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        } else if (!file.isEmpty()) {
            try {
                content = Files.readAllBytes(Path.of(file));
            } catch (IOException e) {
                throw new IllegalArgumentException(
                        "'" + SIGNING_KEY_FILE + "': cannot read " + file + ": " + e.getMessage());
            }
        } else {
            throw new IllegalArgumentException(
                    "one of '" + SIGNING_KEY + "' or '" + SIGNING_KEY_FILE + "' is required");
        }
        try {
            return SigningPrivateKey.decodePkcs8(content);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + (inline.isEmpty() ? SIGNING_KEY_FILE : SIGNING_KEY)
                    + "' is not a PKCS#8 Ed25519 private key (DER, PEM or base64): " + e.getMessage());
        }
    }

    /** Builder; {@link #build()} validates. */
    public static final class Builder {
        private final Map<String, String> values = new LinkedHashMap<>();

        private Builder() {}

        /** Sets one key. */
        public Builder set(String key, String value) {
            values.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, key));
            return this;
        }

        /** Sets one numeric key. */
        public Builder set(String key, long value) {
            return set(key, Long.toString(value));
        }

        /** Sets every entry of {@code props}. */
        public Builder putAll(Properties props) {
            for (String k : props.stringPropertyNames()) {
                set(k.trim(), props.getProperty(k).trim());
            }
            return this;
        }

        public Builder bootstrapServers(String servers) {
            return set(BOOTSTRAP_SERVERS, servers);
        }

        /** The aggregator's signing key (exported PKCS#8). */
        public Builder signingKey(SigningPrivateKey key) {
            return set(SIGNING_KEY, Base64.getEncoder().encodeToString(key.exportPkcs8()));
        }

        /** Validates and builds. */
        public AggregatorConfig build() {
            return new AggregatorConfig(values);
        }
    }
}
