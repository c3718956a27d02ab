package org.fedseal.client;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.dataset.Batch;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.translate.TranslateException;
import java.io.IOException;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;
import org.fedseal.client.internal.DjlSupport;

/**
 * A {@link LocalTrainer} on DJL's PyTorch engine (the only DJL engine that trains), fully offline.
 * The developer supplies a {@link Block} factory, a loss, SGD settings and the local data set; the
 * trainer builds a fresh model for every {@link #fit} call, loads the base parameters, runs
 * mini-batch SGD and returns the delta.
 *
 * <p>Needs {@code ai.djl.pytorch:pytorch-engine}, {@code pytorch-native-cpu} (classifier
 * {@code linux-x86_64}) and {@code pytorch-jni} at run time. Before the engine first starts in this
 * JVM, the builder sets {@code ai.djl.offline=true} and {@code ai.djl.pytorch.num_threads} (both only
 * if not already set).
 *
 * <pre>{@code
 * LocalDataset data = Mnist2500.load().range(0, 400);
 * try (DjlTrainer trainer = DjlTrainer.builder()
 *         .block(DjlTrainer.mlp(784, 10, 128))
 *         .dataset(data)
 *         .learningRate(0.1f).batchSize(32)
 *         .build()) {
 *     float[] base = trainer.initialParameters(42);
 *     LocalUpdate u = trainer.fit(base, 1);
 *     double acc = trainer.accuracy(DjlTrainer.add(base, u.delta()), Mnist2500.load().range(2000, 2500));
 * }
 * }</pre>
 */
public final class DjlTrainer implements LocalTrainer {
    /** The DJL engine used. */
    public static final String ENGINE = "PyTorch";

    private final Supplier<Block> blockFactory;
    private final Supplier<Loss> lossFactory;
    private final float learningRate;
    private final int batchSize;
    private final LocalDataset dataset;
    private final int parameterCount;

    private DjlTrainer(Builder b) {
        this.blockFactory = b.blockFactory;
        this.lossFactory = b.lossFactory;
        this.learningRate = b.learningRate;
        this.batchSize = b.batchSize;
        this.dataset = b.dataset;
        this.parameterCount = withModel(null, (trainer, block, manager) -> DjlSupport.count(block));
    }

    /** A new builder. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * A multi-layer perceptron factory: flatten to {@code inputs}, then for each hidden size a
     * linear layer with ReLU, then a linear layer to {@code outputs} logits.
     */
    public static Supplier<Block> mlp(int inputs, int outputs, int... hidden) {
        return () -> {
            SequentialBlock b = new SequentialBlock();
            b.add(Blocks.batchFlattenBlock(inputs));
            for (int h : hidden) {
                b.add(Linear.builder().setUnits(h).build());
                b.add(Activation.reluBlock());
            }
            b.add(Linear.builder().setUnits(outputs).build());
            return b;
        };
    }

    /** {@code a + b}, element-wise, as a new array. */
    public static float[] add(float[] a, float[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("lengths differ: " + a.length + " vs " + b.length);
        }
        float[] out = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i] + b[i];
        }
        return out;
    }

    @Override
    public int parameterCount() {
        return parameterCount;
    }

    @Override
    public long sampleCount() {
        return dataset.size();
    }

    /** The local data set. */
    public LocalDataset dataset() {
        return dataset;
    }

    /**
     * Freshly initialized parameters (the block's own initializers), seeded through the engine's
     * random seed: a starting point for round 0.
     */
    public float[] initialParameters(long seed) {
        Engine.getEngine(ENGINE).setRandomSeed((int) seed);
        return withModel(null, (trainer, block, manager) -> DjlSupport.flatten(block));
    }

    @Override
    public LocalUpdate fit(float[] baseParameters, int epochs) {
        Objects.requireNonNull(baseParameters, "baseParameters");
        if (epochs < 1) {
            throw new IllegalArgumentException("epochs must be >= 1, got " + epochs);
        }
        checkLength(baseParameters);
        if (dataset.size() == 0) {
            throw new IllegalStateException("the local data set is empty");
        }
        return withModel(baseParameters, (trainer, block, manager) -> {
            ArrayDataset data = toDataset(manager, dataset, batchSize, true);
            double lossSum = 0;
            long correct = 0;
            long seen = 0;
            for (int e = 0; e < epochs; e++) {
                lossSum = 0;
                correct = 0;
                seen = 0;
                for (Batch batch : trainer.iterateDataset(data)) {
                    try (batch) {
                        NDList x = batch.getData();
                        NDList y = batch.getLabels();
                        long n = batch.getSize();
                        try (GradientCollector gc = trainer.newGradientCollector()) {
                            NDList preds = trainer.forward(x, y);
                            NDArray l = trainer.getLoss().evaluate(y, preds);
                            gc.backward(l);
                            lossSum += l.getFloat() * n;
                            correct += countCorrect(preds.singletonOrThrow(), y.singletonOrThrow());
                            seen += n;
                        }
                        trainer.step();
                    }
                }
            }
            float[] trained = DjlSupport.flatten(block);
            float[] delta = new float[trained.length];
            for (int i = 0; i < delta.length; i++) {
                delta[i] = trained[i] - baseParameters[i];
            }
            return new LocalUpdate(delta, dataset.size(), Map.of(
                    LocalUpdate.METRIC_LOSS, lossSum / seen,
                    LocalUpdate.METRIC_ACCURACY, (double) correct / seen));
        });
    }

    /** Classification accuracy (argmax of the outputs) of {@code parameters} on {@code testSet}. */
    public double accuracy(float[] parameters, LocalDataset testSet) {
        checkLength(parameters);
        if (testSet.size() == 0) {
            throw new IllegalArgumentException("empty test set");
        }
        return withModel(parameters, (trainer, block, manager) -> {
            long correct = 0;
            int step = 512;
            for (int from = 0; from < testSet.size(); from += step) {
                LocalDataset part = testSet.range(from, Math.min(testSet.size(), from + step));
                try (NDManager m = manager.newSubManager()) {
                    NDArray x = m.create(part.features(), new Shape(part.size(), part.featureSize()));
                    NDArray y = m.create(toFloat(part.labels()), new Shape(part.size()));
                    NDList preds = trainer.evaluate(new NDList(x));
                    correct += countCorrect(preds.singletonOrThrow(), y);
                }
            }
            return (double) correct / testSet.size();
        });
    }

    private void checkLength(float[] parameters) {
        if (parameters.length != parameterCount) {
            throw new IllegalArgumentException("the model has " + parameterCount + " parameters, got " + parameters.length);
        }
    }

    private static long countCorrect(NDArray logits, NDArray labels) {
        NDArray predicted = logits.argMax(1).toType(DataType.INT64, false);
        return predicted.eq(labels.toType(DataType.INT64, false).reshape(predicted.getShape())).countNonzero().getLong();
    }

    private static float[] toFloat(int[] labels) {
        float[] out = new float[labels.length];
        for (int i = 0; i < labels.length; i++) {
            out[i] = labels[i];
        }
        return out;
    }

    private static ArrayDataset toDataset(NDManager manager, LocalDataset d, int batchSize, boolean shuffle) {
        NDArray x = manager.create(d.features(), new Shape(d.size(), d.featureSize()));
        NDArray y = manager.create(toFloat(d.labels()), new Shape(d.size()));
        return new ArrayDataset.Builder().setData(x).optLabels(y).setSampling(batchSize, shuffle).build();
    }

    @FunctionalInterface
    private interface ModelTask<T> {
        T run(Trainer trainer, Block block, NDManager manager) throws IOException, TranslateException;
    }

    private <T> T withModel(float[] parameters, ModelTask<T> task) {
        try (Model model = Model.newInstance("fedseal-local", ENGINE)) {
            Block block = blockFactory.get();
            model.setBlock(block);
            DefaultTrainingConfig config = new DefaultTrainingConfig(lossFactory.get())
                    .optOptimizer(Optimizer.sgd().setLearningRateTracker(Tracker.fixed(learningRate)).build());
            try (Trainer trainer = model.newTrainer(config);
                 NDManager manager = model.getNDManager().newSubManager()) {
                trainer.initialize(new Shape(1, dataset.featureSize()));
                if (parameters != null) {
                    DjlSupport.load(block, parameters);
                }
                return task.run(trainer, block, manager);
            }
        } catch (IOException | TranslateException e) {
            throw new IllegalStateException("DJL training failed: " + e.getMessage(), e);
        }
    }

    /** Builder of a {@link DjlTrainer}. */
    public static final class Builder {
        private Supplier<Block> blockFactory;
        private Supplier<Loss> lossFactory = Loss::softmaxCrossEntropyLoss;
        private float learningRate = 0.1f;
        private int batchSize = 32;
        private LocalDataset dataset;
        private int numThreads = 1;

        private Builder() {}

        /** The model architecture: called once per {@code fit}, must build the same block every time. Required. */
        public Builder block(Supplier<Block> blockFactory) {
            this.blockFactory = Objects.requireNonNull(blockFactory, "blockFactory");
            return this;
        }

        /** The loss (default softmax cross-entropy with sparse labels). */
        public Builder loss(Supplier<Loss> lossFactory) {
            this.lossFactory = Objects.requireNonNull(lossFactory, "lossFactory");
            return this;
        }

        /** SGD learning rate (default 0.1). */
        public Builder learningRate(float learningRate) {
            if (!(learningRate > 0)) {
                throw new IllegalArgumentException("learningRate must be positive, got " + learningRate);
            }
            this.learningRate = learningRate;
            return this;
        }

        /** Mini-batch size (default 32). */
        public Builder batchSize(int batchSize) {
            if (batchSize < 1) {
                throw new IllegalArgumentException("batchSize must be >= 1, got " + batchSize);
            }
            this.batchSize = batchSize;
            return this;
        }

        /** The local training data. Required. */
        public Builder dataset(LocalDataset dataset) {
            this.dataset = Objects.requireNonNull(dataset, "dataset");
            return this;
        }

        /** PyTorch intra-op threads, applied only if the engine has not started yet (default 1). */
        public Builder numThreads(int numThreads) {
            if (numThreads < 1) {
                throw new IllegalArgumentException("numThreads must be >= 1, got " + numThreads);
            }
            this.numThreads = numThreads;
            return this;
        }

        /** Builds the trainer (starts the engine if needed). */
        public DjlTrainer build() {
            if (blockFactory == null) {
                throw new IllegalStateException("DjlTrainer needs a block factory");
            }
            if (dataset == null) {
                throw new IllegalStateException("DjlTrainer needs a dataset");
            }
            DjlSupport.prepareEngine(numThreads);
            return new DjlTrainer(this);
        }
    }
}
