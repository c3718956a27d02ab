package org.fedseal.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.fedseal.demo.FederatedDeployment;
import org.fedseal.protocol.WireCodec;
import org.fedseal.protocol.wire.AggregatePublished;
import org.fedseal.protocol.wire.LogEntry;
import org.fedseal.protocol.wire.LogEntryKind;
import org.fedseal.protocol.wire.RoundOpened;
import org.fedseal.registry.RegistryServer;
import org.fedseal.registry.cli.FedsealCli;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Two rounds through the whole pipeline with versions published by the key holder; then
 * {@code fedseal audit verify} passes, {@code audit recompute} re-sums the archived updates bit
 * for bit, and on a copy of the registry whose log has one altered entry, verify fails and names it.
 */
class ProvenanceIT {
    record Cli(int code, String out) {}

    static Cli fedseal(String... args) {
        StringWriter out = new StringWriter();
        CommandLine cli = FedsealCli.newCommandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(out, true));
        int code = cli.execute(args);
        return new Cli(code, out.toString());
    }

    @Test
    void auditPassesThenCatchesATamperedEntry() throws Exception {
        FederatedDeployment d = SharedDeployment.get();
        try (Scenario s = new Scenario(d, "it-provenance", new float[FaultsIT.PARAMS])) {
            for (String id : List.of("p-1", "p-2")) {
                s.client(id, new FixedDeltaTrainer(Updates.delta(FaultsIT.PARAMS, 0.01, id.hashCode()), 50));
            }
            for (int r = 0; r < 2; r++) {
                RoundOpened round = s.open(2, Duration.ofMinutes(2));
                for (var c : s.clients) {
                    c.participate(round);
                }
                AggregatePublished agg = s.aggregate(round.getRound(), Duration.ofMinutes(2));
                s.publishVersion(agg);
                FaultsIT.waitForClosed(s, round.getRound());
            }
            String uri = d.registry().uri().toString();
            Cli verify = fedseal("audit", "verify", "--registry", uri);
            assertEquals(0, verify.code(), verify.out());
            assertTrue(verify.out().contains("PASS"), verify.out());
            Cli recompute = fedseal("audit", "recompute", "--registry", uri, "--model", s.modelId, "--round", "2");
            assertEquals(0, recompute.code(), recompute.out());

            // A copy of the registry's data, taken while it is stopped; the live one carries on.
            Path copy = Files.createTempDirectory("fedseal-tampered");
            d.stopRegistry();
            try {
                copyTree(d.workDir().resolve("registry"), copy);
            } finally {
                d.startRegistry();
            }
            long tampered = tamperFirstAcceptedUpdate(copy.resolve("registry.db"), s.modelId);
            try (RegistryServer forged = RegistryServer.builder()
                    .dataDir(copy)
                    .port(0)
                    .kafkaBootstrapServers("")
                    .build()
                    .start()) {
                Cli bad = fedseal("audit", "verify", "--registry", forged.uri().toString());
                assertEquals(1, bad.code(), bad.out());
                assertTrue(bad.out().contains("FAIL") && bad.out().contains("entry " + tampered), bad.out());
            }
        }
    }

    /** Rewrites the log entry of an accepted update to name another client; returns its index. */
    static long tamperFirstAcceptedUpdate(Path db, String modelId) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db)) {
            long idx;
            String entry;
            try (PreparedStatement q = c.prepareStatement(
                    "SELECT idx, entry FROM log_entries WHERE model_id = ? AND kind = 'UPDATE_ACCEPTED' ORDER BY idx LIMIT 1")) {
                q.setString(1, modelId);
                try (ResultSet rs = q.executeQuery()) {
                    assertTrue(rs.next(), "an accepted update is logged");
                    idx = rs.getLong(1);
                    entry = rs.getString(2);
                }
            }
            LogEntry e = WireCodec.UNBOUNDED.decode(Base64.getDecoder().decode(entry), LogEntry.class);
            assertEquals(LogEntryKind.UPDATE_ACCEPTED, e.getKind());
            e.setClientId("mallory");
            try (PreparedStatement u = c.prepareStatement("UPDATE log_entries SET entry = ? WHERE idx = ?")) {
                u.setString(1, Base64.getEncoder().encodeToString(WireCodec.UNBOUNDED.encode(e)));
                u.setLong(2, idx);
                assertEquals(1, u.executeUpdate());
            }
            return idx;
        }
    }

    static void copyTree(Path from, Path to) throws Exception {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path p : files.sorted(Comparator.naturalOrder()).toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }
}
