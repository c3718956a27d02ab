package org.fedseal.demo;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.fedseal.client.DjlTrainer;
import org.fedseal.client.LocalDataset;
import org.fedseal.client.Mnist2500;
import org.fedseal.client.Partitioners;
import org.fedseal.coordinator.Simulation;
import org.fedseal.protocol.Strategy;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code fedseal bench strategies}: the demo's MLP on its MNIST digits (2,000 training rows split
 * across the clients by label with Dirichlet α, 500 held out), the same split, seed, initial
 * weights and client SGD for every server strategy, through {@link Simulation} (real DJL training,
 * real SEAL encryption and homomorphic sums, the key holder's decryption and the strategy's step);
 * prints the held-out accuracy after every round, one column per strategy.
 */
@Command(
        name = "fedseal bench strategies",
        mixinStandardHelpOptions = true,
        description =
                "Accuracy per round of server strategies (FedAvg, FedAvgM, FedAdam, FedYogi, FedProx, ...) on the demo's "
                        + "non-IID MNIST split, side by side.")
public final class StrategyBench implements Callable<Integer> {
    /**
     * The strategies compared by default, tuned on this task (seed 7, 20 rounds) over FedAvgM
     * (eta, beta) in {(1, 0.5), (1, 0.7), (0.5, 0.9)}, FedAdam and FedYogi eta in {0.003, 0.01, 0.03}
     * and FedProx mu in {0.01, 0.1}; the others keep the papers' values (beta1 0.9, beta2 0.99, tau
     * 0.001). Client SGD is the demo's for all (eta_l = 0: the trainer's own rate,
     * {@link DemoMain#LEARNING_RATE}), so only the server step differs.
     */
    static final String DEFAULT_STRATEGIES =
            "FedAvg;FedAvgM:eta=1,beta=0.5;FedAdam:eta=0.03,eta_l=0;FedYogi:eta=0.01,eta_l=0;" + "FedProx:mu=0.1";

    @Option(names = "--rounds", defaultValue = "20", description = "Rounds per strategy (default ${DEFAULT-VALUE}).")
    int rounds;

    @Option(names = "--clients", defaultValue = "10", description = "Clients (default ${DEFAULT-VALUE}).")
    int clients;

    @Option(
            names = "--seed",
            defaultValue = "7",
            description = "Seed of the split and of the initial weights (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(
            names = "--alpha",
            defaultValue = "0.1",
            description = "Dirichlet α of the label-skewed split (default ${DEFAULT-VALUE}).")
    double alpha;

    @Option(
            names = "--local-epochs",
            defaultValue = "3",
            description = "Local epochs per round, as the demo (default ${DEFAULT-VALUE}).")
    int localEpochs;

    @Option(
            names = "--strategies",
            split = ";",
            paramLabel = "Name[:k=v,...]",
            description = "Strategies to compare, ';'-separated, e.g. 'FedAvg;FedAdam:eta=0.01,tau=0.001' (default "
                    + DEFAULT_STRATEGIES + ").")
    List<String> strategies;

    @Option(
            names = "--json",
            description = "Print the figures as one JSON object (the last line of stdout) after the table.")
    boolean json;

    public static void main(String[] args) {
        System.exit(new CommandLine(new StrategyBench()).execute(args));
    }

    /** One strategy's run: its spec text and the held-out accuracy after each round. */
    record Run(String label, Strategy strategy, double initialAccuracy, List<Double> accuracy, double seconds) {}

    @Override
    public Integer call() throws Exception {
        if (rounds < 1 || clients < 1) {
            System.err.println(
                    "fedseal bench strategies: --rounds and --clients must be >= 1, got " + rounds + " and " + clients);
            return 2;
        }
        List<Strategy> chosen = new ArrayList<>();
        for (String s : strategies == null ? List.of(DEFAULT_STRATEGIES.split(";")) : strategies) {
            try {
                chosen.add(Strategy.parse(s));
            } catch (IllegalArgumentException e) {
                System.err.println("fedseal bench strategies: " + e.getMessage());
                return 2;
            }
        }
        LocalDataset all = Mnist2500.load();
        LocalDataset train = all.range(0, DemoMain.TRAIN_SIZE);
        LocalDataset test = all.range(DemoMain.TRAIN_SIZE, 2500);
        List<Run> runs = new ArrayList<>();
        try (DjlTrainer evaluator = DemoMain.MnistModel.MLP.trainer(test, 128)) {
            float[] initial = evaluator.initialParameters(seed);
            double initialAccuracy = evaluator.accuracy(initial, test);
            for (Strategy strategy : chosen) {
                String label = label(strategy);
                System.err.printf(
                        "[bench] %s: %d clients, Dirichlet α=%s, seed %d, %d rounds%n",
                        label, clients, alpha, seed, rounds);
                List<Double> acc = new ArrayList<>();
                long t0 = System.nanoTime();
                try (Simulation sim = Simulation.builder()
                        .trainSet(train)
                        .clients(clients)
                        .partitioner(Partitioners.dirichlet(alpha, seed))
                        .trainerFactory(part -> DemoMain.MnistModel.MLP.trainer(part, 128))
                        .evaluator(p -> evaluator.accuracy(p, test))
                        .strategy(strategy)
                        .localEpochs(localEpochs)
                        .modelId("bench-" + strategy.name().toLowerCase(Locale.ROOT))
                        .onRound(r -> System.err.printf(
                                "[bench]   %s round %d/%d: accuracy %.2f%% (%.1f s)%n",
                                strategy.name(), r.round(), rounds, 100 * r.metric(), r.seconds()))
                        .build()) {
                    sim.run(initial, rounds).forEach(r -> acc.add(r.metric()));
                }
                runs.add(new Run(label, strategy, initialAccuracy, acc, (System.nanoTime() - t0) / 1e9));
            }
        }
        print(runs);
        return 0;
    }

    private static String label(Strategy s) {
        StringBuilder b = new StringBuilder(s.name());
        s.hyperparameters()
                .forEach((k, v) -> b.append(b.length() == s.name().length() ? " " : ",")
                        .append(k)
                        .append('=')
                        .append(String.format(Locale.ROOT, "%s", v)));
        return b.toString();
    }

    private void print(List<Run> runs) throws Exception {
        System.out.println();
        System.out.printf(
                "non-IID MNIST (Dirichlet α=%s, %d clients, seed %d), MLP 784-128-10, %d local epoch(s) of SGD lr %s, batch %d;"
                        + " held-out accuracy after each round%n",
                alpha, clients, seed, localEpochs, DemoMain.LEARNING_RATE, DemoMain.BATCH_SIZE);
        StringBuilder head = new StringBuilder(String.format("%-6s", "round"));
        for (Run r : runs) {
            head.append(String.format(" %10s", r.strategy().name()));
        }
        System.out.println(head);
        System.out.println(row("0", runs, -1));
        for (int i = 0; i < rounds; i++) {
            System.out.println(row(Integer.toString(i + 1), runs, i));
        }
        Run fedAvg = runs.stream()
                .filter(r -> r.strategy().name().equals("FedAvg"))
                .findFirst()
                .orElse(null);
        for (Run r : runs) {
            double last = r.accuracy().get(r.accuracy().size() - 1);
            String vs = fedAvg == null || r == fedAvg
                    ? ""
                    : String.format(
                            Locale.ROOT,
                            " (%+.2f points vs FedAvg)",
                            100
                                    * (last
                                            - fedAvg.accuracy()
                                                    .get(fedAvg.accuracy().size() - 1)));
            System.out.printf(
                    Locale.ROOT,
                    "%-10s final %.2f%%%s in %.0f s  [%s]%n",
                    r.strategy().name(),
                    100 * last,
                    vs,
                    r.seconds(),
                    r.label());
        }
        if (json) {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("alpha", alpha);
            out.put("clients", clients);
            out.put("seed", seed);
            out.put("rounds", rounds);
            out.put("localEpochs", localEpochs);
            List<Map<String, Object>> list = new ArrayList<>();
            for (Run r : runs) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("strategy", r.strategy().name());
                m.put("hyperparameters", r.strategy().hyperparameters());
                m.put("initialAccuracy", round4(r.initialAccuracy()));
                m.put(
                        "accuracy",
                        r.accuracy().stream().map(StrategyBench::round4).toList());
                m.put("seconds", r.seconds());
                list.add(m);
            }
            out.put("strategies", list);
            System.out.println(new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(out));
        }
    }

    /** Accuracies are counts of 500 held-out digits: four decimals are exact. */
    private static double round4(double a) {
        return Math.round(a * 1e4) / 1e4;
    }

    private static String row(String label, List<Run> runs, int i) {
        StringBuilder b = new StringBuilder(String.format("%-6s", label));
        for (Run r : runs) {
            double a = i < 0 ? r.initialAccuracy() : r.accuracy().get(i);
            b.append(String.format(Locale.ROOT, " %9.2f%%", 100 * a));
        }
        return b.toString();
    }
}
