package org.fedseal.kafkalocal;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Command line: starts a {@link LocalKafkaBroker}, prints its bootstrap address and runs until Ctrl-C
 * (or until the broker dies).
 *
 * <pre>
 * KafkaLocalMain [--work-dir DIR] [--heap 512m] [--topic NAME[:PARTITIONS]]... [--property KEY=VALUE]...
 *                [--bootstrap-file FILE]
 * </pre>
 *
 * <p>Prints {@code bootstrap.servers=127.0.0.1:PORT} on stdout once the broker is ready (and writes the
 * bare address to {@code --bootstrap-file}, for scripts). Without {@code --work-dir} a temporary
 * directory is used and deleted on exit.
 */
public final class KafkaLocalMain {

    private KafkaLocalMain() {}

    /**
     * Runs the broker until the JVM is interrupted.
     *
     * @param args see the class description
     * @throws Exception on a usage error or if the broker cannot start
     */
    public static void main(String[] args) throws Exception {
        LocalKafkaBroker.Builder builder = LocalKafkaBroker.builder();
        Map<String, Integer> topics = new LinkedHashMap<>();
        Path bootstrapFile = null;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (arg.equals("-h") || arg.equals("--help")) {
                usage(0);
            }
            if (i + 1 >= args.length) {
                usage(2);
            }
            String value = args[++i];
            switch (arg) {
                case "--work-dir":
                    builder.workDir(Paths.get(value));
                    break;
                case "--heap":
                    builder.heap(value);
                    break;
                case "--topic": {
                    int colon = value.lastIndexOf(':');
                    if (colon < 0) {
                        topics.put(value, 1);
                    } else {
                        topics.put(value.substring(0, colon), Integer.parseInt(value.substring(colon + 1)));
                    }
                    break;
                }
                case "--property": {
                    int eq = value.indexOf('=');
                    if (eq <= 0) {
                        usage(2);
                    }
                    builder.brokerProperty(value.substring(0, eq), value.substring(eq + 1));
                    break;
                }
                case "--bootstrap-file":
                    bootstrapFile = Paths.get(value);
                    break;
                default:
                    usage(2);
            }
        }

        LocalKafkaBroker broker = builder.start();
        AtomicBoolean stopping = new AtomicBoolean();
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            stopping.set(true);
                            broker.close();
                        },
                        "kafka-local-main-stop"));
        if (!topics.isEmpty()) {
            broker.createTopics(topics);
        }
        if (bootstrapFile != null) {
            Files.writeString(
                    bootstrapFile, broker.bootstrapServers() + System.lineSeparator(), StandardCharsets.UTF_8);
        }
        System.out.println("bootstrap.servers=" + broker.bootstrapServers());
        System.out.println("# pid " + broker.pid() + ", log " + broker.logFile() + "; Ctrl-C stops the broker");
        System.out.flush();
        while (broker.isRunning() && !stopping.get()) {
            Thread.sleep(500);
        }
        if (!stopping.get()) {
            System.err.println("The Kafka broker exited unexpectedly. Last lines of " + broker.logFile() + ":");
            List<String> log = Files.readAllLines(broker.logFile(), StandardCharsets.UTF_8);
            log.subList(Math.max(0, log.size() - 40), log.size()).forEach(System.err::println);
            broker.close();
            System.exit(1);
        }
    }

    private static void usage(int exitCode) {
        (exitCode == 0 ? System.out : System.err)
                .println("usage: KafkaLocalMain [--work-dir DIR] [--heap 512m] "
                        + "[--topic NAME[:PARTITIONS]]... [--property KEY=VALUE]... [--bootstrap-file FILE]");
        System.exit(exitCode);
    }
}
