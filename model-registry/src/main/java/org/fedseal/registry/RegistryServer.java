package org.fedseal.registry;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.fedseal.protocol.SigningPublicKey;
import org.fedseal.registry.internal.BlobStore;
import org.fedseal.registry.internal.Database;
import org.fedseal.registry.internal.EventPublisher;
import org.fedseal.registry.internal.HttpApi;
import org.fedseal.registry.internal.KafkaBridge;
import org.fedseal.registry.internal.RegistryService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The FedSeal model registry: an HTTP service (JDK {@code com.sun.net.httpserver}) over an embedded
 * SQLite database (or PostgreSQL), content-addressed blob files and the persistent provenance log,
 * optionally connected to Kafka.
 *
 * <pre>{@code
 * try (RegistryServer server = RegistryServer.builder().dataDir(dir).port(0).build().start()) {
 *     RegistryClient client = RegistryClient.create(server.uri(), server.adminToken());
 * }
 * }</pre>
 */
public final class RegistryServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RegistryServer.class);

    private final RegistryConfig config;
    private HttpServer http;
    private ExecutorService executor;
    private Database db;
    private RegistryService service;
    private EventPublisher kafka = EventPublisher.NONE;
    private String adminToken;

    private RegistryServer(RegistryConfig config) {
        this.config = config;
    }

    /** A builder starting from the defaults (no file, no environment). */
    public static Builder builder() {
        return new Builder(RegistryConfig.defaults());
    }

    /** A builder starting from {@code config}. */
    public static Builder builder(RegistryConfig config) {
        return new Builder(Objects.requireNonNull(config, "config"));
    }

    /** The effective configuration. */
    public RegistryConfig config() {
        return config;
    }

    /**
     * Opens the database (migrating it), loads or creates the log key, connects Kafka if configured and
     * starts serving HTTP. Returns this.
     */
    public synchronized RegistryServer start() {
        if (http != null) {
            throw new IllegalStateException("already started");
        }
        try {
            Path dataDir = Path.of(config.get(RegistryConfig.DATA_DIR)).toAbsolutePath();
            Files.createDirectories(dataDir);
            String url = config.get(RegistryConfig.JDBC_URL);
            if (url.isBlank()) {
                url = "jdbc:sqlite:" + dataDir.resolve("registry.db");
            }
            db = new Database(
                    url,
                    emptyToNull(config.get(RegistryConfig.JDBC_USER)),
                    emptyToNull(config.get(RegistryConfig.JDBC_PASSWORD)));
            service = new RegistryService(config, db, new BlobStore(dataDir.resolve("blobs")));
            adminToken = config.get(RegistryConfig.TOKEN);
            if (adminToken.isBlank()) {
                adminToken = loadOrCreateToken(dataDir.resolve("admin-token"));
            }
            if (!config.get(RegistryConfig.KAFKA_BOOTSTRAP).isBlank()) {
                kafka = new KafkaBridge(config, service);
                service.setPublisher(kafka);
            }
            // TCP_NODELAY: the JDK server writes a response's headers and body separately, so without it every
            // response on a kept-alive connection waits for the client's delayed ACK (about 40 ms). Read once,
            // when the JDK's first HttpServer is created; an explicit -Dsun.net.httpserver.nodelay wins.
            if (System.getProperty("sun.net.httpserver.nodelay") == null) {
                System.setProperty("sun.net.httpserver.nodelay", "true");
            }
            http = HttpServer.create(
                    new InetSocketAddress(config.get(RegistryConfig.BIND), config.getInt(RegistryConfig.PORT)), 64);
            executor = Executors.newFixedThreadPool(8, r -> {
                Thread t = new Thread(r, "fedseal-registry-http");
                t.setDaemon(true);
                return t;
            });
            http.setExecutor(executor);
            http.createContext("/", new HttpApi(service, adminToken, config));
            http.start();
            LOG.info("FedSeal registry listening on {} (data in {})", uri(), dataDir);
            return this;
        } catch (IOException e) {
            stop();
            throw new UncheckedIOException("cannot start the registry: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            stop();
            throw e;
        }
    }

    /** Stops serving and closes Kafka and the database. Idempotent. */
    public synchronized void stop() {
        if (http != null) {
            http.stop(0);
            http = null;
        }
        if (executor != null) {
            executor.shutdownNow();
            executor = null;
        }
        kafka.close();
        kafka = EventPublisher.NONE;
        if (service != null) {
            service.close();
            service = null;
        }
        if (db != null) {
            db.close();
            db = null;
        }
    }

    /** Same as {@link #stop()}. */
    @Override
    public void close() {
        stop();
    }

    /** The bound port. @throws IllegalStateException if not started */
    public int port() {
        requireStarted();
        return http.getAddress().getPort();
    }

    /** {@code http://<bind>:<port>}. */
    public URI uri() {
        requireStarted();
        return URI.create("http://" + config.get(RegistryConfig.BIND) + ":" + port());
    }

    /** The bearer token of the mutating endpoints (configured or generated into the data dir). */
    public String adminToken() {
        requireStarted();
        return adminToken;
    }

    /** The registry's Ed25519 log key (public half), which signs tree heads. */
    public SigningPublicKey logPublicKey() {
        requireStarted();
        return service.logKey().publicKey();
    }

    /** Internal state, for tests in this package that simulate a misbehaving registry. */
    RegistryService service() {
        requireStarted();
        return service;
    }

    private void requireStarted() {
        if (http == null) {
            throw new IllegalStateException("registry not started");
        }
    }

    private static String emptyToNull(String s) {
        return s == null || s.isEmpty() ? null : s;
    }

    private static String loadOrCreateToken(Path file) throws IOException {
        if (Files.exists(file)) {
            return Files.readString(file, StandardCharsets.UTF_8).trim();
        }
        byte[] raw = new byte[24];
        new SecureRandom().nextBytes(raw);
        String token = HexFormat.of().formatHex(raw);
        Files.writeString(file, token + "\n", StandardCharsets.UTF_8);
        try {
            Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException ignored) {
            // not a POSIX file system
        }
        LOG.info("generated the admin bearer token into {}", file);
        return token;
    }

    /** Builds a {@link RegistryServer}; every setter maps to a {@link RegistryConfig} key. */
    public static final class Builder {
        private RegistryConfig config;

        private Builder(RegistryConfig config) {
            this.config = config;
        }

        /** HTTP port (0 = any free port). */
        public Builder port(int port) {
            return set(RegistryConfig.PORT, Integer.toString(port));
        }

        /** Bind address. */
        public Builder bindAddress(String address) {
            return set(RegistryConfig.BIND, address);
        }

        /** Data directory. */
        public Builder dataDir(Path dir) {
            return set(RegistryConfig.DATA_DIR, dir.toString());
        }

        /** JDBC URL (default SQLite in the data dir). */
        public Builder jdbcUrl(String url) {
            return set(RegistryConfig.JDBC_URL, url);
        }

        /** JDBC user and password. */
        public Builder jdbcCredentials(String user, String password) {
            set(RegistryConfig.JDBC_USER, user);
            return set(RegistryConfig.JDBC_PASSWORD, password);
        }

        /** Bearer token of the mutating endpoints. */
        public Builder adminToken(String token) {
            return set(RegistryConfig.TOKEN, token);
        }

        /** Kafka bootstrap servers (empty disables Kafka). */
        public Builder kafkaBootstrapServers(String servers) {
            return set(RegistryConfig.KAFKA_BOOTSTRAP, servers);
        }

        /** Any config key. */
        public Builder set(String key, String value) {
            config = config.with(key, value);
            return this;
        }

        /** Several config keys. */
        public Builder setAll(Map<String, String> values) {
            values.forEach(this::set);
            return this;
        }

        /** The server (not yet started). */
        public RegistryServer build() {
            return new RegistryServer(config);
        }
    }
}
