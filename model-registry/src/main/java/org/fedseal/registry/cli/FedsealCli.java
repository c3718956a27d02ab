package org.fedseal.registry.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.ModelLayouts;
import org.fedseal.protocol.ModelWeights;
import org.fedseal.protocol.SigningPublicKey;
import org.fedseal.protocol.WireCodec;
import org.fedseal.protocol.WireFormatException;
import org.fedseal.protocol.wire.ModelLayout;
import org.fedseal.protocol.wire.SignedTreeHead;
import org.fedseal.registry.Auditor;
import org.fedseal.registry.CeremonyInfo;
import org.fedseal.registry.FederatedEvaluationInfo;
import org.fedseal.registry.ModelExport;
import org.fedseal.registry.ModelInfo;
import org.fedseal.registry.RegistryClient;
import org.fedseal.registry.RegistryConfig;
import org.fedseal.registry.RegistryException;
import org.fedseal.registry.RegistryServer;
import org.fedseal.registry.RoundInfo;
import org.fedseal.registry.RoundOptions;
import org.fedseal.registry.VersionInfo;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * The {@code fedseal} command-line tool for coordinators and auditors. It talks to the registry over
 * HTTP ({@code --registry}, env {@code FEDSEAL_REGISTRY}; token {@code --token}, env
 * {@code FEDSEAL_TOKEN}) and can start a registry ({@code fedseal registry serve}).
 */
@Command(
        name = "fedseal",
        mixinStandardHelpOptions = true,
        version = "fedseal 0.1.0",
        description = "FedSeal coordinator and auditor tool.",
        subcommands = {
            FedsealCli.ModelCmd.class,
            FedsealCli.RoundCmd.class,
            FedsealCli.CeremonyCmd.class,
            FedsealCli.AuditCmd.class,
            FedsealCli.RegistryCmd.class
        })
public final class FedsealCli implements Callable<Integer> {
    static final ObjectMapper JSON = new ObjectMapper();

    @Option(
            names = "--registry",
            scope = CommandLine.ScopeType.INHERIT,
            description = "Registry base URL (env FEDSEAL_REGISTRY; default ${DEFAULT-VALUE}).",
            defaultValue = "${env:FEDSEAL_REGISTRY:-http://127.0.0.1:8470}")
    String registry;

    @Option(
            names = "--token",
            scope = CommandLine.ScopeType.INHERIT,
            description = "Bearer token for mutating calls (env FEDSEAL_TOKEN).",
            defaultValue = "${env:FEDSEAL_TOKEN}")
    String token;

    @Spec
    CommandLine.Model.CommandSpec spec;

    /** Creates the command (picocli instantiates it). */
    public FedsealCli() {}

    /** Runs the CLI and exits with its code. */
    public static void main(String[] args) {
        System.exit(newCommandLine().execute(args));
    }

    /** A configured picocli command line (exit codes: 0 pass, 1 fail, 2 usage). */
    public static CommandLine newCommandLine() {
        CommandLine cl = new CommandLine(new FedsealCli());
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            cmd.getErr().println("error: " + describe(ex));
            return 1;
        });
        return cl;
    }

    /**
     * An exception as one line: its message, and for file-system errors (whose message is just the
     * path) what went wrong with it.
     */
    static String describe(Exception ex) {
        if (ex instanceof java.nio.file.FileSystemException fs) {
            String why = fs.getReason() != null
                    ? fs.getReason()
                    : ex instanceof java.nio.file.NoSuchFileException
                            ? "no such file or directory"
                            : ex instanceof java.nio.file.AccessDeniedException
                                    ? "permission denied"
                                    : ex instanceof java.nio.file.FileAlreadyExistsException
                                            ? "already exists"
                                            : ex.getClass().getSimpleName();
            return fs.getFile() + ": " + why + (fs.getOtherFile() != null ? " (" + fs.getOtherFile() + ")" : "");
        }
        return ex.getMessage() != null ? ex.getMessage() : ex.toString();
    }

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getOut());
        return 0;
    }

    RegistryClient client() {
        return RegistryClient.create(URI.create(registry), token);
    }

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    // ------------------------------------------------------------ model

    /** {@code fedseal model ...}. */
    @Command(
            name = "model",
            description = "Register, list and export models.",
            mixinStandardHelpOptions = true,
            subcommands = {ModelRegister.class, ModelList.class, ModelVersions.class, ModelExportCmd.class})
    static final class ModelCmd {
        @ParentCommand
        FedsealCli root;
    }

    /** {@code fedseal model register}. */
    @Command(name = "register", description = "Register a model with initial weights.", mixinStandardHelpOptions = true)
    static final class ModelRegister implements Callable<Integer> {
        @ParentCommand
        ModelCmd parent;

        @Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = "--id", required = true, description = "Model id.")
        String id;

        @Option(names = "--architecture", required = true, description = "Architecture description.")
        String architecture;

        @Option(
                names = "--he-params",
                defaultValue = "ckks-8192-v1",
                description = "HE parameter set id (default ${DEFAULT-VALUE}).")
        String heParams;

        @Option(names = "--weights", description = "File of float32 little-endian initial weights.")
        Path weights;

        @Option(names = "--zeros", description = "Initial weights: this many zeros (instead of --weights).")
        Integer zeros;

        @Option(names = "--key-holder", description = "Client id allowed to publish versions.")
        String keyHolder;

        @Option(names = "--he-public-key", description = "File with the HE public key to store with the model.")
        Path hePublicKey;

        @Option(
                names = "--layout",
                description = "File with the model's layout (fl-protocol ModelLayouts.encode, e.g. of "
                        + "DjlTrainer.layout()): tensor names and shapes, needed to export versions as DJL files.")
        Path layout;

        @Option(
                names = "--epsilon-budget",
                paramLabel = "EPS",
                description = "Differential-privacy budget: the registry refuses every round "
                        + "without noise and every round that would bring the model's epsilon (Renyi-DP accountant, fl-protocol PrivacyAccountant) "
                        + "past EPS. Needs --delta; cannot be changed later.")
        Double epsilonBudget;

        @Option(
                names = "--delta",
                description = "The delta at which epsilon is accounted (e.g. 1e-5; below 1/number of clients).")
        Double delta;

        @Override
        public Integer call() throws Exception {
            byte[] w;
            if (weights != null) {
                w = Files.readAllBytes(weights);
            } else if (zeros != null) {
                w = new byte[zeros * 4];
            } else {
                throw new CommandLine.ParameterException(spec.commandLine(), "--weights or --zeros is required");
            }
            RegistryClient c = parent.root.client();
            ModelLayout l = null;
            if (layout != null) {
                try {
                    l = ModelLayouts.decode(Files.readAllBytes(layout));
                } catch (WireFormatException e) {
                    throw new CommandLine.ParameterException(
                            spec.commandLine(), "--layout " + layout + " is not a model layout: " + e.getMessage());
                }
            }
            if ((epsilonBudget == null) != (delta == null)) {
                throw new CommandLine.ParameterException(
                        spec.commandLine(), "--epsilon-budget and --delta go together");
            }
            ModelInfo m = epsilonBudget == null
                    ? c.registerModel(id, architecture, heParams, w, keyHolder, l)
                    : c.registerModel(id, architecture, heParams, w, keyHolder, l, epsilonBudget, delta);
            parent.root
                    .out()
                    .printf(
                            "registered %s (%d parameters), version 0 = %s%n",
                            m.modelId(), m.parameterCount(), m.latestVersionHash());
            if (m.epsilonBudget() != null) {
                parent.root
                        .out()
                        .printf(
                                "privacy budget: epsilon %s at delta %s (rounds need --noise-multiplier)%n",
                                m.epsilonBudget(), m.delta());
            }
            if (hePublicKey != null) {
                parent.root.out().println("HE public key " + c.putHePublicKey(id, Files.readAllBytes(hePublicKey)));
            }
            return 0;
        }
    }

    /** {@code fedseal model list}. */
    @Command(name = "list", description = "List models.", mixinStandardHelpOptions = true)
    static final class ModelList implements Callable<Integer> {
        @ParentCommand
        ModelCmd parent;

        @Override
        public Integer call() {
            PrintWriter out = parent.root.out();
            out.printf(
                    "%-24s %-14s %10s %8s %6s %17s  %s%n",
                    "MODEL", "HE PARAMS", "PARAMS", "VERSIONS", "ROUNDS", "EPSILON/BUDGET", "LATEST VERSION");
            for (ModelInfo m : parent.root.client().listModels()) {
                out.printf(
                        "%-24s %-14s %10d %8d %6d %17s  %s%n",
                        m.modelId(),
                        m.heParamsId(),
                        m.parameterCount(),
                        m.versionCount(),
                        m.roundCount(),
                        m.epsilonBudget() == null
                                ? "-"
                                : String.format(
                                        java.util.Locale.ROOT, "%.3f/%.3f", m.epsilonSpent(), m.epsilonBudget()),
                        m.latestVersionHash());
            }
            return 0;
        }
    }

    /** {@code fedseal model versions}. */
    @Command(
            name = "versions",
            mixinStandardHelpOptions = true,
            description = {
                "List a model's versions with their central accuracy (reported by the key holder's evaluator, when one exists)",
                "and their newest federated evaluation (fedseal round evaluate): example-weighted accuracy and loss over the",
                "clients' own data, decrypted from the encrypted sums, with the number of examples and participating clients."
            })
    static final class ModelVersions implements Callable<Integer> {
        @ParentCommand
        ModelCmd parent;

        @Parameters(index = "0", paramLabel = "MODEL", description = "Model id.")
        String model;

        @Override
        public Integer call() {
            PrintWriter out = parent.root.out();
            List<VersionInfo> versions = parent.root.client().versions(model); // errors before the header
            out.printf(
                    "%4s %6s %9s %9s %9s %9s %7s %8s  %s%n",
                    "SEQ", "ROUND", "CENTRAL", "FED ACC", "FED LOSS", "EXAMPLES", "CLIENTS", "EPSILON", "VERSION");
            for (VersionInfo v : versions) {
                FederatedEvaluationInfo f = v.federated();
                out.printf(
                        "%4d %6d %9s %9s %9s %9s %7s %8s  %s%n",
                        v.sequence(),
                        v.round(),
                        percent(v.accuracy()),
                        f == null ? "-" : percent(f.accuracy()),
                        f == null ? "-" : String.format("%.4f", f.loss()),
                        f == null ? "-" : Long.toString(f.examples()),
                        f == null ? "-" : Integer.toString(f.participants().size()),
                        v.epsilon() == null ? "-" : String.format(java.util.Locale.ROOT, "%.4f", v.epsilon()),
                        v.versionHash());
            }
            return 0;
        }

        private static String percent(Double x) {
            return x == null ? "-" : String.format("%.2f%%", 100 * x);
        }
    }

    /** {@code fedseal model export}. */
    @Command(
            name = "export",
            mixinStandardHelpOptions = true,
            description = {
                "Write a model version as a file that DJL (Model.load) or safetensors / PyTorch users load directly,",
                "with the version hash in its metadata (DJL: model properties; safetensors: __metadata__).",
                "The weights are checked against the version's weights hash first. DJL needs the layout the model was",
                "registered with (DjlTrainer.layout()); safetensors without one writes a single flat tensor 'weights'."
            })
    static final class ModelExportCmd implements Callable<Integer> {
        @ParentCommand
        ModelCmd parent;

        @Parameters(
                index = "0",
                paramLabel = "VERSION",
                description = "Version hash (64 hex digits), or a model id for its latest version.")
        String version;

        @Option(names = "--format", required = true, paramLabel = "djl|safetensors", description = "File format.")
        String format;

        @Option(
                names = {"-o", "--output"},
                description =
                        "Output file, or a directory (existing, or named with a trailing /) to "
                                + "write <model>-<sequence>.params|.safetensors in (default: that name in the current directory).")
        Path output;

        @Option(names = "--force", description = "Overwrite an existing file.")
        boolean force;

        @Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            ModelExport.Format f;
            try {
                f = ModelExport.Format.parse(format);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
            }
            RegistryClient c = parent.root.client();
            Hash versionHash = version.matches("[0-9a-fA-F]{64}")
                    ? Hash.fromHex(version.toLowerCase(java.util.Locale.ROOT))
                    : Hash.fromHex(c.model(version).latestVersionHash());
            VersionInfo v = c.version(versionHash);
            ModelInfo m = c.model(v.modelId());
            byte[] bytes = c.weights(versionHash);
            if (!Hash.sha256(bytes).toHex().equals(v.weightsHash())) {
                throw new IllegalStateException("the registry's weights of version " + v.versionHash()
                        + " do not match its weights hash " + v.weightsHash());
            }
            float[] weights = ModelWeights.decode(bytes);
            java.util.Optional<ModelLayout> registered = c.modelLayout(m.modelId());
            ModelLayout layout;
            if (registered.isPresent()) {
                layout = registered.get();
            } else if (f == ModelExport.Format.SAFETENSORS) {
                layout = ModelLayouts.flat(weights.length);
            } else {
                throw new IllegalStateException(
                        "model " + m.modelId() + " was registered without a layout, so its versions cannot be "
                                + "written as DJL files (register it with DjlTrainer.layout(); --format safetensors writes one flat tensor)");
            }
            Map<String, String> metadata = ModelExport.metadata(m, v);
            byte[] file = f == ModelExport.Format.DJL
                    ? ModelExport.djlParams(weights, layout, m.modelId(), metadata)
                    : ModelExport.safetensors(weights, layout, metadata);
            String name = ModelExport.fileName(m.modelId(), v.sequence(), f);
            boolean directory =
                    output != null && (Files.isDirectory(output) || rawOutput().endsWith("/"));
            Path target = output == null ? Path.of(name) : directory ? output.resolve(name) : output;
            if (target.toAbsolutePath().getParent() != null) {
                Files.createDirectories(target.toAbsolutePath().getParent());
            }
            if (Files.exists(target) && !force) {
                throw new java.nio.file.FileAlreadyExistsException(
                        target.toString(), null, "exists; --force overwrites it");
            }
            Files.write(target, file);
            PrintWriter out = parent.root.out();
            out.printf(
                    "wrote %s: %s, %d tensors, %d parameters, version %s (model %s, sequence %d)%n",
                    target,
                    f.name().toLowerCase(java.util.Locale.ROOT),
                    layout.getTensors().size(),
                    weights.length,
                    v.versionHash(),
                    m.modelId(),
                    v.sequence());
            if (f == ModelExport.Format.DJL) {
                // DJL's Model.load(dir, prefix) reads <prefix>-NNNN.params or <prefix>.params
                String fileName = target.getFileName().toString();
                String prefix = fileName.endsWith(".params")
                        ? fileName.substring(0, fileName.length() - ".params".length())
                        : fileName;
                prefix = prefix.replaceFirst("-\\d{4}$", "");
                out.printf(
                        "load it with: model.setBlock(<the same block>); model.load(Path.of(\"%s\"), \"%s\"); "
                                + "model.getProperty(\"%s\")%n",
                        target.toAbsolutePath().getParent(), prefix, ModelExport.VERSION_HASH);
                if (!fileName.endsWith(".params")) {
                    out.printf(
                            "(DJL reads only files named <prefix>.params or <prefix>-NNNN.params: rename %s)%n",
                            fileName);
                }
            } else {
                out.printf(
                        "load it with: safetensors.numpy.load_file(\"%s\") (or safetensors.torch); metadata: safe_open(...).metadata()%n",
                        target);
            }
            return 0;
        }

        /** {@code -o} as typed: a trailing slash (which {@link Path} drops) names a directory. */
        private String rawOutput() {
            Object v = spec.findOption("--output").originalStringValues().stream()
                    .reduce((a, b) -> b)
                    .orElse("");
            return v.toString();
        }
    }

    // ------------------------------------------------------------ round

    /** {@code fedseal round ...}. */
    @Command(
            name = "round",
            description = "Open and follow training and federated evaluation rounds.",
            mixinStandardHelpOptions = true,
            subcommands = {RoundOpen.class, RoundEvaluate.class, RoundStatus.class, RoundWatch.class})
    static final class RoundCmd {
        @ParentCommand
        FedsealCli root;
    }

    /** {@code fedseal ceremony}. */
    @Command(
            name = "ceremony",
            description = "Threshold key ceremonies: open one, follow it.",
            mixinStandardHelpOptions = true,
            subcommands = {CeremonyOpen.class, CeremonyShow.class})
    static final class CeremonyCmd {
        @ParentCommand
        FedsealCli root;
    }

    /** {@code fedseal ceremony open}. */
    @Command(
            name = "open",
            mixinStandardHelpOptions = true,
            description = {
                "Open a key ceremony for a threshold model (parameter set ckks-8192-t50-v1).",
                "The named key holders (enrolled clients) then run it over Kafka; the model's HE public key is the",
                "collective key once every holder has revealed the key share it committed to."
            })
    static final class CeremonyOpen implements Callable<Integer> {
        @ParentCommand
        CeremonyCmd parent;

        @Option(names = "--model", required = true, description = "Model id.")
        String model;

        @Option(
                names = "--holders",
                required = true,
                split = ",",
                description = "The n key holders' client ids, comma-separated (n >= 2).")
        List<String> holders;

        @Option(names = "--id", description = "Ceremony id (default: <model>-ceremony-<k>).")
        String ceremonyId;

        @Override
        public Integer call() {
            CeremonyInfo c = parent.root.client().openCeremony(model, ceremonyId, holders);
            parent.root
                    .out()
                    .printf(
                            "opened key ceremony %s for %s with %d holders %s%n",
                            c.ceremonyId(), c.modelId(), c.holderIds().size(), c.holderIds());
            return 0;
        }
    }

    /** {@code fedseal ceremony show}. */
    @Command(
            name = "show",
            description = "Show a key ceremony: phases, rejected messages, collective key.",
            mixinStandardHelpOptions = true)
    static final class CeremonyShow implements Callable<Integer> {
        @ParentCommand
        CeremonyCmd parent;

        @Parameters(index = "0", description = "Ceremony id.")
        String ceremonyId;

        @Override
        public Integer call() {
            CeremonyInfo c = parent.root.client().ceremony(ceremonyId);
            PrintWriter out = parent.root.out();
            out.printf(
                    "ceremony %s  model %s  %s  status %s%n", c.ceremonyId(), c.modelId(), c.heParamsId(), c.status());
            out.printf("holders  %s%n", String.join(", ", c.holderIds()));
            c.sent()
                    .forEach((phase, who) -> out.printf(
                            "  %-22s %d/%d %s%n",
                            phase, who.size(), c.holderIds().size(), who));
            for (CeremonyInfo.Rejection r : c.rejections()) {
                out.printf("  rejected %s of %s: %s (%s)%n", r.phase(), r.holderId(), r.reason(), r.detail());
            }
            if (c.publicKeyHash() != null) {
                out.printf("collective public key %s%n", c.publicKeyHash());
            }
            if (c.failure() != null) {
                out.printf("failed: %s%n", c.failure());
            }
            return "failed".equals(c.status()) ? 1 : 0;
        }
    }

    /** {@code fedseal round open}. */
    @Command(name = "open", description = "Open the next round of a model.", mixinStandardHelpOptions = true)
    static final class RoundOpen implements Callable<Integer> {
        @ParentCommand
        RoundCmd parent;

        @Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = "--model", required = true, description = "Model id.")
        String model;

        @Option(names = "--quorum", required = true, description = "Minimum accepted updates.")
        int quorum;

        @Option(
                names = "--deadline",
                defaultValue = "PT10M",
                description = "Deadline from now, ISO-8601 duration (default ${DEFAULT-VALUE}).")
        Duration deadline;

        @Option(names = "--local-epochs", defaultValue = "1", description = "Local epochs (default ${DEFAULT-VALUE}).")
        int localEpochs;

        @Option(
                names = "--ciphertexts-per-chunk",
                defaultValue = "6",
                description = "Ciphertexts per update chunk (default ${DEFAULT-VALUE}).")
        int perChunk;

        @Option(names = "--clip-norm", description = "L2 bound every client clips its delta to (default, or 0: 1.0).")
        double clipNorm;

        @Option(
                names = "--max-total-weight",
                description = "Largest total weight (samples) of the round "
                        + "(default, or 0: the largest the parameter set's headroom allows at the clip norm).")
        long maxTotalWeight;

        @Option(
                names = "--max-update-weight",
                description = "Largest weight one update may declare (default, or 0: max total weight / quorum).")
        long maxUpdateWeight;

        @Option(
                names = "--learning-rate",
                description = "Clients' learning rate for this round (default, or 0: each trainer's own).")
        double learningRate;

        @Option(
                names = "--batch-size",
                description = "Clients' minibatch size for this round (default, or 0: each trainer's own).")
        int batchSize;

        @Option(
                names = "--proximal-mu",
                description =
                        "FedProx proximal coefficient mu: clients minimise loss + mu/2 * ||w - w_base||^2 "
                                + "(Li et al., MLSys 2020; default 0: plain local training). With SGD keep learning rate x mu < 2.")
        double proximalMu;

        @Option(
                names = "--fraction",
                defaultValue = "1.0",
                description =
                        "Fraction of the model's enrolled clients sampled for the round, in (0, 1] "
                                + "(default ${DEFAULT-VALUE}: every enrolled client may submit). The sample is derived from the round record (ClientSampling) "
                                + "and re-checked by 'fedseal audit verify'; updates of other clients are rejected NOT_SAMPLED.")
        double fraction;

        @Option(
                names = "--min-clients",
                description = "Smallest sample, capped at the number of enrolled clients (default 0).")
        int minClients;

        @Option(
                names = "--noise-multiplier",
                paramLabel = "Z",
                description =
                        "Distributed differential privacy: the decrypted sum carries "
                                + "Gaussian noise of std Z x clip norm (each client adds a 1/quorum share of the variance and sends weight 1). "
                                + "Required (> 0) on a model with a privacy budget; the round is refused if it would pass the budget (default 0: no noise).")
        double noiseMultiplier;

        @Option(
                names = "--compact",
                description =
                        "Compact updates: clients mask each block of 8,192 values with one-polynomial RLWE (a fresh key per update,"
                                + " sent once under the model's public key) instead of CKKS-encrypting every value: 4-5 bytes per parameter"
                                + " instead of 16. The registry sizes the round's modulus from the clip norm (or --clip-value) x maxTotalWeight.")
        boolean compact;

        @Option(
                names = "--scale-bits",
                defaultValue = "" + RoundOptions.DEFAULT_MASK_SCALE_BITS,
                description =
                        "With --compact: values travel as round(2^BITS x value), 1..50 (default ${DEFAULT-VALUE}).")
        int scaleBits;

        @Option(
                names = "--clip-value",
                description =
                        "Bound on every single value of a client's delta (clients clamp to it); sizes a compact round's modulus"
                                + " tighter than the clip norm alone (default 0: none).")
        double clipValue;

        @Override
        public Integer call() {
            RoundOptions options;
            try {
                options = new RoundOptions(
                        learningRate,
                        batchSize,
                        proximalMu,
                        fraction,
                        minClients,
                        noiseMultiplier,
                        clipValue,
                        compact ? scaleBits : 0);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
            }
            RoundInfo r = parent.root
                    .client()
                    .openRound(
                            model,
                            quorum,
                            deadline,
                            localEpochs,
                            perChunk,
                            clipNorm,
                            maxTotalWeight,
                            maxUpdateWeight,
                            options);
            parent.root
                    .out()
                    .printf(
                            "opened round %d of %s (quorum %d, base %s)%s%n",
                            r.round(),
                            r.modelId(),
                            r.quorum(),
                            r.baseModelHash(),
                            r.published() ? ", RoundOpened published" : ", NOT published to Kafka");
            parent.root
                    .out()
                    .printf(
                            "bounds: clip norm %s, max update weight %d, max total weight %d (headroom %.6g >= %.6g)%n",
                            r.clipNorm(),
                            r.maxUpdateWeight(),
                            r.maxTotalWeight(),
                            r.sumNormBound(),
                            r.clipNorm() * r.maxTotalWeight());
            if (compact) {
                org.fedseal.protocol.wire.RoundOpened record =
                        parent.root.client().roundRecord(model, r.round());
                int bits = 64 - Long.numberOfLeadingZeros(record.getMaskModulus());
                parent.root
                        .out()
                        .printf(
                                "compact updates: masked modulo a %d-bit prime (%d), values at scale 2^%d: %.2f bytes per"
                                        + " parameter plus one key ciphertext per update%n",
                                bits, record.getMaskModulus(), record.getMaskScaleBits(), bits / 8.0);
            }
            if (noiseMultiplier > 0) {
                parent.root
                        .out()
                        .printf(
                                "distributed DP: the sum carries noise of std %s x clip norm (each of the quorum's %d clients adds "
                                        + "std %.4g x clip norm; updates weigh 1)%n",
                                noiseMultiplier, r.quorum(), noiseMultiplier / Math.sqrt(r.quorum()));
            }
            if (r.learningRate() > 0 || r.batchSize() > 0 || r.proximalMu() > 0) {
                parent.root
                        .out()
                        .printf(
                                "client config: learning rate %s, batch size %s, proximal mu %s%n",
                                r.learningRate() > 0 ? r.learningRate() : "trainer's own",
                                r.batchSize() > 0 ? r.batchSize() : "trainer's own",
                                r.proximalMu());
            }
            if (!r.sampledClients().isEmpty()) {
                parent.root
                        .out()
                        .printf(
                                "sampled %d clients (fraction %s, minimum %d): %s%n",
                                r.sampledClients().size(),
                                r.samplingFraction(),
                                r.minSampledClients(),
                                String.join(", ", r.sampledClients()));
            }
            return 0;
        }
    }

    /** {@code fedseal round evaluate}. */
    @Command(
            name = "evaluate",
            // not mixinStandardHelpOptions: its --version (print the tool's version) would clash with
            // this command's --version HASH

            description = {
                "Open the next round of a model as a federated evaluation round of a version (default: the latest).",
                "Clients evaluate that version on their own data and send encrypted sums (examples, correct predictions,",
                "loss) through the same pipeline as updates; the key holder decrypts only the totals and records the",
                "federated accuracy and loss with the version (fedseal model versions). No new version comes out of it.",
                "A client whose mean loss is above --loss-bound refuses to take part rather than send clipped, wrong sums."
            })
    static final class RoundEvaluate implements Callable<Integer> {
        @ParentCommand
        RoundCmd parent;

        @Option(
                names = {"-h", "--help"},
                usageHelp = true,
                description = "Show this help message and exit.")
        boolean help;

        @Parameters(index = "0", paramLabel = "MODEL", description = "Model id.")
        String model;

        @Option(
                names = "--version",
                paramLabel = "HASH",
                description = "Version hash to evaluate (default: the model's latest).")
        String version;

        @Option(names = "--quorum", required = true, description = "Minimum accepted evaluation sums.")
        int quorum;

        @Option(
                names = "--deadline",
                defaultValue = "PT10M",
                description = "Deadline from now, ISO-8601 duration (default ${DEFAULT-VALUE}).")
        Duration deadline;

        @Option(
                names = "--loss-bound",
                description = "Largest mean loss a client may report (default, or 0: 10); "
                        + "the round's clip norm is sqrt(3 + bound^2).")
        double lossBound;

        @Option(
                names = "--max-total-weight",
                description = "Largest total number of examples "
                        + "(default, or 0: the largest the parameter set's headroom allows).")
        long maxTotalWeight;

        @Option(
                names = "--max-update-weight",
                description = "Largest number of examples of one client (default, or 0: max total weight).")
        long maxUpdateWeight;

        @Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            Hash v = null;
            if (version != null) {
                if (!version.matches("[0-9a-fA-F]{64}")) {
                    throw new CommandLine.ParameterException(
                            spec.commandLine(), "--version must be a version hash (64 hex digits)");
                }
                v = Hash.fromHex(version.toLowerCase(java.util.Locale.ROOT));
            }
            RoundInfo r = parent.root
                    .client()
                    .openEvaluationRound(model, v, quorum, deadline, lossBound, maxTotalWeight, maxUpdateWeight);
            parent.root
                    .out()
                    .printf(
                            "opened evaluation round %d of %s (quorum %d, version %s)%s%n",
                            r.round(),
                            r.modelId(),
                            r.quorum(),
                            r.baseModelHash(),
                            r.published() ? ", RoundOpened published" : ", NOT published to Kafka");
            parent.root
                    .out()
                    .printf(
                            "bounds: clip norm %s (loss bound %.6g), max examples per client %d, in all %d%n",
                            r.clipNorm(),
                            Math.sqrt(Math.max(0, r.clipNorm() * r.clipNorm() - 3)),
                            r.maxUpdateWeight(),
                            r.maxTotalWeight());
            return 0;
        }
    }

    /** {@code fedseal round status}. */
    @Command(name = "status", description = "Show a round's status.", mixinStandardHelpOptions = true)
    static final class RoundStatus implements Callable<Integer> {
        @ParentCommand
        RoundCmd parent;

        @Option(names = "--model", required = true, description = "Model id.")
        String model;

        @Option(names = "--round", description = "Round number (default: latest).")
        Integer round;

        @Override
        public Integer call() {
            RoundInfo r = resolve(parent.root.client(), model, round);
            PrintWriter out = parent.root.out();
            out.printf("round %s/%d: %s%n", r.modelId(), r.round(), r.status());
            out.printf("  accepted %d / quorum %d, rejected %d%n", r.acceptedCount(), r.quorum(), r.rejectedCount());
            out.printf("  participants: %s%n", r.participants().isEmpty() ? "-" : String.join(", ", r.participants()));
            if (!r.sampledClients().isEmpty()) {
                out.printf(
                        "  sampled (fraction %s): %s%n", r.samplingFraction(), String.join(", ", r.sampledClients()));
            }
            out.printf(
                    "  deadline in %ds%s%n",
                    Math.max(0, (r.deadlineEpochMillis() - System.currentTimeMillis()) / 1000),
                    r.latencyMillis() == null ? "" : ", latency " + r.latencyMillis() + " ms");
            if (r.aggregateHash() != null) {
                out.printf("  aggregate %s%n", r.aggregateHash());
            }
            return 0;
        }
    }

    /** {@code fedseal round watch}. */
    @Command(name = "watch", description = "Show a progress bar while a round fills.", mixinStandardHelpOptions = true)
    static final class RoundWatch implements Callable<Integer> {
        @ParentCommand
        RoundCmd parent;

        @Option(names = "--model", required = true, description = "Model id.")
        String model;

        @Option(names = "--round", description = "Round number (default: latest).")
        Integer round;

        @Option(names = "--interval", defaultValue = "PT1S", description = "Poll interval (default ${DEFAULT-VALUE}).")
        Duration interval;

        @Option(names = "--timeout", description = "Give up after this long (exit 1).")
        Duration timeout;

        @Override
        public Integer call() throws InterruptedException {
            RegistryClient c = parent.root.client();
            PrintWriter out = parent.root.out();
            long end = timeout == null ? Long.MAX_VALUE : System.currentTimeMillis() + timeout.toMillis();
            while (true) {
                RoundInfo r = resolve(c, model, round);
                int width = 30;
                int filled = (int) Math.min(width, (long) width * r.acceptedCount() / Math.max(1, r.quorum()));
                out.printf(
                        "\r[%s%s] %d/%d accepted, %d rejected, %s   ",
                        "#".repeat(filled),
                        ".".repeat(width - filled),
                        r.acceptedCount(),
                        r.quorum(),
                        r.rejectedCount(),
                        r.status());
                out.flush();
                if (!"open".equals(r.status())) {
                    out.println();
                    out.printf(
                            "round %d %s%s%n",
                            r.round(),
                            r.status(),
                            r.latencyMillis() == null ? "" : " after " + r.latencyMillis() + " ms");
                    return "closed".equals(r.status()) ? 0 : 1;
                }
                if (System.currentTimeMillis() > end) {
                    out.println();
                    out.println("timed out");
                    return 1;
                }
                Thread.sleep(interval.toMillis());
            }
        }
    }

    static RoundInfo resolve(RegistryClient c, String model, Integer round) {
        if (round != null) {
            return c.roundStatus(model, round);
        }
        List<RoundInfo> all = c.rounds(model);
        if (all.isEmpty()) {
            throw new RegistryException(404, "not_found", "model " + model + " has no rounds");
        }
        return all.get(all.size() - 1);
    }

    // ------------------------------------------------------------ audit

    /** {@code fedseal audit ...}. */
    @Command(
            name = "audit",
            description = "Verify the registry independently (exit 0 = PASS, 1 = FAIL).",
            mixinStandardHelpOptions = true,
            subcommands = {AuditVerify.class, AuditProve.class, AuditRecompute.class})
    static final class AuditCmd {
        @ParentCommand
        FedsealCli root;

        @Option(
                names = "--log-key",
                scope = CommandLine.ScopeType.INHERIT,
                description = "Pinned registry log key (base64 X.509); default: from --sth-file, else as served.")
        String logKey;
    }

    static int report(PrintWriter out, Auditor.Result r) {
        r.notes().forEach(n -> out.println("  " + n));
        out.println(r.ok() ? "PASS " + r.message() : "FAIL " + r.message());
        out.flush();
        return r.ok() ? 0 : 1;
    }

    /** {@code fedseal audit verify}. */
    @Command(
            name = "verify",
            description = "Re-check the whole log and every version's lineage against a signed tree head.",
            mixinStandardHelpOptions = true)
    static final class AuditVerify implements Callable<Integer> {
        @ParentCommand
        AuditCmd parent;

        @Option(
                names = "--sth-file",
                description = "A tree head saved earlier (with --save-sth); the log must be consistent with it.")
        Path sthFile;

        @Option(names = "--save-sth", description = "After a PASS, save the verified tree head and log key here.")
        Path saveSth;

        @Override
        public Integer call() throws Exception {
            RegistryClient c = parent.root.client();
            SigningPublicKey pinned = parent.logKey == null
                    ? null
                    : SigningPublicKey.fromX509(Base64.getDecoder().decode(parent.logKey));
            SignedTreeHead previous = null;
            if (sthFile != null) {
                JsonNode n = JSON.readTree(Files.readAllBytes(sthFile));
                previous = RegistryClient.sthFrom(n);
                if (pinned == null && n.hasNonNull("logKey")) {
                    pinned = SigningPublicKey.fromX509(
                            Base64.getDecoder().decode(n.get("logKey").asText()));
                }
            }
            Auditor.Result r = new Auditor(c).verify(pinned, previous);
            int code = report(parent.root.out(), r);
            if (code == 0 && saveSth != null) {
                saveTreeHead(c, saveSth, pinned);
                parent.root.out().println("saved tree head to " + saveSth);
            }
            return code;
        }
    }

    /** Saves the registry's current tree head with its log key as JSON. */
    static void saveTreeHead(RegistryClient c, Path file, SigningPublicKey key) throws java.io.IOException {
        SignedTreeHead sth = c.signedTreeHead();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("treeSize", sth.getTreeSize());
        m.put("rootHash", Hash.of(sth.getRootHash()).toHex());
        m.put("record", Base64.getEncoder().encodeToString(WireCodec.UNBOUNDED.encode(sth)));
        m.put("logKey", Base64.getEncoder().encodeToString((key != null ? key : c.logPublicKey()).toX509()));
        Files.write(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(m));
    }

    /** {@code fedseal audit prove}. */
    @Command(
            name = "prove",
            description = "Prove that an update was accepted (inclusion proof, verified locally).",
            mixinStandardHelpOptions = true)
    static final class AuditProve implements Callable<Integer> {
        @ParentCommand
        AuditCmd parent;

        @Option(
                names = "--update",
                required = true,
                description = "Update hash (hex, canonical hash of the UpdateCommit).")
        String update;

        @Override
        public Integer call() {
            SigningPublicKey pinned = parent.logKey == null
                    ? null
                    : SigningPublicKey.fromX509(Base64.getDecoder().decode(parent.logKey));
            return report(parent.root.out(), new Auditor(parent.root.client()).prove(Hash.fromHex(update), pinned));
        }
    }

    /** {@code fedseal audit recompute}. */
    @Command(
            name = "recompute",
            description = "Re-sum the archived accepted updates of a round and compare with the published aggregate.",
            mixinStandardHelpOptions = true)
    static final class AuditRecompute implements Callable<Integer> {
        @ParentCommand
        AuditCmd parent;

        @Option(names = "--model", required = true, description = "Model id.")
        String model;

        @Option(names = "--round", required = true, description = "Round number.")
        int round;

        @Override
        public Integer call() {
            return report(parent.root.out(), new Auditor(parent.root.client()).recompute(model, round));
        }
    }

    // ------------------------------------------------------------ registry serve

    /** {@code fedseal registry ...}. */
    @Command(
            name = "registry",
            description = "Run the registry service.",
            mixinStandardHelpOptions = true,
            subcommands = {Serve.class})
    static final class RegistryCmd {
        @ParentCommand
        FedsealCli root;
    }

    /** {@code fedseal registry serve}. */
    @Command(
            name = "serve",
            mixinStandardHelpOptions = true,
            description = {
                "Start the registry (until interrupted).",
                "Config: --config FILE (.properties or .yaml), environment variables (key upper-cased, '.'/'-' -> '_',",
                "e.g. FEDSEAL_REGISTRY_PORT), then the options below. Keys: fedseal.registry.{port, bind, data-dir,",
                "jdbc.url, jdbc.user, jdbc.password, token, kafka.bootstrap-servers, kafka.group-id, topic.rounds,",
                "topic.updates, topic.aggregates, topic.accepted, topic.rejects, topic.enrollments, topic.model-versions,",
                "archive.updates, archive.retention-rounds, http.max-body-bytes}."
            })
    static final class Serve implements Callable<Integer> {
        @ParentCommand
        RegistryCmd parent;

        @Option(names = "--config", description = "Config file (.properties, .yaml).")
        Path config;

        @Option(names = "--port", description = "HTTP port.")
        Integer port;

        @Option(names = "--bind", description = "Bind address.")
        String bind;

        @Option(names = "--data-dir", description = "Data directory.")
        Path dataDir;

        @Option(names = "--jdbc-url", description = "JDBC URL (default SQLite in the data dir).")
        String jdbcUrl;

        @Option(names = "--kafka", description = "Kafka bootstrap servers.")
        String kafka;

        @Override
        public Integer call() throws InterruptedException {
            RegistryServer.Builder b = RegistryServer.builder(RegistryConfig.load(config, System.getenv()));
            if (port != null) {
                b.port(port);
            }
            if (bind != null) {
                b.bindAddress(bind);
            }
            if (dataDir != null) {
                b.dataDir(dataDir);
            }
            if (jdbcUrl != null) {
                b.jdbcUrl(jdbcUrl);
            }
            if (kafka != null) {
                b.kafkaBootstrapServers(kafka);
            }
            RegistryServer server = b.build().start();
            CountDownLatch done = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                server.stop();
                done.countDown();
            }));
            parent.root
                    .out()
                    .println("registry listening on " + server.uri() + " (log key "
                            + server.logPublicKey().fingerprint() + ")");
            parent.root.out().flush();
            done.await();
            return 0;
        }
    }
}
