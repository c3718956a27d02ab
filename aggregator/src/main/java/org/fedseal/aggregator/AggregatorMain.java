package org.fedseal.aggregator;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The job jar's entry point ({@code flink run <jar> ...}, or {@code --local} for an in-process
 * MiniCluster): configuration from defaults, environment, file and options, then {@link AggregatorJob}.
 */
@Command(
        name = "fedseal-aggregator",
        mixinStandardHelpOptions = true,
        version = "FedSeal aggregator 0.1.0",
        description = {
            "Sums encrypted (CKKS) FedSeal client updates per round from Kafka and publishes the aggregate exactly once.",
            "Configuration, lowest precedence first: defaults, environment variables FEDSEAL_AGG_<KEY> "
                    + "(e.g. FEDSEAL_AGG_BOOTSTRAP_SERVERS), the --config file, --set and the named options.",
            "Run it with 'flink run <jar> ...' on a cluster, or with --local in an in-process MiniCluster."
        },
        footer = {"", "Config keys: %n  %s"})
public final class AggregatorMain implements Callable<Integer> {
    @Option(names = "--bootstrap-servers", description = "Kafka bootstrap servers (key bootstrap.servers).")
    String bootstrapServers;

    @Option(
            names = {"-c", "--config"},
            description = "Properties file with config keys.")
    Path configFile;

    @Option(
            names = "--signing-key-file",
            description = "Aggregator Ed25519 PKCS#8 key (DER or base64) (key aggregator.signing.key.file).")
    Path signingKeyFile;

    @Option(names = "--set", description = "Any config key, e.g. --set topic.updates=my.updates (repeatable).")
    Map<String, String> overrides;

    @Option(
            names = "--local",
            description = "Run in an in-process Flink MiniCluster instead of the ambient environment.")
    boolean local;

    @Option(names = "--checkpoint-dir", description = "Checkpoint directory for --local (default: a temp directory).")
    Path checkpointDir;

    @Option(
            names = "--print-config",
            description = "Print the effective configuration (signing key redacted) and exit.")
    boolean printConfig;

    /** Command line entry point: {@code --help} lists the options. */
    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command; returns the exit code. */
    public static int run(String[] args) {
        CommandLine cl = new CommandLine(new AggregatorMain());
        String keys = String.join("%n  ", AggregatorConfig.keys());
        cl.getCommandSpec().usageMessage().footer("", "Config keys:", "  " + keys.replace("%n", "\n"));
        return cl.execute(args);
    }

    @Override
    public Integer call() throws Exception {
        Properties p = AggregatorConfig.fromEnvironment(System.getenv());
        if (configFile != null) {
            p.putAll(AggregatorConfig.loadProperties(configFile));
        }
        if (overrides != null) {
            p.putAll(overrides);
        }
        if (bootstrapServers != null) {
            p.setProperty(AggregatorConfig.BOOTSTRAP_SERVERS, bootstrapServers);
        }
        if (signingKeyFile != null) {
            p.setProperty(AggregatorConfig.SIGNING_KEY_FILE, signingKeyFile.toString());
        }
        AggregatorConfig config;
        try {
            config = AggregatorConfig.fromProperties(p);
        } catch (IllegalArgumentException e) {
            System.err.println("fedseal-aggregator: bad configuration: " + e.getMessage());
            return 2;
        }
        if (printConfig) {
            System.out.println(config);
            return 0;
        }
        if (local) {
            Path dir = checkpointDir != null ? checkpointDir : Files.createTempDirectory("fedseal-aggregator-ckpt");
            try (LocalAggregator job = AggregatorJob.runLocal(config, dir)) {
                System.out.println(
                        "fedseal-aggregator running locally, job " + job.jobId() + ", checkpoints in " + dir);
                job.awaitTermination();
            }
            return 0;
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        AggregatorJob.build(env, config);
        env.execute(AggregatorJob.JOB_NAME);
        return 0;
    }
}
