package org.fedseal.it;

import java.nio.file.Files;
import java.util.Map;
import org.fedseal.aggregator.AggregatorConfig;
import org.fedseal.demo.FederatedDeployment;

/**
 * One deployment (broker process, registry, Flink job) per test JVM, shared by every test class;
 * tests keep apart by using their own model ids. Stopped when the JVM exits.
 */
final class SharedDeployment {
    private static FederatedDeployment instance;

    private SharedDeployment() {}

    static synchronized FederatedDeployment get() throws Exception {
        if (instance == null) {
            instance = FederatedDeployment.start(
                    Files.createTempDirectory("fedseal-it"),
                    Map.of(
                            AggregatorConfig.CHECKPOINT_INTERVAL_MS, "1000",
                            AggregatorConfig.PENDING_GRACE_MS, "3000"),
                    0);
            FederatedDeployment d = instance;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    d.close();
                } catch (Exception e) {
                    System.err.println("closing the shared deployment: " + e);
                }
            }));
        }
        return instance;
    }
}
