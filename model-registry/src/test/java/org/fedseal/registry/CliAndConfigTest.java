package org.fedseal.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.fedseal.he.HeParameters;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The coordinator commands of the CLI, configuration loading, and the optional PostgreSQL backend. */
class CliAndConfigTest {
    @TempDir
    Path dir;

    @Test
    void coordinatorCommands() throws Exception {
        try (RegistryServer s = Fixture.server(dir)) {
            Path pk = dir.resolve("pk.bin");
            Files.write(pk, Fixture.HE_KEYS.publicKey().toBytes());
            Fixture.Cli reg = Fixture.cli(
                    s,
                    "model",
                    "register",
                    "--id",
                    "clim",
                    "--architecture",
                    "linear 4",
                    "--zeros",
                    "4",
                    "--he-public-key",
                    pk.toString());
            assertEquals(0, reg.code(), reg.out());
            assertTrue(reg.out().contains("registered clim (4 parameters)"), reg.out());
            Fixture.Cli list = Fixture.cli(s, "model", "list");
            assertTrue(list.out().contains("clim") && list.out().contains(HeParameters.CKKS_8192.id()), list.out());
            Fixture.Cli open =
                    Fixture.cli(s, "round", "open", "--model", "clim", "--quorum", "2", "--deadline", "PT5M");
            assertEquals(0, open.code(), open.out());
            assertTrue(open.out().contains("opened round 1 of clim"), open.out());
            Fixture.Cli status = Fixture.cli(s, "round", "status", "--model", "clim");
            assertTrue(
                    status.out().contains("round clim/1: open") && status.out().contains("accepted 0 / quorum 2"),
                    status.out());
            Fixture.Cli watch =
                    Fixture.cli(s, "round", "watch", "--model", "clim", "--interval", "PT0.1S", "--timeout", "PT0.3S");
            assertEquals(1, watch.code(), watch.out());
            assertTrue(watch.out().contains("[" + ".".repeat(30) + "] 0/2 accepted"), watch.out());
            Fixture.Cli bad = Fixture.cli(s, "round", "status", "--model", "nope");
            assertEquals(1, bad.code());
            assertTrue(bad.out().contains("404"), bad.out());
            Fixture.Cli help = Fixture.cli(s, "registry", "serve", "--help");
            assertEquals(0, help.code());
            assertTrue(help.out().contains("FEDSEAL_REGISTRY_PORT"), help.out());
        }
    }

    @Test
    void configFromYamlAndEnvironment() throws Exception {
        Path yaml = dir.resolve("registry.yaml");
        Files.writeString(
                yaml,
                "fedseal:\n  registry:\n    port: 9999\n    kafka:\n      bootstrap-servers: \"k:9092\"  # comment\n"
                        + "    archive:\n      retention-rounds: 3\n");
        RegistryConfig c =
                RegistryConfig.load(yaml, Map.of("FEDSEAL_REGISTRY_PORT", "7777", "FEDSEAL_REGISTRY_TOKEN", "s3cret"));
        assertEquals(7777, c.getInt(RegistryConfig.PORT));
        assertEquals("k:9092", c.get(RegistryConfig.KAFKA_BOOTSTRAP));
        assertEquals(3, c.getInt(RegistryConfig.ARCHIVE_RETENTION_ROUNDS));
        assertEquals("s3cret", c.get(RegistryConfig.TOKEN));
        assertTrue(c.getBoolean(RegistryConfig.ARCHIVE_UPDATES));
        assertTrue(!c.toString().contains("s3cret"));
        Path props = dir.resolve("registry.properties");
        Files.writeString(props, "fedseal.registry.bind=0.0.0.0\n");
        assertEquals("0.0.0.0", RegistryConfig.load(props, Map.of()).get(RegistryConfig.BIND));
    }

    @Test
    void postgresqlWithTheSameMigrations() {
        String url = System.getenv("FEDSEAL_TEST_POSTGRES_URL");
        assumeTrue(
                url != null && !url.isBlank(),
                "no PostgreSQL available: set FEDSEAL_TEST_POSTGRES_URL (and FEDSEAL_TEST_POSTGRES_USER/PASSWORD) to run this test");
        try (RegistryServer s = RegistryServer.builder()
                .dataDir(dir)
                .port(0)
                .adminToken("t")
                .jdbcUrl(url)
                .jdbcCredentials(
                        System.getenv().getOrDefault("FEDSEAL_TEST_POSTGRES_USER", ""),
                        System.getenv().getOrDefault("FEDSEAL_TEST_POSTGRES_PASSWORD", ""))
                .build()
                .start()) {
            RegistryClient c = Fixture.client(s);
            String m = "pgm" + System.nanoTime() % 1_000_000;
            Fixture.fullRound(s, c, m, Fixture.setUpModel(c, m), 0.5);
            org.junit.jupiter.api.Assertions.assertEquals(
                    0, Fixture.cli(s, "audit", "verify").code());
        }
    }
}
