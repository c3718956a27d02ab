package org.fedseal.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.List;
import org.fedseal.demo.DemoMain;
import org.fedseal.protocol.PrivacyAccountant;
import org.fedseal.registry.RegistryClient;
import org.fedseal.registry.RegistryException;
import org.fedseal.registry.RoundOptions;
import org.fedseal.registry.VersionInfo;
import org.fedseal.registry.cli.FedsealCli;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code fedseal demo --dp} on the real pipeline (Kafka, Flink, SEAL, DJL clients, one key-holder
 * process): 10 clients each add their share of the discrete Gaussian noise and send weight 1; every
 * version records the ε the accountant gives for its rounds; the model still learns; the round past
 * the budget is refused; and the audit re-derives every ε from the logged rounds.
 */
class DistributedDpIT {
    @Test
    void noisedRoundsLearnRecordEpsilonAndStopAtTheBudget() throws Exception {
        double z = 0.1;
        DemoMain.Result r = DemoMain.withOptions(10, 3, 3)
                .modelId("mnist-mlp-dp")
                .threshold(0)
                .dp(z)
                .run(SharedDeployment.get());
        List<Double> expected = List.of(1, 2, 3).stream()
                .map(k -> PrivacyAccountant.create()
                        .compose(1, z, k)
                        .epsilon(1e-5)
                        .epsilon())
                .toList();
        assertEquals(3, r.epsilonPerRound().size());
        for (int k = 0; k < 3; k++) {
            assertEquals(expected.get(k), r.epsilonPerRound().get(k), 1e-9, "epsilon after round " + (k + 1));
        }
        double last = r.accuracyPerRound().get(2);
        System.out.printf("--dp z=%s: accuracy %s, epsilon %s%n", z, r.accuracyPerRound(), r.epsilonPerRound());
        assertTrue(
                last > r.initialAccuracy() + 0.2,
                "noised FedAvg still learns: " + last + " vs round 0 " + r.initialAccuracy());

        RegistryClient registry = SharedDeployment.get().adminClient();
        VersionInfo latest = registry.versions("mnist-mlp-dp").get(3);
        assertEquals(expected.get(2), latest.epsilon(), 1e-9);
        // the demo's budget is exactly what its rounds spend: one more round is refused, naming model, epsilon and
        // budget
        RegistryException over = org.junit.jupiter.api.Assertions.assertThrows(
                RegistryException.class,
                () -> registry.openRound(
                        "mnist-mlp-dp",
                        10,
                        Duration.ofMinutes(1),
                        1,
                        6,
                        1.0,
                        10,
                        1,
                        RoundOptions.DEFAULT.withNoiseMultiplier(z)));
        assertEquals("privacy_budget_exceeded", over.code(), over.getMessage());
        assertTrue(over.getMessage().contains("mnist-mlp-dp"), over.getMessage());

        StringWriter out = new StringWriter();
        CommandLine cli = FedsealCli.newCommandLine();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(out));
        assertEquals(0, cli.execute("audit", "verify", "--registry", r.registryUri()), out.toString());
        assertTrue(out.toString().contains("re-derived from their logged rounds"), out.toString());
    }
}
