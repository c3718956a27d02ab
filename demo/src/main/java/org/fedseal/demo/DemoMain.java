package org.fedseal.demo;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.fedseal.client.ClientConfig;
import org.fedseal.client.DjlTrainer;
import org.fedseal.client.FederatedClient;
import org.fedseal.client.LocalDataset;
import org.fedseal.client.Mnist2500;
import org.fedseal.client.Partitioners;
import org.fedseal.client.SubmissionException;
import org.fedseal.coordinator.Combiner;
import org.fedseal.coordinator.KeyHolderMain;
import org.fedseal.coordinator.RegistryModelSource;
import org.fedseal.coordinator.TopicFeed;
import org.fedseal.he.HeParameters;
import org.fedseal.protocol.ModelWeights;
import org.fedseal.protocol.RoundBounds;
import org.fedseal.protocol.SigningKeyPair;
import org.fedseal.protocol.Topics;
import org.fedseal.protocol.wire.RoundOpened;
import org.fedseal.registry.CeremonyInfo;
import org.fedseal.registry.RegistryClient;
import org.fedseal.registry.RoundInfo;
import org.fedseal.registry.VersionInfo;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code fedseal demo}: a real federated training on one machine. A Kafka broker process, the
 * registry, the Flink aggregation job, a key holder process and simulated clients that train a
 * model with DJL on non-IID partitions of real MNIST digits, encrypt their updates with SEAL and
 * send them over Kafka. Prints progress per round; Ctrl-C stops everything.
 *
 * <p>{@code --model} picks the model: the MLP (default) or LeNet-5, a small CNN; {@code --model
 * mlp,lenet} trains one after the other on the same deployment, with the same split, rounds, local
 * epochs and optimizer, and prints their accuracies side by side.
 */
@Command(
        name = "fedseal demo",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description =
                "Runs a real federated training on this machine (Kafka, Flink, registry, key holder, DJL clients).")
public final class DemoMain implements Callable<Integer> {
    static final String MODEL_ID = "mnist-mlp";

    /** The models the demo trains on MNIST; every one with the same SGD settings, split and rounds. */
    public enum MnistModel {
        /** 784-hidden-10 MLP, ReLU (hidden width {@code --hidden}). */
        MLP,
        /** LeNet-5 on 1x28x28 images ({@link DjlTrainer#leNet5}). */
        LENET;

        /** The block factory. */
        public java.util.function.Supplier<ai.djl.nn.Block> block(int hidden) {
            return this == MLP ? DjlTrainer.mlp(784, 10, hidden) : DjlTrainer.leNet5(10);
        }

        /** How one flat 784-pixel MNIST row is shaped for the block. */
        public long[] featureShape() {
            return this == MLP ? new long[] {784} : new long[] {1, 28, 28};
        }

        /** The architecture text registered with the model. */
        public String architecture(int hidden) {
            return this == MLP
                    ? "MLP 784-" + hidden + "-10, ReLU, softmax cross-entropy"
                    : "LeNet-5 CNN 1x28x28: conv5x5x6 (pad 2), ReLU, maxpool2, conv5x5x16, ReLU, maxpool2, 120, 84, 10, ReLU, softmax cross-entropy";
        }

        /** The model id the demo registers it under unless told otherwise. */
        public String defaultModelId() {
            return this == MLP ? MODEL_ID : "mnist-lenet";
        }

        /** A trainer of this model on {@code data} with the demo's SGD settings. */
        public DjlTrainer trainer(LocalDataset data, int hidden) {
            return DjlTrainer.builder()
                    .block(block(hidden))
                    .featureShape(featureShape())
                    .dataset(data)
                    .learningRate(LEARNING_RATE)
                    .batchSize(BATCH_SIZE)
                    .build();
        }

        /** Parses {@code mlp} or {@code lenet}, in any case. */
        public static MnistModel parse(String name) {
            for (MnistModel m : values()) {
                if (m.name().equalsIgnoreCase(name.trim())) {
                    return m;
                }
            }
            throw new IllegalArgumentException("unknown model '" + name + "' (known: mlp, lenet)");
        }
    }

    /** Every model's local optimizer: plain SGD at this rate, mini-batches of {@link #BATCH_SIZE}. */
    static final float LEARNING_RATE = 0.1f;

    static final int BATCH_SIZE = 32;
    /** Threshold mode with three key holders unless told otherwise. */
    static final int DEFAULT_KEY_HOLDERS = 3;

    /** Options for programmatic runs (tests); the command line sets the same fields. */
    public static DemoMain withOptions(int clients, int rounds, int localEpochs) {
        DemoMain d = new DemoMain();
        d.clients = clients;
        d.rounds = rounds;
        d.localEpochs = localEpochs;
        d.alpha = 0.5;
        d.hidden = 128;
        d.roundTimeout = Duration.ofMinutes(3);
        d.threshold = DEFAULT_KEY_HOLDERS;
        return d;
    }

    @Option(names = "--clients", defaultValue = "10", description = "Simulated clients (default ${DEFAULT-VALUE}).")
    int clients;

    @Option(names = "--rounds", defaultValue = "5", description = "Training rounds (default ${DEFAULT-VALUE}).")
    int rounds;

    @Option(
            names = "--alpha",
            defaultValue = "0.5",
            description =
                    "Dirichlet α of the label-skewed partition; smaller = more skewed (default ${DEFAULT-VALUE}).")
    double alpha;

    @Option(
            names = "--local-epochs",
            defaultValue = "3",
            description = "Local epochs per round (default ${DEFAULT-VALUE}).")
    int localEpochs;

    @Option(
            names = "--hidden",
            defaultValue = "128",
            description = "Hidden units of the MLP (default ${DEFAULT-VALUE}).")
    int hidden;

    @Option(
            names = "--strategy",
            defaultValue = "FedAvg",
            paramLabel = "Name[:key=value,...]",
            description =
                    "Server strategy: FedAvg, FedAvgM, FedAdagrad, FedAdam, FedYogi or FedProx, with hyperparameters, e.g. "
                            + "FedAdam:eta=0.01 (default ${DEFAULT-VALUE}); every version records it and audit verify re-derives it.")
    String strategy = "FedAvg";

    @Option(
            names = "--compact",
            description =
                    "Compact updates: clients mask each block of 8,192 values with one-polynomial RLWE (a fresh key per"
                            + " update, sent once under the model's public key) instead of CKKS-encrypting every value: about 5"
                            + " bytes per parameter instead of 16; the key holders decrypt only the sum of the keys.")
    boolean compact;

    /** Compact updates (tests; the command line sets the same field). */
    public DemoMain compact(boolean on) {
        this.compact = on;
        return this;
    }

    /** The strategy's round configuration (client learning rate, FedProx μ; 0 = the trainer's own / none) for the registry's rounds. */
    private org.fedseal.registry.RoundOptions strategyRoundOptions() {
        org.fedseal.protocol.Strategy s = org.fedseal.protocol.Strategy.parse(strategy);
        org.fedseal.registry.RoundOptions o = org.fedseal.registry.RoundOptions.DEFAULT
                .withLearningRate(s.clientLearningRate())
                .withProximalMu(s.proximalMu());
        return compact ? o.withCompactUpdates(org.fedseal.registry.RoundOptions.DEFAULT_MASK_SCALE_BITS) : o;
    }

    /** The server strategy, e.g. {@code FedAdam:eta=0.01} ({@link org.fedseal.protocol.Strategy#parse}). */
    public DemoMain strategy(String strategy) {
        org.fedseal.protocol.Strategy.parse(strategy);
        this.strategy = strategy;
        return this;
    }

    @Option(
            names = "--model",
            defaultValue = "mlp",
            split = ",",
            paramLabel = "mlp|lenet",
            description =
                    "The model: mlp, lenet (LeNet-5, a small CNN), or both, comma-separated, trained one after the other on "
                            + "the same split with the same rounds and SGD settings and compared side by side (default ${DEFAULT-VALUE}).")
    List<String> models = List.of("mlp");

    @Option(
            names = "--port",
            defaultValue = "0",
            description = "Registry HTTP port, 0 = any free port (default ${DEFAULT-VALUE}).")
    int port;

    @Option(
            names = "--work-dir",
            description = "Where broker, registry and key holder keep their files (default: a new temp dir).")
    Path workDir;

    @Option(
            names = "--threshold",
            defaultValue = "" + DEFAULT_KEY_HOLDERS,
            description =
                    "Key holders (n-of-n threshold decryption), each its own process, after a key ceremony over Kafka; "
                            + "0 = single-key mode with one key holder (default ${DEFAULT-VALUE}).")
    int threshold;

    @Option(
            names = "--keep-running",
            description = "Keep the registry and its web page up after training, until Ctrl-C.")
    boolean keepRunning;

    @Option(
            names = "--round-timeout",
            defaultValue = "PT3M",
            description = "How long a round may take (default ${DEFAULT-VALUE}).")
    Duration roundTimeout;

    @Option(
            names = "--clip-norm",
            defaultValue = "10",
            description =
                    "L2 bound every client clips its update to; with the "
                            + "2,000 training digits it must fit the parameter set's headroom (default ${DEFAULT-VALUE}; with --dp: 1).")
    double clipNorm = 10;

    @Option(
            names = "--dp",
            description =
                    "Distributed differential privacy: register the model with a privacy budget, open every round "
                            + "with --noise-multiplier (each client adds a 1/quorum share of the noise variance and sends weight 1) and print the epsilon "
                            + "spent after every round (Renyi-DP accountant, fl-protocol PrivacyAccountant) next to the accuracy.")
    boolean dp;

    @Option(
            names = "--noise-multiplier",
            paramLabel = "Z",
            defaultValue = "0.1",
            description =
                    "With --dp: the decrypted sum carries "
                            + "Gaussian noise of std Z x clip norm per value (default ${DEFAULT-VALUE}; the noise on the mean is Z x clip norm / clients, so "
                            + "with 10 clients and ~100,000 parameters a Z much above 0.1 drowns the signal, and single-digit epsilons need thousands of clients).")
    double noiseMultiplier = 0.1;

    @Option(
            names = "--epsilon-budget",
            paramLabel = "EPS",
            description = "With --dp: the model's budget (default: exactly what "
                    + "--rounds rounds at --noise-multiplier spend, so one more round would be refused).")
    Double epsilonBudget;

    @Option(
            names = "--delta",
            defaultValue = "1e-5",
            description = "With --dp: the delta epsilon is accounted at (default ${DEFAULT-VALUE}).")
    double delta = 1e-5;

    /**
     * The clip norm of --dp runs without --clip-norm: the noise scales with the clip norm, and the MLP's
     * deltas rarely reach 10, so a tighter bound keeps more signal (5 rounds at z = 0.3: 77.8 % with 1,
     * 68.0 % with 2, 27.8 % with 10).
     */
    static final double DP_CLIP_NORM = 1.0;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** Distributed DP with noise multiplier {@code z} and clip norm {@link #DP_CLIP_NORM} (tests; the command line sets the same fields). */
    public DemoMain dp(double z) {
        this.dp = true;
        this.noiseMultiplier = z;
        this.clipNorm = DP_CLIP_NORM;
        return this;
    }

    /** Training digits; the round's total weight can never exceed it. */
    static final int TRAIN_SIZE = 2000;

    public static void main(String[] args) {
        System.exit(new CommandLine(new DemoMain()).execute(args));
    }

    /** {@code n} threshold key-holder processes, or 0 for one key holder (tests; the command line sets the same field). */
    public DemoMain threshold(int n) {
        this.threshold = n;
        return this;
    }

    @Option(
            names = "--federated-eval",
            description = "After every round, run a federated evaluation round of the new version "
                    + "(issue 19): each client evaluates it on its own digits and sends encrypted sums through the same pipeline; the key "
                    + "holder(s) decrypt only the totals. Prints the federated accuracy next to the central one.")
    boolean federatedEval;

    @Option(
            names = "--model-id",
            description = "Model id in the registry (default mnist-mlp, mnist-lenet; with several "
                    + "models, each gets its kind appended).")
    String modelId;

    /** A model id of its own (tests that share one deployment). */
    public DemoMain modelId(String id) {
        this.modelId = id;
        return this;
    }

    /** The model to train: {@code mlp} or {@code lenet} (tests; the command line sets the same field). */
    public DemoMain model(String name) {
        this.models = List.of(name);
        return this;
    }

    /** What one demo run produced (for several models: the last one's). */
    public record Result(
            String model,
            double initialAccuracy,
            List<Double> accuracyPerRound,
            String registryUri,
            Path workDir,
            List<Double> epsilonPerRound) {
        /** A result without privacy accounting. */
        public Result(
                String model, double initialAccuracy, List<Double> accuracyPerRound, String registryUri, Path workDir) {
            this(model, initialAccuracy, accuracyPerRound, registryUri, workDir, List.of());
        }
    }

    /** The budget a --dp run registers: --epsilon-budget, or what its rounds spend (a hair above, for rounding). */
    double dpBudget() {
        if (epsilonBudget != null) {
            return epsilonBudget;
        }
        return org.fedseal.protocol.PrivacyAccountant.create()
                        .compose(1, noiseMultiplier, rounds)
                        .epsilon(delta)
                        .epsilon()
                * (1 + 1e-9);
    }

    @Override
    public Integer call() throws Exception {
        try {
            if (dp && spec != null && !spec.commandLine().getParseResult().hasMatchedOption("--clip-norm")) {
                clipNorm = DP_CLIP_NORM;
            }
            roundBounds();
            kinds();
            if (dp && !(noiseMultiplier > 0)) {
                throw new IllegalArgumentException("--dp needs --noise-multiplier > 0, got " + noiseMultiplier);
            }
            if (dp && compact) {
                throw new IllegalArgumentException(
                        "--dp and --compact do not combine yet: compact rounds take no distributed noise");
            }
            if (dp && federatedEval) {
                throw new IllegalArgumentException(
                        "--dp and --federated-eval do not combine: a model with a privacy budget refuses "
                                + "evaluation rounds, whose sums carry no noise");
            }
            if (!dp && spec != null) {
                for (String option : List.of("--noise-multiplier", "--epsilon-budget", "--delta")) {
                    if (spec.commandLine().getParseResult().hasMatchedOption(option)) {
                        throw new IllegalArgumentException(option + " takes effect with --dp only: add --dp for a "
                                + "differentially private run");
                    }
                }
            }
            if (dp) {
                double firstRound = org.fedseal.protocol.PrivacyAccountant.create()
                        .compose(1, noiseMultiplier, 1)
                        .epsilon(delta)
                        .epsilon();
                if (dpBudget() < firstRound) {
                    throw new IllegalArgumentException(String.format(
                            "--epsilon-budget %.4g is below what one round at --noise-multiplier %s spends (epsilon %.4f at "
                                    + "delta %s): raise the budget or the noise multiplier",
                            dpBudget(), noiseMultiplier, firstRound, delta));
                }
            }
            org.fedseal.protocol.Strategy.parse(strategy);
        } catch (IllegalArgumentException e) {
            System.err.println("fedseal demo: " + e.getMessage());
            return 2;
        }
        run();
        return 0;
    }

    /**
     * The rounds' headroom bounds: total weight at most the 2,000 training digits, any one client may
     * hold all of them (the Dirichlet split is skewed).
     *
     * @throws IllegalArgumentException naming the bound if a full round could wrap
     */
    RoundBounds roundBounds() {
        HeParameters params = threshold > 0 ? HeParameters.CKKS_8192_T50 : HeParameters.CKKS_8192;
        try {
            return new RoundBounds(clipNorm, TRAIN_SIZE, TRAIN_SIZE, params.maxSumNorm());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    "refusing to start with --clip-norm " + clipNorm + " on " + params.id() + ": a full "
                            + "round of the " + TRAIN_SIZE + " training digits could wrap (clip norm x " + TRAIN_SIZE
                            + " must not exceed the "
                            + "headroom " + String.format("%.6g", params.maxSumNorm()) + "); use --clip-norm "
                            + RoundBounds.largestClipNorm(params.maxSumNorm(), TRAIN_SIZE) + " or less",
                    e);
        }
    }

    private List<MnistModel> kinds() {
        List<MnistModel> out = new ArrayList<>();
        for (String m : models) {
            MnistModel k = MnistModel.parse(m);
            if (!out.contains(k)) {
                out.add(k);
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("--model names no model");
        }
        return out;
    }

    private String modelIdFor(MnistModel kind, int kinds) {
        if (modelId == null) {
            return kind.defaultModelId();
        }
        return kinds == 1 ? modelId : modelId + "-" + kind.name().toLowerCase(java.util.Locale.ROOT);
    }

    /** Runs the demo on a deployment of its own, started here and stopped at the end. */
    public Result run() throws Exception {
        if (workDir == null) {
            workDir = Files.createTempDirectory("fedseal-demo");
        }
        say(
                "FedSeal demo: %s, %d clients, %d rounds, MNIST (2,000 train / 500 test digits), Dirichlet α=%.2f, work dir %s",
                kinds().stream()
                        .map(k -> k.name().toLowerCase(java.util.Locale.ROOT))
                        .toList(),
                clients,
                rounds,
                alpha,
                workDir);
        step("starting Kafka broker, registry and the Flink aggregation job");
        FederatedDeployment deployment = FederatedDeployment.start(workDir, Map.of(), port);
        // Ctrl-C: stop broker, job and registry even while the main thread is mid-round.
        Thread hook = new Thread(
                () -> {
                    System.out.println("» interrupted: stopping broker, aggregation job, registry and key holder");
                    deployment.closeQuietly();
                },
                "fedseal-demo-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            return run(deployment);
        } finally {
            deployment.close();
            removeHook(hook);
            ok("stopped");
        }
    }

    /**
     * Runs the demo's training on an existing deployment (the integration tests share one), once per
     * model; with several, prints their accuracies side by side. Returns the last model's result.
     */
    public Result run(FederatedDeployment deployment) throws Exception {
        List<MnistModel> kinds = kinds();
        List<Result> results = new ArrayList<>();
        for (MnistModel kind : kinds) {
            results.add(run(deployment, kind, modelIdFor(kind, kinds.size())));
        }
        if (results.size() > 1) {
            say("");
            say(
                    "same split (Dirichlet α=%.2f, seed 7), %d clients, %d rounds x %d local epochs, SGD lr %.2f, batch %d:",
                    alpha, clients, rounds, localEpochs, LEARNING_RATE, BATCH_SIZE);
            StringBuilder head = new StringBuilder(String.format("%-6s", "round"));
            results.forEach(r -> head.append(String.format(" %10s", r.model())));
            say("%s", head);
            for (int i = 0; i <= rounds; i++) {
                StringBuilder row = new StringBuilder(String.format("%-6d", i));
                for (Result r : results) {
                    double acc = i == 0
                            ? r.initialAccuracy()
                            : i <= r.accuracyPerRound().size()
                                    ? r.accuracyPerRound().get(i - 1)
                                    : Double.NaN;
                    row.append(String.format(" %9.2f%%", 100 * acc));
                }
                say("%s", row);
            }
        }
        if (keepRunning) {
            // after every model has trained: broker, job and registry stay up for the web page, audit and export
            say(
                    "verify it yourself:      ./fedseal audit verify --registry %s",
                    deployment.registry().uri());
            Path tokenFile = workDir.resolve("admin-token");
            Files.writeString(tokenFile, deployment.adminToken());
            try {
                Files.setPosixFilePermissions(
                        tokenFile, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
            } catch (UnsupportedOperationException e) {
                // not a POSIX file system: the work directory's own permissions apply
            }
            say(
                    "coordinator commands:    export FEDSEAL_REGISTRY=%s FEDSEAL_TOKEN=$(cat %s)",
                    deployment.registry().uri(), tokenFile);
            say("--keep-running: everything stays up; Ctrl-C to stop");
            CountDownLatch interrupted = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(interrupted::countDown, "fedseal-demo-keep-running"));
            interrupted.await();
        }
        return results.get(results.size() - 1);
    }

    private Result run(FederatedDeployment deployment, MnistModel kind, String modelId) throws Exception {
        RoundBounds bounds = roundBounds();
        if (workDir == null) {
            workDir = deployment.workDir();
        }
        long t0 = System.nanoTime();
        List<Process> keyHolders = new java.util.concurrent.CopyOnWriteArrayList<>();
        Combiner[] combinerRef = new Combiner[1];
        List<FederatedClient> fleet = new ArrayList<>();
        List<DjlTrainer> trainers = new ArrayList<>();
        CountDownLatch done = new CountDownLatch(1);
        Thread hook = new Thread(
                () -> {
                    done.countDown();
                    keyHolders.forEach(Process::destroy);
                },
                "fedseal-demo-keyholder-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            step("model %s: %s", modelId, kind.architecture(hidden));
            ok(
                    "kafka %s, registry %s",
                    deployment.bootstrapServers(), deployment.registry().uri());
            RegistryClient registry = deployment.adminClient();

            ok("server strategy %s", org.fedseal.protocol.Strategy.parse(strategy));
            step("loading MNIST and partitioning it across %d clients", clients);
            LocalDataset all = Mnist2500.load();
            LocalDataset train = all.range(0, TRAIN_SIZE);
            LocalDataset test = all.range(TRAIN_SIZE, 2500);
            List<int[]> parts = Partitioners.dirichlet(alpha, 7).partition(train.labels(), clients);
            ok(
                    "partition sizes %s",
                    parts.stream().map(p -> Integer.toString(p.length)).toList());

            DjlTrainer evaluator = kind.trainer(test, hidden);
            trainers.add(evaluator);
            float[] initial = evaluator.initialParameters(42);
            double initialAccuracy = evaluator.accuracy(initial, test);
            HeParameters params = threshold > 0 ? HeParameters.CKKS_8192_T50 : HeParameters.CKKS_8192;
            // with its layout (tensor names and shapes, DJL template): `fedseal model export` writes DJL and
            // safetensors files
            if (dp) {
                registry.registerModel(
                        modelId,
                        kind.architecture(hidden),
                        params.id(),
                        ModelWeights.encode(initial),
                        threshold > 0 ? modelId + "-combiner" : modelId + "-keyholder",
                        evaluator.layout(),
                        dpBudget(),
                        delta);
            } else {
                registry.registerModel(
                        modelId,
                        kind.architecture(hidden),
                        params.id(),
                        ModelWeights.encode(initial),
                        threshold > 0 ? modelId + "-combiner" : modelId + "-keyholder",
                        evaluator.layout());
            }
            ok(
                    "model %s registered: %d parameters, %s, round-0 accuracy %.2f%%",
                    modelId, initial.length, params.id(), 100 * initialAccuracy);
            if (dp) {
                ok(
                        "distributed DP: noise multiplier %s, clip norm %s: the decrypted sum carries noise of std %.4g per value, each of the "
                                + "%d clients adds std %.4g and sends weight 1 (unweighted mean); budget epsilon %.4f at delta %s",
                        noiseMultiplier,
                        bounds.clipNorm(),
                        noiseMultiplier * bounds.clipNorm(),
                        clients,
                        noiseMultiplier * bounds.clipNorm() / Math.sqrt(clients),
                        dpBudget(),
                        delta);
            }

            Combiner combiner = null;
            if (threshold > 0) {
                step(
                        "starting %d threshold key holders (each its own process; no process ever holds the whole secret key)",
                        threshold);
                List<String> holderIds = new ArrayList<>();
                for (int i = 1; i <= threshold; i++) {
                    String id = modelId + "-keyholder-" + i;
                    keyHolders.add(startKeyHolder(
                            deployment,
                            modelId,
                            id,
                            List.of(
                                    "--threshold",
                                    "--min-participants",
                                    Integer.toString(clients),
                                    "--aggregator-key",
                                    Base64.getEncoder().encodeToString(deployment.aggregatorPublicKey())),
                            "KEYHOLDER ENROLLED"));
                    holderIds.add(id);
                }
                long ceremonyStart = System.nanoTime();
                CeremonyInfo ceremony = registry.openCeremony(modelId, null, holderIds);
                step(
                        "key ceremony %s over Kafka: each holder contributes to the seed, commits to its key share, then reveals it",
                        ceremony.ceremonyId());
                combiner = new Combiner(
                        deployment.bootstrapServers(),
                        registry,
                        modelId,
                        ceremony.ceremonyId(),
                        Duration.ofMinutes(3),
                        p -> evaluator.accuracy(p, test),
                        org.fedseal.protocol.Strategy.parse(strategy));
                combinerRef[0] = combiner;
                ok(
                        "ceremony %s complete in %.1f s: collective public key %s… (the registry and the combiner each recomputed it)",
                        ceremony.ceremonyId(),
                        (System.nanoTime() - ceremonyStart) / 1e9,
                        combiner.ceremony().publicKeyHash().toHex().substring(0, 16));
            } else {
                step("starting the key holder (its own process; the secret key never leaves it)");
                keyHolders.add(startKeyHolder(
                        deployment,
                        modelId,
                        modelId + "-keyholder",
                        List.of(
                                "--evaluator",
                                MnistEvaluator.NAME,
                                "--evaluator-option",
                                "model=" + kind.name().toLowerCase(java.util.Locale.ROOT),
                                "--evaluator-option",
                                "hidden=" + hidden,
                                "--strategy",
                                strategy),
                        "KEYHOLDER READY"));
                ok("key holder ready");
            }

            step("enrolling %d clients", clients);
            for (int c = 0; c < clients; c++) {
                String id = String.format("client-%02d", c);
                SigningKeyPair identity = SigningKeyPair.generate();
                registry.enrollClient(id, identity.publicKey(), List.of(modelId));
                DjlTrainer trainer = kind.trainer(train.subset(parts.get(c)), hidden);
                trainers.add(trainer);
                fleet.add(FederatedClient.builder(Map.of(
                                ClientConfig.BOOTSTRAP_SERVERS,
                                deployment.bootstrapServers(),
                                ClientConfig.CLIENT_ID,
                                id))
                        .trainer(trainer)
                        .modelSource(new RegistryModelSource(
                                RegistryClient.create(deployment.registry().uri())))
                        .signingKey(identity.privateKey())
                        .build());
            }
            ok("%d clients enrolled", clients);

            List<Double> accuracies = new ArrayList<>();
            List<Double> epsilons = new ArrayList<>();
            say("");
            if (dp) {
                say(
                        "%-6s %-13s %-8s %-9s %-10s %-10s %s",
                        "round", "participants", "rejects", "time", "accuracy", "epsilon", "version");
            } else {
                say("%-6s %-13s %-8s %-9s %-10s %s", "round", "participants", "rejects", "time", "accuracy", "version");
            }
            try (TopicFeed<RoundOpened> feed =
                    new TopicFeed<>(deployment.bootstrapServers(), Topics.ROUNDS, RoundOpened.class)) {
                for (int r = 1; r <= rounds && done.getCount() > 0; r++) {
                    long rs = System.nanoTime();
                    // with DP every update weighs 1: the round's total weight is the number of clients
                    RoundInfo opened = dp
                            ? registry.openRound(
                                    modelId,
                                    clients,
                                    roundTimeout,
                                    localEpochs,
                                    6,
                                    bounds.clipNorm(),
                                    clients,
                                    1,
                                    strategyRoundOptions().withNoiseMultiplier(noiseMultiplier))
                            : registry.openRound(
                                    modelId,
                                    clients,
                                    roundTimeout,
                                    localEpochs,
                                    6,
                                    bounds.clipNorm(),
                                    bounds.maxTotalWeight(),
                                    bounds.maxUpdateWeight(),
                                    strategyRoundOptions());
                    RoundOpened announcement = feed.await(
                            o -> o.getModelId().equals(modelId) && o.getRound() == opened.round(),
                            Duration.ofSeconds(60));
                    int submitted = 0;
                    for (FederatedClient client : fleet) {
                        try {
                            client.participate(announcement);
                            submitted++;
                        } catch (SubmissionException e) {
                            say("  %s could not take part: %s", client.clientId(), e.getMessage());
                        }
                    }
                    VersionInfo version = combiner != null
                            ? combiner.combineAndPublish(announcement, roundTimeout)
                            : awaitVersion(registry, modelId, opened.round(), rs);
                    RoundInfo status = registry.roundStatus(modelId, opened.round());
                    double acc = version.accuracy() == null ? Double.NaN : version.accuracy();
                    accuracies.add(acc);
                    if (dp) {
                        double eps = registry.version(org.fedseal.protocol.Hash.fromHex(version.versionHash()))
                                .epsilon();
                        epsilons.add(eps);
                        say(
                                "%-6d %-13s %-8d %-9s %-10s %-10s %s…",
                                opened.round(),
                                status.participants().size() + "/" + submitted,
                                status.rejectedCount(),
                                String.format("%.1f s", (System.nanoTime() - rs) / 1e9),
                                String.format("%.2f%%", 100 * acc),
                                String.format("%.4g", eps),
                                version.versionHash().substring(0, 12));
                    } else {
                        say(
                                "%-6d %-13s %-8d %-9s %-10s %s…",
                                opened.round(),
                                status.participants().size() + "/" + submitted,
                                status.rejectedCount(),
                                String.format("%.1f s", (System.nanoTime() - rs) / 1e9),
                                String.format("%.2f%%", 100 * acc),
                                version.versionHash().substring(0, 12));
                    }
                    if (federatedEval) {
                        federatedEvaluation(
                                registry, feed, fleet, combiner, modelId, version, bounds.sumNormBound(), train.size());
                    }
                }
            }
            say("");
            double last = accuracies.isEmpty() ? Double.NaN : accuracies.get(accuracies.size() - 1);
            say(
                    "final test accuracy %.2f%% (round 0: %.2f%%) after %d rounds in %.0f s",
                    100 * last, 100 * initialAccuracy, accuracies.size(), (System.nanoTime() - t0) / 1e9);
            if (dp && !epsilons.isEmpty()) {
                say(
                        "(epsilon %.4g, delta %s) user-level DP for every client over the %d released versions (noise multiplier %s, clip norm %s, "
                                + "Renyi-DP accountant at sampling rate 1)",
                        epsilons.get(epsilons.size() - 1), delta, epsilons.size(), noiseMultiplier, bounds.clipNorm());
            }
            String uri = deployment.registry().uri().toString();
            say("registry and web page:   %s", uri);
            say(
                    "provenance log:          %sapi/log/entries   (signed tree head: %sapi/log/sth)",
                    slash(uri), slash(uri));
            if (!keepRunning) {
                say(
                        "the registry stops with the demo; its data stays in %s. To audit it:",
                        workDir.resolve("registry"));
                say(
                        "  ./fedseal registry serve --data-dir %s &   then   ./fedseal audit verify",
                        workDir.resolve("registry"));
                say(
                        "  (or run ./fedseal demo --keep-running and ./fedseal audit verify --registry <url> in another terminal)");
            }
            return new Result(
                    kind.name().toLowerCase(java.util.Locale.ROOT),
                    initialAccuracy,
                    accuracies,
                    uri,
                    workDir,
                    epsilons);
        } finally {
            step("shutting down");
            for (FederatedClient c : fleet) {
                c.close(Duration.ofSeconds(5));
            }
            for (Process kh : keyHolders) {
                kh.destroy();
                if (!kh.waitFor(10, TimeUnit.SECONDS)) {
                    kh.destroyForcibly();
                }
            }
            if (combinerRef[0] != null) {
                combinerRef[0].close();
            }
            trainers.forEach(DjlTrainer::close);
            removeHook(hook);
        }
    }

    /**
     * Opens a federated evaluation round of {@code version}, lets every client evaluate it, waits for the
     * decrypted metrics (the combiner's, or the key-holder process's) and prints them next to the central accuracy.
     * The loss bound is the largest whose clip norm lets all {@code examples} training digits fit the headroom.
     */
    private void federatedEvaluation(
            RegistryClient registry,
            TopicFeed<RoundOpened> feed,
            List<FederatedClient> fleet,
            Combiner combiner,
            String modelId,
            VersionInfo version,
            double sumNormBound,
            long examples)
            throws Exception {
        double c = sumNormBound / examples;
        double lossBound = Math.min(100, Math.floor(Math.sqrt(Math.max(0, c * c - 3)) * 100) / 100);
        org.fedseal.protocol.Hash v = org.fedseal.protocol.Hash.fromHex(version.versionHash());
        RoundInfo opened = registry.openEvaluationRound(modelId, v, fleet.size(), roundTimeout, lossBound, 0, 0);
        RoundOpened announcement = feed.await(
                o -> o.getModelId().equals(modelId) && o.getRound() == opened.round(), Duration.ofSeconds(60));
        for (FederatedClient client : fleet) {
            try {
                client.participate(announcement);
            } catch (SubmissionException e) {
                say("  %s did not evaluate: %s", client.clientId(), e.getMessage());
            }
        }
        org.fedseal.registry.FederatedEvaluationInfo f = null;
        if (combiner != null) {
            f = combiner.combineEvaluation(announcement, roundTimeout);
        } else {
            long end = System.nanoTime() + roundTimeout.toNanos();
            while (f == null && System.nanoTime() < end) {
                f = registry.evaluations(v).stream()
                        .filter(e -> e.round() == opened.round())
                        .findFirst()
                        .orElse(null);
                if (f == null) {
                    Thread.sleep(200);
                }
            }
            if (f == null) {
                throw new IllegalStateException(
                        "no federated metrics for evaluation round " + opened.round() + " within " + roundTimeout);
            }
        }
        say(
                "%-6s federated accuracy %s, loss %.4f over %d examples of %d clients (evaluation round %d; central %s)",
                "",
                f.accuracy() == null ? "-" : String.format("%.2f%%", 100 * f.accuracy()),
                f.loss(),
                f.examples(),
                f.participants().size(),
                f.round(),
                version.accuracy() == null ? "-" : String.format("%.2f%%", 100 * version.accuracy()));
    }

    private static void removeHook(Thread hook) {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the JVM is exiting: the hook is running or has run
        }
    }

    private static String slash(String uri) {
        return uri.endsWith("/") ? uri : uri + "/";
    }

    private VersionInfo awaitVersion(RegistryClient registry, String modelId, int round, long since)
            throws InterruptedException {
        long end = System.nanoTime()
                + roundTimeout.toNanos()
                + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < end) {
            Optional<VersionInfo> v = registry.versions(modelId).stream()
                    .filter(x -> x.round() == round && x.sequence() > 0)
                    .findFirst();
            if (v.isPresent()) {
                return v.get();
            }
            RoundInfo status = registry.roundStatus(modelId, round);
            if ("failed".equals(status.status())) {
                throw new IllegalStateException("round " + round + " failed: " + status.acceptedCount() + " of quorum "
                        + status.quorum() + " accepted, " + status.rejectedCount() + " rejected");
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("round " + round + " produced no new version within " + roundTimeout);
    }

    /** Starts a key-holder process and waits until it prints a line starting with {@code readyLine}. */
    private Process startKeyHolder(
            FederatedDeployment deployment, String modelId, String id, List<String> extra, String readyLine)
            throws Exception {
        Path dir = workDir.resolve(id);
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1g",
                "-Dai.djl.offline=true",
                "-Dai.djl.pytorch.num_threads=1",
                "-cp",
                System.getProperty("java.class.path"),
                KeyHolderMain.class.getName(),
                "--registry",
                deployment.registry().uri().toString(),
                "--bootstrap-servers",
                deployment.bootstrapServers(),
                "--model",
                modelId,
                "--id",
                id,
                "--data-dir",
                dir.toString(),
                "--exit-with-parent"));
        cmd.addAll(extra);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put(KeyHolderMain.TOKEN_ENV, deployment.adminToken());
        pb.environment().put("DJL_OFFLINE", "true");
        Process p = pb.start();
        CountDownLatch ready = new CountDownLatch(1);
        Path log = workDir.resolve(id + ".log");
        Thread pump = new Thread(
                () -> {
                    try (BufferedReader in = new BufferedReader(
                                    new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
                            var out = Files.newBufferedWriter(log)) {
                        String line;
                        while ((line = in.readLine()) != null) {
                            out.write(line);
                            out.newLine();
                            out.flush();
                            if (line.startsWith(readyLine)) {
                                ready.countDown();
                            }
                            if (line.startsWith("[key holder]") || line.startsWith("KEYHOLDER FAILED")) {
                                System.out.println("  " + id + ": " + line);
                            }
                        }
                    } catch (java.io.IOException e) {
                        // process ended
                    }
                },
                id + "-output");
        pump.setDaemon(true);
        pump.start();
        if (!ready.await(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("key holder " + id + " did not become ready; see " + log);
        }
        return p;
    }

    private static void say(String fmt, Object... args) {
        System.out.println(String.format(fmt, args));
    }

    private static void step(String fmt, Object... args) {
        System.out.println("» " + String.format(fmt, args));
    }

    private static void ok(String fmt, Object... args) {
        System.out.println("  ✓ " + String.format(fmt, args));
    }
}
