package org.fedseal.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.util.List;
import org.fedseal.demo.DemoMain;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.Strategy;
import org.fedseal.protocol.wire.ModelVersionPublished;
import org.fedseal.registry.RegistryClient;
import org.fedseal.registry.VersionInfo;
import org.fedseal.registry.cli.FedsealCli;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Issue 18 on the real pipeline (Kafka, the Flink job, the registry, key-holder processes, DJL
 * clients, SEAL), on the shared deployment, 2 rounds each to keep CI short: a threshold model whose
 * combiner steps with FedAdam, and a single-key model whose key-holder process steps with FedYogi.
 * Every version records its strategy and optimizer state hash, the registry serves the state, and
 * {@code audit verify} passes, re-deriving the threshold versions bit for bit from their decryption
 * shares, the parent's weights and the parent's state.
 */
class StrategyIT {
    @Test
    void serverStrategiesRunOnThePipelineAndTheAuditReDerivesThem() throws Exception {
        String adam = "FedAdam:eta=0.01,eta_l=0";
        DemoMain.Result threshold = DemoMain.withOptions(4, 2, 1)
                .modelId("it-strategy-fedadam")
                .threshold(3)
                .strategy(adam)
                .run(SharedDeployment.get());
        String yogi = "FedYogi:eta=0.01,eta_l=0";
        DemoMain.Result single = DemoMain.withOptions(4, 2, 1)
                .modelId("it-strategy-fedyogi")
                .threshold(0)
                .strategy(yogi)
                .run(SharedDeployment.get());
        assertEquals(2, threshold.accuracyPerRound().size());
        assertEquals(2, single.accuracyPerRound().size());

        RegistryClient registry = RegistryClient.create(URI.create(threshold.registryUri()));
        for (var model : List.of(List.of("it-strategy-fedadam", adam), List.of("it-strategy-fedyogi", yogi))) {
            List<VersionInfo> versions = registry.versions(model.get(0));
            assertEquals(3, versions.size(), "initial version and two rounds of " + model.get(0));
            for (VersionInfo v : versions.subList(1, 3)) {
                ModelVersionPublished rec = registry.versionRecord(Hash.fromHex(v.versionHash()));
                assertEquals(Strategy.parse(model.get(1)).toSpec(), rec.getStrategy(), v.versionHash());
                assertTrue(registry.optimizerState(rec).matches(rec.getOptimizerStateHash()), v.versionHash());
                assertEquals(
                        Strategy.parse(model.get(1)).name(),
                        registry.optimizerState(rec).strategy());
            }
        }

        StringWriter out = new StringWriter();
        CommandLine cli = FedsealCli.newCommandLine();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(out));
        int code = cli.execute("audit", "verify", "--registry", threshold.registryUri());
        assertEquals(0, code, out.toString());
        assertTrue(out.toString().contains("PASS"), out.toString());
        assertTrue(
                out.toString()
                        .contains(
                                "threshold versions re-decrypted from their shares (weights and strategy state match)"),
                out.toString());
    }
}
