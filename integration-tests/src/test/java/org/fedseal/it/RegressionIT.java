package org.fedseal.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.loss.L1Loss;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.util.Pair;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.fedseal.client.BaseModel;
import org.fedseal.client.DjlTrainer;
import org.fedseal.client.FederatedClient;
import org.fedseal.client.LocalUpdate;
import org.fedseal.client.UpdatePolicy;
import org.fedseal.coordinator.RegistryModelSource;
import org.fedseal.demo.Diabetes;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.ModelLayouts;
import org.fedseal.protocol.RoundBounds;
import org.fedseal.protocol.wire.AggregatePublished;
import org.fedseal.protocol.wire.AggregateStatus;
import org.fedseal.protocol.wire.ModelLayout;
import org.fedseal.protocol.wire.RoundOpened;
import org.fedseal.protocol.wire.TensorSpec;
import org.fedseal.registry.ModelExport;
import org.fedseal.registry.RegistryClient;
import org.fedseal.registry.VersionInfo;
import org.fedseal.registry.cli.FedsealCli;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Regression end to end, on the diabetes data set scikit-learn ships (442 patients, 10 features;
 * {@link Diabetes}): three clients train a 10-16-1 MLP on DJL {@link ArrayDataset}s with L2 loss,
 * Adam and an L1 evaluator, encrypt with SEAL, send over Kafka; the Flink job sums; the key holder
 * decrypts and publishes each round's version. Every round's decrypted mean must equal the
 * plaintext weighted mean of the very same clipped deltas within 1e-6, and the held-out loss must
 * fall. The last version is then exported with {@code fedseal model export}: DJL's
 * {@code Model.load} reads the {@code .params} file into the same block with the registry's
 * values, shapes and version hash and predicts the same loss; the safetensors file is read by the
 * reference Python implementation and compared bit for bit.
 */
class RegressionIT {
    static final int TRAIN = 352;
    static final int CLIENTS = 3;
    static final int ROUNDS = 3;
    static final int LOCAL_EPOCHS = 2;
    static final String MODEL = "it-diabetes";

    @TempDir
    Path dir;

    static ArrayDataset dataset(NDManager m, Diabetes.Table t, int batch, boolean shuffle) {
        return new ArrayDataset.Builder()
                .setData(m.create(t.features(), new Shape(t.size(), Diabetes.FEATURES)))
                .optLabels(m.create(t.targets(), new Shape(t.size(), 1)))
                .setSampling(batch, shuffle)
                .build();
    }

    static DjlTrainer trainer(Supplier<Block> block, ArrayDataset data) {
        return DjlTrainer.builder()
                .block(block)
                .dataset(data)
                .loss(Loss::l2Loss)
                .optimizer(() -> Optimizer.adam()
                        .optLearningRateTracker(Tracker.fixed(0.01f))
                        .build())
                .evaluator(() -> new L1Loss("mae"))
                .build();
    }

    @Test
    void diabetesRoundsDecryptToThePlaintextMeanAndLowerTheLossThenExport() throws Exception {
        Python.executable(); // the venv carries both the data set and the safetensors check
        Diabetes.Split split = Diabetes.split(TRAIN);
        Supplier<Block> block = DjlTrainer.mlp(Diabetes.FEATURES, 1, 16);
        DjlTrainer.prepareEngine(1);
        List<DjlTrainer> trainers = new ArrayList<>();
        try (NDManager data = NDManager.newBaseManager(DjlTrainer.ENGINE)) {
            ArrayDataset test = dataset(data, split.test(), 100, false);
            DjlTrainer evaluator = trainer(block, test);
            trainers.add(evaluator);
            float[] initial = evaluator.initialParameters(7);
            double initialLoss = evaluator.evaluate(initial, test).get(LocalUpdate.METRIC_LOSS);
            ModelLayout layout = evaluator.layout();
            try (Scenario s = new Scenario(
                    SharedDeployment.get(),
                    MODEL,
                    initial,
                    "MLP 10-16-1, ReLU, L2 loss (diabetes regression)",
                    layout)) {
                List<FederatedClient> clients = new ArrayList<>();
                int per = TRAIN / CLIENTS;
                for (int c = 0; c < CLIENTS; c++) {
                    Diabetes.Table part = split.train().range(c * per, c == CLIENTS - 1 ? TRAIN : (c + 1) * per);
                    DjlTrainer t = trainer(block, dataset(data, part, 16, true));
                    trainers.add(t);
                    clients.add(s.client("diabetes-" + c, t));
                }
                RegistryModelSource source = new RegistryModelSource(
                        RegistryClient.create(s.deployment.registry().uri()));
                List<Double> losses = new ArrayList<>(List.of(initialLoss));
                VersionInfo version = null;
                for (int r = 1; r <= ROUNDS; r++) {
                    RoundOpened round = s.open(CLIENTS, Duration.ofMinutes(2), LOCAL_EPOCHS);
                    BaseModel base = source.baseModel(MODEL, Hash.of(round.getBaseModelHash()));
                    double[] weightedSum = new double[initial.length];
                    long totalWeight = 0;
                    for (FederatedClient client : clients) {
                        LocalUpdate update = client.trainOnce(round, base);
                        assertTrue(
                                update.metrics().containsKey("mae"),
                                update.metrics().toString());
                        float[] clipped = UpdatePolicy.clip(
                                update.delta(), client.policy().clipFor(RoundBounds.of(round)));
                        for (int i = 0; i < clipped.length; i++) {
                            weightedSum[i] += (double) update.weight() * clipped[i];
                        }
                        totalWeight += update.weight();
                        client.submit(round, update);
                    }
                    AggregatePublished agg = s.aggregate(round.getRound(), Duration.ofMinutes(2));
                    assertEquals(AggregateStatus.COMPLETED, agg.getStatus());
                    assertEquals(CLIENTS, agg.getParticipants().size());
                    assertEquals(TRAIN, agg.getTotalWeight());
                    assertEquals(totalWeight, agg.getTotalWeight());
                    double[] mean = s.keyHolder.decryptMean(agg, s.chunkSums());
                    double maxError = 0;
                    for (int i = 0; i < mean.length; i++) {
                        maxError = Math.max(maxError, Math.abs(mean[i] - weightedSum[i] / totalWeight));
                    }
                    assertTrue(
                            maxError <= 1e-6,
                            "round " + r + ": decrypted mean differs from the plaintext mean by " + maxError);

                    version = s.publishVersion(agg);
                    float[] params = s.admin.weightsAsFloats(Hash.fromHex(version.versionHash()));
                    Map<String, Double> eval = evaluator.evaluate(params, test);
                    losses.add(eval.get(LocalUpdate.METRIC_LOSS));
                    System.out.printf(
                            "diabetes round %d: max |decrypted - plaintext mean| %.2e, held-out L2 loss %.4f, MAE %.4f (standardized)%n",
                            r, maxError, eval.get(LocalUpdate.METRIC_LOSS), eval.get("mae"));
                }
                System.out.printf("diabetes: held-out L2 loss %s (round 0 .. %d)%n", losses, ROUNDS);
                double last = losses.get(ROUNDS);
                assertTrue(last < 0.5 * initialLoss, "the held-out loss should fall well below round 0's: " + losses);
                for (int r = 1; r <= ROUNDS; r++) {
                    assertTrue(
                            losses.get(r) < losses.get(r - 1), "the held-out loss should fall every round: " + losses);
                }

                exportAndLoadBack(s.deployment.registry().uri().toString(), version, layout, block, split.test(), last);
            }
        } finally {
            trainers.forEach(DjlTrainer::close);
        }
    }

    /** {@code fedseal model export} of {@code version}, read back by DJL and by Python. */
    void exportAndLoadBack(
            String registry,
            VersionInfo version,
            ModelLayout layout,
            Supplier<Block> block,
            Diabetes.Table test,
            double expectedLoss)
            throws Exception {
        float[] weights = RegistryClient.create(java.net.URI.create(registry))
                .weightsAsFloats(Hash.fromHex(version.versionHash()));
        Path out = Files.createDirectories(dir.resolve("export"));
        assertEquals(
                0,
                cli(
                        "model",
                        "export",
                        version.versionHash(),
                        "--format",
                        "djl",
                        "-o",
                        out.toString(),
                        "--registry",
                        registry));
        Path params = out.resolve(ModelExport.fileName(MODEL, version.sequence(), ModelExport.Format.DJL));
        assertTrue(Files.isRegularFile(params), params + " missing");

        try (Model model = Model.newInstance("diabetes", DjlTrainer.ENGINE)) {
            model.setBlock(block.get());
            model.load(out, MODEL);
            assertEquals(version.versionHash(), model.getProperty(ModelExport.VERSION_HASH));
            assertEquals(MODEL, model.getProperty(ModelExport.MODEL_ID));
            List<Float> loaded = new ArrayList<>();
            int i = 0;
            for (Pair<String, Parameter> p : model.getBlock().getParameters()) {
                TensorSpec spec = layout.getTensors().get(i++);
                assertEquals(spec.getName(), p.getKey());
                NDArray a = p.getValue().getArray();
                assertArrayEquals(
                        spec.getShape().stream().mapToLong(Long::longValue).toArray(),
                        a.getShape().getShape(),
                        spec.getName());
                for (float f : a.toFloatArray()) {
                    loaded.add(f);
                }
            }
            float[] loadedValues = new float[loaded.size()];
            for (int k = 0; k < loadedValues.length; k++) {
                loadedValues[k] = loaded.get(k);
            }
            assertArrayEquals(weights, loadedValues, "DJL loaded other values than the registry holds");

            // the loaded model computes the same function: the same held-out L2 loss
            NDManager m = model.getNDManager();
            NDArray x = m.create(test.features(), new Shape(test.size(), Diabetes.FEATURES));
            NDArray y = m.create(test.targets(), new Shape(test.size(), 1));
            NDArray pred = model.getBlock()
                    .forward(new ParameterStore(m, false), new NDList(x), false)
                    .singletonOrThrow();
            double loss = pred.sub(y).square().mean().getFloat() / 2;
            System.out.printf(
                    "DJL Model.load of %s: %d parameters as registered, version hash in its properties, held-out L2 loss %.6f%n",
                    params.getFileName(), loadedValues.length, loss);
            assertEquals(expectedLoss, loss, 1e-5);
        }

        assertEquals(
                0,
                cli(
                        "model",
                        "export",
                        version.versionHash(),
                        "--format",
                        "safetensors",
                        "-o",
                        out.toString(),
                        "--registry",
                        registry));
        Path st = out.resolve(ModelExport.fileName(MODEL, version.sequence(), ModelExport.Format.SAFETENSORS));
        Map<String, Object> tensors = new LinkedHashMap<>();
        int at = 0;
        for (TensorSpec t : layout.getTensors()) {
            int n = Math.toIntExact(ModelLayouts.elementCount(t));
            ByteBuffer b = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
            b.asFloatBuffer().put(Arrays.copyOfRange(weights, at, at + n));
            at += n;
            tensors.put(
                    t.getName(),
                    Map.of("shape", t.getShape(), "f32le", Base64.getEncoder().encodeToString(b.array())));
        }
        String check = Python.checkSafetensors(
                st,
                Map.of(
                        "metadata",
                        Map.of(
                                ModelExport.VERSION_HASH,
                                version.versionHash(),
                                ModelExport.MODEL_ID,
                                MODEL,
                                ModelExport.SEQUENCE,
                                Integer.toString(version.sequence())),
                        "tensors",
                        tensors));
        System.out.println("python: " + check.trim());
        assertTrue(check.startsWith("OK "), check);
    }

    static int cli(String... args) {
        StringWriter out = new StringWriter();
        CommandLine cli = FedsealCli.newCommandLine();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(out));
        int code = cli.execute(args);
        System.out.print(out);
        return code;
    }
}
