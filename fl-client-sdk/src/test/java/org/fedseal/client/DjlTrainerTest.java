package org.fedseal.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.dataset.Batch;
import ai.djl.training.dataset.Dataset;
import ai.djl.training.loss.L1Loss;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.util.Progress;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.fedseal.client.internal.DjlSupport;
import org.fedseal.protocol.ModelLayouts;
import org.fedseal.protocol.wire.DjlParamsTemplate;
import org.fedseal.protocol.wire.ModelLayout;
import org.fedseal.protocol.wire.TensorSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link DjlTrainer} beyond the MLP: a CNN on image-shaped rows, regression on a DJL
 * {@link ArrayDataset} with Adam and an extra evaluator, a data set that is not random-access, and
 * the layout whose DJL template rebuilds exactly what DJL's own {@code Model.save} writes.
 */
class DjlTrainerTest {
    @Test
    void leNet5TrainsOnImageShapedMnistRows() {
        LocalDataset all = Mnist2500.load();
        try (DjlTrainer t = DjlTrainer.builder()
                .block(DjlTrainer.leNet5(10))
                .dataset(all.range(0, 600))
                .featureShape(1, 28, 28)
                .learningRate(0.1f)
                .batchSize(32)
                .build()) {
            assertEquals(61_706, t.parameterCount());
            assertArrayEquals(new Shape[] {new Shape(1, 1, 28, 28)}, t.inputShapes());
            float[] base = t.initialParameters(42);
            LocalUpdate u = t.fit(base, 2);
            assertEquals(600, u.weight());
            assertTrue(
                    u.metrics().get(LocalUpdate.METRIC_ACCURACY) > 0.3,
                    u.metrics().toString());
            LocalDataset test = all.range(2000, 2500);
            double before = t.accuracy(base, test);
            double after = t.accuracy(DjlTrainer.add(base, u.delta()), test);
            assertTrue(after > before + 0.3, before + " -> " + after);
            Map<String, Double> eval = t.evaluate(DjlTrainer.add(base, u.delta()), test);
            assertEquals(after, eval.get(LocalUpdate.METRIC_ACCURACY), 1e-9);
            assertTrue(eval.get(LocalUpdate.METRIC_LOSS) > 0);
        }
    }

    /** y = x·w + 0.5 + noise: Adam on L2 loss over two fits lowers the test loss; the L1 evaluator is reported. */
    @Test
    void regressionOnAnArrayDatasetWithAdamAndAnEvaluator() {
        DjlTrainer.prepareEngine(1);
        Random rnd = new Random(3);
        int n = 400;
        int features = 5;
        float[] w = {1.5f, -2f, 0.5f, 0f, 3f};
        float[] x = new float[n * features];
        float[] y = new float[n];
        for (int i = 0; i < n; i++) {
            double s = 0.5;
            for (int j = 0; j < features; j++) {
                x[i * features + j] = (float) rnd.nextGaussian();
                s += w[j] * x[i * features + j];
            }
            y[i] = (float) (s + 0.05 * rnd.nextGaussian());
        }
        try (NDManager m = NDManager.newBaseManager(DjlTrainer.ENGINE)) {
            ArrayDataset train = new ArrayDataset.Builder()
                    .setData(m.create(x, new Shape(n, features)))
                    .optLabels(m.create(y, new Shape(n, 1)))
                    .setSampling(16, true)
                    .build();
            ArrayDataset test = new ArrayDataset.Builder()
                    .setData(m.create(x, new Shape(n, features)))
                    .optLabels(m.create(y, new Shape(n, 1)))
                    .setSampling(100, false)
                    .build();
            try (DjlTrainer t = DjlTrainer.builder()
                    .block(DjlTrainer.mlp(features, 1))
                    .dataset(train)
                    .loss(Loss::l2Loss)
                    .optimizer(() -> Optimizer.adam()
                            .optLearningRateTracker(Tracker.fixed(0.05f))
                            .build())
                    .evaluator(() -> new L1Loss("mae"))
                    .build()) {
                assertEquals(n, t.sampleCount());
                assertEquals(features + 1, t.parameterCount());
                float[] p = t.initialParameters(5);
                double before = t.evaluate(p, test).get(LocalUpdate.METRIC_LOSS);
                for (int round = 0; round < 2; round++) {
                    LocalUpdate u = t.fit(p, 3);
                    assertTrue(u.metrics().containsKey("mae"), u.metrics().toString());
                    assertTrue(
                            !u.metrics().containsKey(LocalUpdate.METRIC_ACCURACY), "no accuracy for a regression loss");
                    p = DjlTrainer.add(p, u.delta());
                }
                Map<String, Double> after = t.evaluate(p, test);
                System.out.printf(
                        "regression: L2 loss %.4f -> %.4f, MAE %.4f%n",
                        before, after.get(LocalUpdate.METRIC_LOSS), after.get("mae"));
                assertTrue(after.get(LocalUpdate.METRIC_LOSS) < before / 10, before + " -> " + after);
                assertTrue(after.get("mae") < 0.2, after.toString());
            }
        }
    }

    /** A data set that is only iterable (not random-access): its samples are counted once for the FedAvg weight. */
    @Test
    void anyDatasetIsCountedWhenItHasNoSize() {
        DjlTrainer.prepareEngine(1);
        LocalDataset digits = Mnist2500.load().range(0, 100);
        try (NDManager m = NDManager.newBaseManager(DjlTrainer.ENGINE)) {
            ArrayDataset inner = DjlTrainer.arrayDataset(m, digits, new Shape(784), 25, true);
            Dataset iterableOnly = new Dataset() {
                @Override
                public Iterable<Batch> getData(NDManager manager)
                        throws java.io.IOException, ai.djl.translate.TranslateException {
                    return inner.getData(manager);
                }

                @Override
                public void prepare(Progress progress) {}
            };
            try (DjlTrainer t = DjlTrainer.builder()
                    .block(DjlTrainer.mlp(784, 10, 16))
                    .dataset(iterableOnly)
                    .build()) {
                assertEquals(100, t.sampleCount());
                LocalUpdate u = t.fit(t.initialParameters(1), 1);
                assertEquals(100, u.weight());
                assertTrue(u.metrics().containsKey(LocalUpdate.METRIC_ACCURACY));
            }
        }
    }

    @Test
    void builderRefusesContradictions() {
        LocalDataset d = Mnist2500.load().range(0, 10);
        assertThrows(
                IllegalStateException.class,
                () -> DjlTrainer.builder()
                        .block(DjlTrainer.mlp(784, 10))
                        .dataset(d)
                        .learningRate(0.1f)
                        .optimizer(() -> Optimizer.adam().build())
                        .build());
        assertThrows(
                IllegalArgumentException.class,
                () -> DjlTrainer.builder()
                        .block(DjlTrainer.mlp(784, 10))
                        .dataset(d)
                        .featureShape(1, 28, 27)
                        .build());
        assertThrows(
                IllegalStateException.class,
                () -> DjlTrainer.builder().dataset(d).build());
    }

    /**
     * The layout names every parameter tensor, and its DJL template plus the weights rebuild,
     * byte for byte, the file DJL's {@code Model.save} writes for the same block and weights.
     */
    @Test
    void layoutRebuildsWhatDjlSaves(@TempDir Path dir) throws Exception {
        try (DjlTrainer t = DjlTrainer.builder()
                .block(DjlTrainer.leNet5(10))
                .dataset(Mnist2500.load().range(0, 10))
                .featureShape(1, 28, 28)
                .build()) {
            ModelLayout layout = t.layout();
            assertEquals(t.parameterCount(), ModelLayouts.parameterCount(layout));
            assertEquals(10, layout.getTensors().size());
            assertEquals("01Conv2d_weight", layout.getTensors().get(0).getName());
            assertEquals(List.of(6L, 1L, 5L, 5L), layout.getTensors().get(0).getShape());
            assertEquals(List.of(10L), layout.getTensors().get(9).getShape());
            ModelLayout decoded = ModelLayouts.decode(ModelLayouts.encode(layout));
            assertEquals(layout, decoded);

            float[] weights = t.initialParameters(99);
            Path saved;
            try (Model model = Model.newInstance("lenet", DjlTrainer.ENGINE)) {
                Block block = DjlTrainer.leNet5(10).get();
                model.setBlock(block);
                block.initialize(model.getNDManager(), ai.djl.ndarray.types.DataType.FLOAT32, t.inputShapes());
                DjlSupport.load(block, weights);
                model.save(dir, "lenet");
                saved = dir.resolve("lenet-0000.params");
            }
            assertArrayEquals(Files.readAllBytes(saved), rebuild(decoded, weights, "lenet"));
        }
    }

    /** What BaseModel.save writes, from the template alone (no properties). */
    static byte[] rebuild(ModelLayout layout, float[] weights, String name) throws Exception {
        DjlParamsTemplate djl = layout.getDjl();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeBytes("DJL@");
        out.writeInt(1);
        out.writeUTF(name);
        out.writeUTF("FLOAT32");
        out.write(bytesOf(djl.getInputs()));
        out.writeInt(0);
        byte[] structure = bytesOf(djl.getBlockParameters());
        int from = 0;
        int at = 0;
        for (int i = 0; i < layout.getTensors().size(); i++) {
            TensorSpec spec = layout.getTensors().get(i);
            int offset = Math.toIntExact(djl.getDataOffsets().get(i));
            out.write(structure, from, offset - from);
            int n = Math.toIntExact(ModelLayouts.elementCount(spec));
            ByteBuffer data = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
            data.asFloatBuffer().put(weights, at, n);
            out.write(data.array());
            at += n;
            from = offset;
        }
        out.write(structure, from, structure.length - from);
        out.flush();
        return bytes.toByteArray();
    }

    static byte[] bytesOf(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }
}
