package org.fedseal.it;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.ObjectOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.stream.Stream;
import org.fedseal.demo.FederatedDeployment;
import org.fedseal.he.SecretKeyAccess;
import org.fedseal.protocol.wire.RoundOpened;
import org.junit.jupiter.api.Test;

/**
 * No secret key reaches the aggregator or the registry: after a round, the aggregator's
 * configuration (as given, and Java-serialized as Flink ships it), its checkpoints, and every
 * file the registry wrote are searched for the HE secret key's bytes.
 */
class PrivacyIT {
    @Test
    void aggregatorAndRegistryNeverHoldTheSecretKey() throws Exception {
        FederatedDeployment d = SharedDeployment.get();
        try (Scenario s = new Scenario(d, "it-privacy", new float[FaultsIT.PARAMS])) {
            s.client("private-1", new FixedDeltaTrainer(Updates.delta(FaultsIT.PARAMS, 0.01, 77), 10));
            RoundOpened round = s.open(1, Duration.ofMinutes(2));
            s.clients.get(0).participate(round);
            s.aggregate(round.getRound(), Duration.ofMinutes(2));
            FaultsIT.waitForClosed(s, round.getRound());
            Thread.sleep(2500); // let a checkpoint land after the round

            byte[] secret = s.keys.secretKey().toBytes(SecretKeyAccess.insecureSecretKeyAccess());
            // A window from the middle of the key's coefficients: unique to it with overwhelming probability.
            byte[] needle = Arrays.copyOfRange(secret, secret.length / 2, secret.length / 2 + 64);
            byte[] needleB64 =
                    Base64.getEncoder().encodeToString(needle).substring(4, 60).getBytes(StandardCharsets.US_ASCII);

            String config = d.aggregatorConfig().toString();
            ByteArrayOutputStream serialized = new ByteArrayOutputStream();
            try (ObjectOutputStream out = new ObjectOutputStream(serialized)) {
                out.writeObject(d.aggregatorConfig());
            }
            assertFalse(contains(config.getBytes(StandardCharsets.UTF_8), needleB64), "aggregator config");
            assertFalse(contains(serialized.toByteArray(), needle), "serialized aggregator config");

            int scanned = 0;
            for (Path dir :
                    List.of(d.workDir().resolve("checkpoints"), d.workDir().resolve("registry"))) {
                try (Stream<Path> files = Files.walk(dir)) {
                    for (Path f : files.filter(Files::isRegularFile).toList()) {
                        byte[] bytes = Files.readAllBytes(f);
                        scanned++;
                        assertFalse(
                                contains(bytes, needle) || contains(bytes, needleB64),
                                "secret key bytes found in " + f);
                    }
                }
            }
            assertTrue(scanned > 3, "scanned the checkpoint and registry files: " + scanned);
        }
    }

    static boolean contains(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }
}
