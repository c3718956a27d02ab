package org.fedseal.registry;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * Configuration of a {@link RegistryServer}: a flat map of keys with defaults, loadable from a
 * {@code .properties} file, a simple YAML file ({@code key: value} lines; nested maps by
 * indentation are flattened with dots) and environment variables.
 *
 * <p>Precedence (highest first): explicit {@link RegistryServer.Builder} settings, environment
 * variables, the config file, defaults. The environment variable of a key is the key upper-cased with
 * dots and dashes replaced by underscores, e.g. {@code fedseal.registry.port} →
 * {@code FEDSEAL_REGISTRY_PORT}.
 */
public final class RegistryConfig {
    /** HTTP port; 0 picks a free one. Default 8470. */
    public static final String PORT = "fedseal.registry.port";
    /** Bind address. Default 127.0.0.1. */
    public static final String BIND = "fedseal.registry.bind";
    /** Data directory (SQLite file, blobs). Default {@code ./fedseal-registry-data}. */
    public static final String DATA_DIR = "fedseal.registry.data-dir";
    /** JDBC URL. Default {@code jdbc:sqlite:<data-dir>/registry.db}; e.g. {@code jdbc:postgresql://host/db}. */
    public static final String JDBC_URL = "fedseal.registry.jdbc.url";
    /** JDBC user (PostgreSQL). */
    public static final String JDBC_USER = "fedseal.registry.jdbc.user";
    /** JDBC password (PostgreSQL). */
    public static final String JDBC_PASSWORD = "fedseal.registry.jdbc.password";
    /** Bearer token required by mutating endpoints. Default: generated once into {@code <data-dir>/admin-token}. */
    public static final String TOKEN = "fedseal.registry.token";
    /** Kafka bootstrap servers; empty disables Kafka (rounds are then only recorded). Default empty. */
    public static final String KAFKA_BOOTSTRAP = "fedseal.registry.kafka.bootstrap-servers";
    /** Consumer group id. Default {@code fedseal-registry}. */
    public static final String KAFKA_GROUP = "fedseal.registry.kafka.group-id";
    /** Topic of RoundOpened. Default {@code fedseal.rounds}. */
    public static final String TOPIC_ROUNDS = "fedseal.registry.topic.rounds";
    /** Topic of update chunks and commits. Default {@code fedseal.updates}. */
    public static final String TOPIC_UPDATES = "fedseal.registry.topic.updates";
    /** Topic of AggregatePublished. Default {@code fedseal.aggregates}. */
    public static final String TOPIC_AGGREGATES = "fedseal.registry.topic.aggregates";
    /** Topic of AggregateChunkSum (the chunk sums a manifest names). Default {@code fedseal.aggregate-chunks}. */
    public static final String TOPIC_AGGREGATE_CHUNKS = "fedseal.registry.topic.aggregate.chunks";
    /** Topic of UpdateAccepted. Default {@code fedseal.accepted}. */
    public static final String TOPIC_ACCEPTED = "fedseal.registry.topic.accepted";
    /** Topic of UpdateRejected. Default {@code fedseal.rejects}. */
    public static final String TOPIC_REJECTS = "fedseal.registry.topic.rejects";
    /** Topic of ClientEnrolled (compacted, key clientId). Default {@code fedseal.enrollments}. */
    public static final String TOPIC_ENROLLMENTS = "fedseal.registry.topic.enrollments";
    /** Topic of ModelVersionPublished. Default {@code fedseal.model-versions}. */
    public static final String TOPIC_MODEL_VERSIONS = "fedseal.registry.topic.model-versions";
    /** Topic of the key ceremonies (KeyCeremonyEnvelope, key ceremonyId). Default {@code fedseal.key-ceremony}. */
    public static final String TOPIC_KEY_CEREMONY = "fedseal.registry.topic.key-ceremony";
    /** Topic of the threshold key holders' DecryptionSharesPublished. Default {@code fedseal.decryption-shares}. */
    public static final String TOPIC_DECRYPTION_SHARES = "fedseal.registry.topic.decryption-shares";
    /** Archive the chunks of accepted updates (needed by {@code fedseal audit recompute}). Default true. */
    public static final String ARCHIVE_UPDATES = "fedseal.registry.archive.updates";
    /** Rounds per model whose update archive is kept; 0 keeps all. Default 0. */
    public static final String ARCHIVE_RETENTION_ROUNDS = "fedseal.registry.archive.retention-rounds";
    /** Largest accepted request body in bytes. Default 268435456 (256 MiB). */
    public static final String MAX_BODY_BYTES = "fedseal.registry.http.max-body-bytes";

    /** Largest body of a {@code POST /api/ingest/updates} request (phones' HTTP ingest). Default 4194304 (4 MiB). */
    public static final String INGEST_MAX_BODY_BYTES = "fedseal.registry.ingest.max-body-bytes";

    /**
     * The aggregator's Ed25519 public key (X.509, base64). When set, an AggregatePublished whose
     * signature does not verify is refused (logged, never stored); empty accepts any. Default empty.
     */
    public static final String AGGREGATOR_PUBLIC_KEY = "fedseal.registry.aggregator.public-key";

    private static final Map<String, String> DEFAULTS;

    static {
        Map<String, String> d = new LinkedHashMap<>();
        d.put(PORT, "8470");
        d.put(BIND, "127.0.0.1");
        d.put(DATA_DIR, "fedseal-registry-data");
        d.put(JDBC_URL, "");
        d.put(JDBC_USER, "");
        d.put(JDBC_PASSWORD, "");
        d.put(TOKEN, "");
        d.put(KAFKA_BOOTSTRAP, "");
        d.put(KAFKA_GROUP, "fedseal-registry");
        d.put(TOPIC_ROUNDS, "fedseal.rounds");
        d.put(TOPIC_UPDATES, "fedseal.updates");
        d.put(TOPIC_AGGREGATES, "fedseal.aggregates");
        d.put(TOPIC_AGGREGATE_CHUNKS, "fedseal.aggregate-chunks");
        d.put(TOPIC_ACCEPTED, "fedseal.accepted");
        d.put(TOPIC_REJECTS, "fedseal.rejects");
        d.put(TOPIC_ENROLLMENTS, "fedseal.enrollments");
        d.put(TOPIC_MODEL_VERSIONS, "fedseal.model-versions");
        d.put(TOPIC_KEY_CEREMONY, "fedseal.key-ceremony");
        d.put(TOPIC_DECRYPTION_SHARES, "fedseal.decryption-shares");
        d.put(ARCHIVE_UPDATES, "true");
        d.put(ARCHIVE_RETENTION_ROUNDS, "0");
        d.put(MAX_BODY_BYTES, Integer.toString(256 << 20));
        d.put(INGEST_MAX_BODY_BYTES, Integer.toString(4 << 20));
        d.put(AGGREGATOR_PUBLIC_KEY, "");
        DEFAULTS = Collections.unmodifiableMap(d);
    }

    private final Map<String, String> values;

    private RegistryConfig(Map<String, String> values) {
        this.values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
    }

    /** The defaults only. */
    public static RegistryConfig defaults() {
        return new RegistryConfig(DEFAULTS);
    }

    /** Every known key with its default. */
    public static Map<String, String> knownKeys() {
        return DEFAULTS;
    }

    /**
     * Defaults, overridden by {@code file} (may be null; {@code .yaml}/{@code .yml} parsed as simple
     * YAML, anything else as properties), overridden by {@code env}.
     */
    public static RegistryConfig load(Path file, Map<String, String> env) {
        Map<String, String> v = new LinkedHashMap<>(DEFAULTS);
        if (file != null) {
            v.putAll(readFile(file));
        }
        for (String key : DEFAULTS.keySet()) {
            String e = env.get(envName(key));
            if (e != null) {
                v.put(key, e);
            }
        }
        return new RegistryConfig(v);
    }

    /** The environment variable name of {@code key}. */
    public static String envName(String key) {
        return key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    /** A copy with {@code key} set. */
    public RegistryConfig with(String key, String value) {
        Map<String, String> v = new LinkedHashMap<>(values);
        v.put(key, value);
        return new RegistryConfig(v);
    }

    /** The value of {@code key} (empty string if unset). */
    public String get(String key) {
        return values.getOrDefault(key, "");
    }

    /** Integer value of {@code key}. */
    public int getInt(String key) {
        return Integer.parseInt(get(key).trim());
    }

    /** Boolean value of {@code key}. */
    public boolean getBoolean(String key) {
        return Boolean.parseBoolean(get(key).trim());
    }

    /** All values. */
    public Map<String, String> asMap() {
        return values;
    }

    private static Map<String, String> readFile(Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        try {
            if (name.endsWith(".yaml") || name.endsWith(".yml")) {
                return parseYaml(Files.readAllLines(file));
            }
            Properties p = new Properties();
            try (Reader r = Files.newBufferedReader(file)) {
                p.load(r);
            }
            Map<String, String> m = new LinkedHashMap<>();
            p.forEach((k, val) -> m.put(k.toString(), val.toString()));
            return m;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read config " + file, e);
        }
    }

    /** Minimal YAML: nested maps of scalars by indentation; comments and quotes handled. */
    static Map<String, String> parseYaml(java.util.List<String> lines) {
        Map<String, String> out = new LinkedHashMap<>();
        java.util.Deque<int[]> indents = new java.util.ArrayDeque<>();
        java.util.Deque<String> prefixes = new java.util.ArrayDeque<>();
        for (String raw : lines) {
            String line = raw.replaceAll("\\s+#.*$", "");
            if (line.isBlank() || line.trim().startsWith("#") || line.trim().equals("---")) {
                continue;
            }
            int indent = line.length() - line.stripLeading().length();
            String t = line.trim();
            int colon = t.indexOf(':');
            if (colon < 0) {
                throw new IllegalArgumentException("unsupported YAML line: " + raw);
            }
            while (!indents.isEmpty() && indents.peek()[0] >= indent) {
                indents.pop();
                prefixes.pop();
            }
            String key = t.substring(0, colon).trim();
            String value = t.substring(colon + 1).trim();
            String full = (prefixes.isEmpty() ? "" : prefixes.peek() + ".") + key;
            if (value.isEmpty()) {
                indents.push(new int[] {indent});
                prefixes.push(full);
            } else {
                if ((value.startsWith("\"") && value.endsWith("\""))
                        || (value.startsWith("'") && value.endsWith("'"))) {
                    value = value.substring(1, value.length() - 1);
                }
                out.put(full, value);
            }
        }
        return out;
    }

    @Override
    public String toString() {
        Map<String, String> shown = new LinkedHashMap<>(values);
        shown.computeIfPresent(TOKEN, (k, v) -> v.isEmpty() ? v : "***");
        shown.computeIfPresent(JDBC_PASSWORD, (k, v) -> v.isEmpty() ? v : "***");
        return "RegistryConfig" + shown;
    }
}
