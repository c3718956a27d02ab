package org.fedseal.kafkalocal;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LifecycleTest {

    @Test
    void closeStopsTheProcessAndIsIdempotent(@TempDir Path dir) throws Exception {
        LocalKafkaBroker broker = LocalKafkaBroker.builder()
                .workDir(dir)
                .brokerProperty("message.max.bytes", "2097152")
                .start();
        long pid = broker.pid();
        assertTrue(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false));
        assertTrue(broker.isRunning());
        assertTrue(Files.readString(dir.resolve("server.properties")).contains("message.max.bytes=2097152"));
        assertTrue(Files.size(broker.logFile()) > 0, "broker logs to its own file");

        broker.close();
        broker.close();

        assertFalse(broker.isRunning());
        assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "broker process is dead");
        String log = Files.readString(broker.logFile());
        assertTrue(
                log.contains("shut down completed"),
                () -> "clean shutdown on SIGTERM:\n" + log.substring(Math.max(0, log.length() - 3000)));
        assertThrows(IllegalStateException.class, () -> broker.createTopic("after-close", 1));
    }

    @Test
    void startupFailureReportsTheLogTail(@TempDir Path dir) {
        IllegalStateException e = assertThrows(
                IllegalStateException.class,
                () -> LocalKafkaBroker.builder()
                        .workDir(dir)
                        .brokerProperty("node.id", "not-a-number")
                        .start());
        assertTrue(e.getMessage().contains("not-a-number"), e.getMessage());
        assertTrue(e.getMessage().contains(dir.resolve("broker.log").toString()), e.getMessage());
    }

    /** The owner JVM dies without running shutdown hooks (kill -9): the broker's watchdog stops it. */
    @Test
    void brokerDiesWithItsOwnerJvm(@TempDir Path dir) throws Exception {
        String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
        Process owner = new ProcessBuilder(
                        java,
                        "-Xmx128m",
                        "-cp",
                        System.getProperty("java.class.path"),
                        "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                        KafkaLocalMain.class.getName(),
                        "--work-dir",
                        dir.toString(),
                        "--topic",
                        "demo:2")
                .redirectErrorStream(true)
                .start();
        Long brokerPid = null;
        String bootstrap = null;
        try (BufferedReader out =
                new BufferedReader(new InputStreamReader(owner.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = out.readLine()) != null) {
                if (line.startsWith("bootstrap.servers=")) {
                    bootstrap = line.substring("bootstrap.servers=".length());
                } else if (line.startsWith("# pid ")) {
                    brokerPid = Long.parseLong(line.substring(6, line.indexOf(',')));
                    break;
                }
            }
            assertNotNull(bootstrap, "main printed the bootstrap address");
            assertNotNull(brokerPid, "main printed the broker pid");
            Optional<ProcessHandle> broker = ProcessHandle.of(brokerPid);
            assertTrue(broker.isPresent() && broker.get().isAlive());

            owner.destroyForcibly(); // SIGKILL: no shutdown hooks
            owner.waitFor(10, TimeUnit.SECONDS);

            long deadline = System.nanoTime() + Duration.ofSeconds(40).toNanos();
            while (broker.get().isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertFalse(broker.get().isAlive(), "broker stopped after its owner was killed");
        } finally {
            owner.destroyForcibly();
            if (brokerPid != null) {
                ProcessHandle.of(brokerPid).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
    }

    @Test
    void brokerClasspathHasTheBrokerJarsButNotOurClients() {
        List<String> cp = LocalKafkaBroker.brokerClasspath();
        assertTrue(cp.stream().anyMatch(j -> j.endsWith(File.separator + "kafka_2.13-4.4.0.jar")), cp.toString());
        assertTrue(cp.stream().anyMatch(j -> j.endsWith(File.separator + "kafka-clients-4.4.0.jar")), cp.toString());
        assertFalse(cp.stream().anyMatch(j -> j.contains("kafka-clients-4.2")), cp.toString());
        assertFalse(cp.stream().anyMatch(j -> j.contains("junit")), cp.toString());
        assertThrows(
                ClassNotFoundException.class,
                () -> Class.forName("kafka.Kafka"),
                "broker jars are not on the test (user) classpath");
    }
}
