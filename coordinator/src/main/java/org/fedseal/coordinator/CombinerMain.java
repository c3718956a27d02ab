package org.fedseal.coordinator;

import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.Topics;
import org.fedseal.protocol.wire.RoundOpened;
import org.fedseal.registry.RegistryClient;
import org.fedseal.registry.VersionInfo;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The combiner of a threshold model as its own process (the version publisher): waits for the
 * model's key ceremony, follows it to completion, then for every round the coordinator opens
 * combines the key holders' decryption shares of the aggregate and publishes the next version.
 * Holds no secret. Prints {@code COMBINER READY} once the ceremony is complete and one
 * {@code COMBINER PUBLISHED} line per round.
 */
@Command(
        name = "fedseal-combiner",
        mixinStandardHelpOptions = true,
        description = "Combines the threshold key holders' decryption shares of a FedSeal model's aggregates "
                + "and publishes its new versions.")
public final class CombinerMain implements Callable<Integer> {
    @Option(names = "--registry", required = true, description = "Registry base URL.")
    URI registryUri;

    @Option(names = "--bootstrap-servers", required = true, description = "Kafka bootstrap servers.")
    String bootstrapServers;

    @Option(names = "--model", required = true, description = "Model id (registered with publisher <model>-combiner).")
    String modelId;

    @Option(
            names = "--ceremony",
            description = "The key ceremony to follow (default: the one the coordinator opens for the model).")
    String ceremonyId;

    @Option(
            names = "--timeout",
            defaultValue = "PT5M",
            description =
                    "How long to wait for the ceremony, and for each round's aggregate and shares (default ${DEFAULT-VALUE}).")
    Duration timeout;

    @Option(
            names = "--evaluator",
            description = "Score every new version with the named ModelEvaluator (ServiceLoader).")
    String evaluatorName;

    @Option(
            names = "--evaluator-option",
            paramLabel = "KEY=VALUE",
            description = "An option of the --evaluator (repeatable).")
    Map<String, String> evaluatorOptions;

    @Option(
            names = "--strategy",
            defaultValue = "FedAvg",
            paramLabel = "Name[:key=value,...]",
            description =
                    "The server strategy that turns each decrypted mean update into the next version: FedAvg, FedAvgM, "
                            + "FedAdagrad, FedAdam, FedYogi or FedProx, with hyperparameters, e.g. FedAdam:eta=0.01 (default ${DEFAULT-VALUE}).")
    String strategy;

    /** Runs the combiner; the registry token comes from {@value KeyHolderMain#TOKEN_ENV}. */
    public static void main(String[] args) {
        System.exit(new CommandLine(new CombinerMain()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        RegistryClient registry = RegistryClient.create(registryUri, System.getenv(KeyHolderMain.TOKEN_ENV));
        ModelEvaluator evaluator = evaluatorName == null
                ? null
                : ModelEvaluator.load(evaluatorName, evaluatorOptions == null ? Map.of() : evaluatorOptions);
        String ceremony = ceremonyId != null ? ceremonyId : awaitCeremony(registry);
        try (Combiner combiner = new Combiner(
                        bootstrapServers,
                        registry,
                        modelId,
                        ceremony,
                        timeout,
                        evaluator == null ? null : evaluator::evaluate,
                        org.fedseal.protocol.Strategy.parse(strategy));
                TopicFeed<RoundOpened> rounds = new TopicFeed<>(bootstrapServers, Topics.ROUNDS, RoundOpened.class)) {
            System.out.println("COMBINER READY model=" + modelId + " ceremony=" + ceremony);
            System.out.flush();
            while (!Thread.currentThread().isInterrupted()) {
                for (RoundOpened round : rounds.poll(Duration.ofMillis(500))) {
                    if (!round.getModelId().equals(modelId) || published(registry, round)) {
                        continue;
                    }
                    try {
                        if (org.fedseal.protocol.FederatedEvaluation.isEvaluation(round)) {
                            var e = combiner.combineEvaluation(round, timeout);
                            System.out.println("COMBINER EVALUATED round=" + round.getRound() + " version="
                                    + e.versionHash() + " accuracy="
                                    + (e.accuracy() == null ? "-" : String.format("%.6f", e.accuracy())) + " loss="
                                    + String.format("%.6f", e.loss())
                                    + " examples=" + e.examples() + " participants="
                                    + e.participants().size());
                            System.out.flush();
                            continue;
                        }
                        VersionInfo v = combiner.combineAndPublish(round, timeout);
                        System.out.println(
                                "COMBINER PUBLISHED round=" + round.getRound() + " version=" + v.versionHash());
                    } catch (Exception e) {
                        System.out.println("[combiner] round " + round.getRound() + " not published: " + e);
                    }
                    System.out.flush();
                }
            }
        }
        return 0;
    }

    /** Whether a restart re-reads a round whose version is already published. */
    private static boolean published(RegistryClient registry, RoundOpened round) {
        String base = Hash.of(round.getBaseModelHash()).toHex();
        return registry.versions(round.getModelId()).stream()
                .anyMatch(v -> v.round() == round.getRound() && base.equals(v.parentHash()));
    }

    private String awaitCeremony(RegistryClient registry) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < end) {
            String id = registry.model(modelId).ceremonyId();
            if (id != null) {
                return id;
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("no key ceremony was opened for " + modelId + " within " + timeout);
    }
}
