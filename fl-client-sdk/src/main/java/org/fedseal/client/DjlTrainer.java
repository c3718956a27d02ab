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
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.pooling.Pool;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.dataset.Batch;
import ai.djl.training.dataset.Dataset;
import ai.djl.training.dataset.RandomAccessDataset;
import ai.djl.training.evaluator.Accuracy;
import ai.djl.training.evaluator.Evaluator;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.translate.TranslateException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.Supplier;
import org.fedseal.client.internal.DjlSupport;
import org.fedseal.protocol.wire.ModelLayout;

/**
 * A {@link LocalTrainer} on DJL's PyTorch engine (the only DJL engine that trains), fully offline:
 * any DJL {@link Block}, trained on any DJL {@link Dataset} ({@link ArrayDataset}, a
 * {@link RandomAccessDataset}, an image folder, …) or on a {@link LocalDataset}, with any DJL
 * {@link Loss}, {@link Optimizer} (SGD, Adam, …) and {@link Evaluator}s — classification and
 * regression alike. Every {@link #fit} builds a fresh model from the block factory, loads the base
 * parameters, runs the local epochs and returns the delta; nothing carries over between rounds
 * (optimizer state included).
 *
 * <p>Parameters travel as one flat float32 vector in the order of {@code Block.getParameters()}
 * (the order DJL saves them in); {@link #layout()} names and shapes its tensors for export.
 *
 * <p>Needs {@code ai.djl.pytorch:pytorch-engine}, {@code pytorch-native-cpu} (classifier
 * {@code linux-x86_64}) and {@code pytorch-jni} at run time. Before the engine first starts in this
 * JVM, {@link #prepareEngine} (called by the builder) sets {@code ai.djl.offline=true} and the
 * PyTorch thread counts (each only if not already set): call it yourself before creating the
 * NDArrays of your own data set.
 *
 * <p>Classification on a {@link LocalDataset} (an MLP on flat MNIST rows):
 * <pre>{@code
 * LocalDataset data = Mnist2500.load().range(0, 400);
 * try (DjlTrainer trainer = DjlTrainer.builder()
 *         .block(DjlTrainer.mlp(784, 10, 128))
 *         .dataset(data)
 *         .learningRate(0.1f).batchSize(32)
 *         .build()) {
 *     float[] base = trainer.initialParameters(42);
 *     LocalUpdate u = trainer.fit(base, 1);            // metrics: loss, accuracy
 *     double acc = trainer.accuracy(DjlTrainer.add(base, u.delta()), Mnist2500.load().range(2000, 2500));
 * }
 * }</pre>
 *
 * <p>Regression on any DJL data set, with Adam and an extra evaluator:
 * <pre>{@code
 * DjlTrainer.prepareEngine(1);
 * try (NDManager m = NDManager.newBaseManager(DjlTrainer.ENGINE)) {
 *     ArrayDataset data = new ArrayDataset.Builder()
 *             .setData(m.create(features, new Shape(n, 10)))        // float32 (n, 10)
 *             .optLabels(m.create(targets, new Shape(n, 1)))        // float32 (n, 1)
 *             .setSampling(16, true).build();
 *     try (DjlTrainer trainer = DjlTrainer.builder()
 *             .block(DjlTrainer.mlp(10, 1, 16))
 *             .dataset(data)
 *             .loss(Loss::l2Loss)
 *             .optimizer(() -> Optimizer.adam().optLearningRateTracker(Tracker.fixed(0.01f)).build())
 *             .evaluator(() -> new L1Loss("mae"))
 *             .build()) {
 *         LocalUpdate u = trainer.fit(trainer.initialParameters(7), 2);   // metrics: loss, mae
 *     }
 * }
 * }</pre>
 */
public final class DjlTrainer implements LocalTrainer {
    /** The DJL engine used. */
    public static final String ENGINE = "PyTorch";

    private static final String KEY = "fedseal";
    private static final int EVALUATION_BATCH = 512;

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(DjlTrainer.class);

    private final Supplier<Block> blockFactory;
    private final Supplier<Loss> lossFactory;
    private final Function<Float, Optimizer> optimizerFactory;
    private final boolean optimizerTakesLearningRate;
    private final float learningRate;
    private final List<Supplier<Evaluator>> evaluatorFactories;
    private final LocalDataset localDataset;
    private final long[] featureShape;
    private final NDManager ownManager;
    private final Dataset dataset;
    private final Shape[] inputShapes;
    private final long sampleCount;
    private final int batchSize;
    private final int parameterCount;
    private NDArray localFeatures;
    private NDArray localLabels;
    private final Map<Integer, Dataset> rebatched = new java.util.HashMap<>();
    private boolean warnedLearningRate;
    private boolean warnedBatchSize;

    private DjlTrainer(Builder b) {
        this.blockFactory = b.blockFactory;
        this.lossFactory = b.lossFactory;
        this.learningRate = b.learningRate;
        if (b.optimizerFactory != null) {
            Supplier<Optimizer> fixed = b.optimizerFactory;
            this.optimizerFactory = lr -> fixed.get();
            this.optimizerTakesLearningRate = false;
        } else {
            this.optimizerFactory = b.optimizerByLearningRate != null
                    ? b.optimizerByLearningRate
                    : lr -> Optimizer.sgd()
                            .setLearningRateTracker(Tracker.fixed(lr))
                            .build();
            this.optimizerTakesLearningRate = true;
        }
        List<Supplier<Evaluator>> evaluators = new ArrayList<>(b.evaluatorFactories);
        if (evaluators.isEmpty() && !b.lossSet) {
            evaluators.add(() -> new Accuracy(LocalUpdate.METRIC_ACCURACY, 1));
        }
        this.evaluatorFactories = List.copyOf(evaluators);
        this.batchSize = b.batchSize;
        this.localDataset = b.localDataset;
        if (localDataset != null) {
            this.featureShape = b.featureShape != null ? b.featureShape : new long[] {localDataset.featureSize()};
            checkFeatureShape(featureShape, localDataset.featureSize());
            this.ownManager = NDManager.newBaseManager(ENGINE);
            this.localFeatures = ownManager.create(
                    localDataset.features(), new Shape(localDataset.size()).addAll(new Shape(featureShape)));
            this.localLabels = ownManager.create(toFloat(localDataset.labels()), new Shape(localDataset.size()));
            this.dataset = new ArrayDataset.Builder()
                    .setData(localFeatures)
                    .optLabels(localLabels)
                    .setSampling(batchSize, true)
                    .build();
        } else {
            this.featureShape = null;
            this.ownManager = null;
            this.dataset = b.dataset;
        }
        try {
            if (localDataset == null) {
                dataset.prepare();
            }
            this.inputShapes = b.inputShapes != null
                    ? b.inputShapes
                    : localDataset != null
                            ? new Shape[] {new Shape(1).addAll(new Shape(featureShape))}
                            : peekInputShapes(dataset);
            this.sampleCount = b.sampleCount > 0
                    ? b.sampleCount
                    : localDataset != null
                            ? localDataset.size()
                            : dataset instanceof RandomAccessDataset r ? r.size() : countSamples(dataset);
            this.parameterCount = withModel(null, (trainer, block) -> DjlSupport.count(block));
        } catch (IOException | TranslateException | RuntimeException e) {
            close();
            throw e instanceof RuntimeException re
                    ? re
                    : new IllegalStateException("DJL data set not usable: " + e.getMessage(), e);
        }
    }

    /** A new builder. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Sets the system properties DJL reads when its PyTorch engine starts — {@code ai.djl.offline=true}
     * (without it DJL contacts the network) and {@code numThreads} intra- and inter-op threads —
     * each only if not already set. Has no effect once the engine has started in this JVM: call it
     * before creating NDArrays of your own (the builder calls it too).
     */
    public static void prepareEngine(int numThreads) {
        if (numThreads < 1) {
            throw new IllegalArgumentException("numThreads must be >= 1, got " + numThreads);
        }
        DjlSupport.prepareEngine(numThreads);
    }

    /**
     * A multi-layer perceptron factory: flatten to {@code inputs}, then for each hidden size a
     * linear layer with ReLU, then a linear layer to {@code outputs} (logits for classification,
     * values for regression).
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

    /**
     * LeNet-5 (LeCun et al., 1998) in its common modern form, for 28&times;28 single-channel images
     * of shape (N, 1, 28, 28): a 5&times;5 convolution to 6 channels (padding 2), ReLU, 2&times;2 max
     * pooling; a 5&times;5 convolution to 16 channels, ReLU, 2&times;2 max pooling; then linear layers
     * of 120 and 84 units with ReLU and a linear layer to {@code classes} logits. 61,706 parameters
     * for 10 classes. Feed it flat 784-value rows with {@code featureShape(1, 28, 28)}.
     */
    public static Supplier<Block> leNet5(int classes) {
        if (classes < 1) {
            throw new IllegalArgumentException("classes must be >= 1, got " + classes);
        }
        return () -> new SequentialBlock()
                .add(Conv2d.builder()
                        .setKernelShape(new Shape(5, 5))
                        .optPadding(new Shape(2, 2))
                        .setFilters(6)
                        .build())
                .add(Activation.reluBlock())
                .add(Pool.maxPool2dBlock(new Shape(2, 2), new Shape(2, 2)))
                .add(Conv2d.builder()
                        .setKernelShape(new Shape(5, 5))
                        .setFilters(16)
                        .build())
                .add(Activation.reluBlock())
                .add(Pool.maxPool2dBlock(new Shape(2, 2), new Shape(2, 2)))
                .add(Blocks.batchFlattenBlock())
                .add(Linear.builder().setUnits(120).build())
                .add(Activation.reluBlock())
                .add(Linear.builder().setUnits(84).build())
                .add(Activation.reluBlock())
                .add(Linear.builder().setUnits(classes).build());
    }

    /**
     * A DJL {@link ArrayDataset} of {@code data} in {@code manager}: features float32 of shape
     * (N, {@code sampleShape}…) (row-major, so e.g. (1, 28, 28) turns flat MNIST rows into images),
     * labels float32 of shape (N). The arrays live until {@code manager} closes.
     *
     * @throws IllegalArgumentException if {@code sampleShape} does not hold exactly one row
     */
    public static ArrayDataset arrayDataset(
            NDManager manager, LocalDataset data, Shape sampleShape, int batchSize, boolean shuffle) {
        checkFeatureShape(sampleShape.getShape(), data.featureSize());
        NDArray x = manager.create(data.features(), new Shape(data.size()).addAll(sampleShape));
        NDArray y = manager.create(toFloat(data.labels()), new Shape(data.size()));
        return new ArrayDataset.Builder()
                .setData(x)
                .optLabels(y)
                .setSampling(batchSize, shuffle)
                .build();
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

    /**
     * The FedAvg weight: the local data set's size — a {@link LocalDataset}'s rows, a
     * {@link RandomAccessDataset}'s {@code size()}, the builder's {@link Builder#sampleCount}, or else
     * the samples of one pass over the data set (counted once, at build).
     */
    @Override
    public long sampleCount() {
        return sampleCount;
    }

    /** The local data set if it was given as a {@link LocalDataset}, else null. */
    public LocalDataset dataset() {
        return localDataset;
    }

    /** The shapes the model is initialized with (batch dimension first). */
    public Shape[] inputShapes() {
        return inputShapes.clone();
    }

    /**
     * Freshly initialized parameters (the block's own initializers), seeded through the engine's
     * random seed: a starting point for round 0.
     */
    public float[] initialParameters(long seed) {
        Engine.getEngine(ENGINE).setRandomSeed((int) seed);
        return withModel(null, (trainer, block) -> DjlSupport.flatten(block));
    }

    /**
     * The model's layout for the registry and for export ({@code fedseal model export}): every
     * parameter tensor with DJL's name (e.g. {@code 01Linear_weight}) and shape, in flat-vector
     * order, plus the DJL {@code .params} template (what {@code Model.save} writes around the
     * weights), so that a version's weights can be written as a file DJL's {@code Model.load}
     * reads into this block.
     *
     * @throws IllegalStateException if a parameter is not float32 or DJL's encoding is not the one expected
     */
    public ModelLayout layout() {
        return withModel(
                null,
                (trainer, block) -> DjlSupport.layout(
                        block,
                        block.getClass().getName() + ", " + parameterCount + " float32 parameters, input "
                                + java.util.Arrays.toString(inputShapes)));
    }

    @Override
    public LocalUpdate fit(float[] baseParameters, int epochs) {
        if (epochs < 1) {
            throw new IllegalArgumentException("epochs must be >= 1, got " + epochs);
        }
        return fit(baseParameters, RoundConfig.epochs(epochs));
    }

    /**
     * Trains as the round asks. A positive {@code config.learningRate()} replaces the builder's
     * {@link Builder#learningRate} for the default SGD or an
     * {@link Builder#optimizerWithLearningRate} factory (a fixed {@link Builder#optimizer} keeps its
     * own; a warning is logged once). A positive {@code config.batchSize()} re-batches a
     * {@link LocalDataset} (a DJL data set batches itself; a warning is logged once).
     *
     * <p>FedProx (Li et al., "Federated Optimization in Heterogeneous Networks", MLSys 2020): with
     * {@code config.proximalMu() = μ > 0} the local objective is {@code loss(w) + μ/2·‖w − w_base‖²}.
     * It is applied to the gradient: after each backward pass, {@code μ·(w − w_base)} is added to
     * the gradient of every parameter that has one, before the optimizer step. This is exactly the
     * gradient of the proximal objective (so any optimizer — SGD, Adam, … — sees what it would see
     * with the term in the loss), works for any block, adds one element-wise operation per
     * parameter instead of a second graph through every weight, and leaves the reported
     * {@link LocalUpdate#METRIC_LOSS} the data loss, comparable with μ = 0. Parameters without a
     * gradient (e.g. batch-norm running statistics) are not pulled. With plain SGD the term
     * contracts {@code w − w_base} by {@code 1 − η·μ} per step: keep {@code η·μ < 2}.
     */
    @Override
    public LocalUpdate fit(float[] baseParameters, RoundConfig config) {
        Objects.requireNonNull(baseParameters, "baseParameters");
        Objects.requireNonNull(config, "config");
        checkLength(baseParameters);
        if (sampleCount == 0) {
            throw new IllegalStateException("the local data set is empty");
        }
        int epochs = config.localEpochs();
        float mu = (float) config.proximalMu();
        Dataset data = datasetFor(config.batchSize());
        return withModel(baseParameters, learningRateFor(config), (trainer, block) -> {
            List<ai.djl.util.Pair<NDArray, NDArray>> proximal = mu > 0 ? proximalAnchors(block) : List.of();
            List<Evaluator> evaluators = newEvaluators();
            double lossSum = 0;
            long seen = 0;
            for (int e = 0; e < epochs; e++) {
                lossSum = 0;
                seen = 0;
                for (Evaluator ev : evaluators) {
                    ev.resetAccumulator(KEY);
                }
                for (Batch batch : trainer.iterateDataset(data)) {
                    try (batch) {
                        NDList x = batch.getData();
                        NDList y = batch.getLabels();
                        long n = batch.getSize();
                        NDList preds;
                        try (GradientCollector gc = trainer.newGradientCollector()) {
                            preds = trainer.forward(x, y);
                            NDArray l = trainer.getLoss().evaluate(y, preds);
                            gc.backward(l);
                            lossSum += meanOf(l) * n;
                        }
                        addProximalGradient(proximal, mu);
                        for (Evaluator ev : evaluators) {
                            ev.updateAccumulator(KEY, y, preds);
                        }
                        seen += n;
                        trainer.step();
                    }
                }
            }
            if (seen == 0) {
                throw new IllegalStateException("the local data set yielded no samples");
            }
            float[] trained = DjlSupport.flatten(block);
            float[] delta = new float[trained.length];
            for (int i = 0; i < delta.length; i++) {
                delta[i] = trained[i] - baseParameters[i];
            }
            Map<String, Double> metrics = new LinkedHashMap<>();
            metrics.put(LocalUpdate.METRIC_LOSS, lossSum / seen);
            for (Evaluator ev : evaluators) {
                metrics.put(ev.getName(), (double) ev.getAccumulator(KEY));
            }
            return new LocalUpdate(delta, sampleCount, metrics);
        });
    }

    /**
     * Evaluates {@code parameters} on {@code testSet} (any DJL data set; its batches as it makes
     * them): {@link LocalUpdate#METRIC_LOSS} = the configured loss averaged over samples, plus each
     * configured evaluator's value under its name.
     */
    public Map<String, Double> evaluate(float[] parameters, Dataset testSet) {
        checkLength(parameters);
        return withModel(parameters, (trainer, block) -> evaluate(trainer, testSet, newEvaluators()));
    }

    /** {@link #evaluate(float[], Dataset)} on a {@link LocalDataset}, shaped like the training rows. */
    public Map<String, Double> evaluate(float[] parameters, LocalDataset testSet) {
        checkLength(parameters);
        return withLocal(testSet, data -> evaluate(parameters, data));
    }

    /** Classification accuracy (argmax of the outputs) of {@code parameters} on {@code testSet}, in [0, 1]. */
    public double accuracy(float[] parameters, LocalDataset testSet) {
        checkLength(parameters);
        if (testSet.size() == 0) {
            throw new IllegalArgumentException("empty test set");
        }
        return withLocal(
                testSet,
                data -> withModel(
                        parameters,
                        (trainer, block) -> evaluate(
                                        trainer, data, List.of(new Accuracy(LocalUpdate.METRIC_ACCURACY, 1)))
                                .get(LocalUpdate.METRIC_ACCURACY)));
    }

    /**
     * Evaluates {@code parameters} on the local data set, for federated evaluation: the samples
     * seen, the configured loss summed over them, and — if one of the configured evaluators is a
     * DJL {@link ai.djl.training.evaluator.AbstractAccuracy} (the default {@code accuracy} of a
     * classifier) — the samples it counted correct ({@code round(accuracy × samples)}, exact below
     * 2^23 samples); for a model without one (regression) {@code correct} is null. A
     * {@link LocalDataset} is read in order (no shuffling, so evaluating does not change the random
     * sequence later training draws from); a DJL data set given to the builder is iterated as it
     * batches itself.
     */
    @Override
    public LocalEvaluation evaluate(float[] parameters) {
        Objects.requireNonNull(parameters, "parameters");
        checkLength(parameters);
        return withModel(parameters, (trainer, block) -> {
            Evaluator accuracy = null;
            for (Evaluator ev : newEvaluators()) {
                if (ev instanceof ai.djl.training.evaluator.AbstractAccuracy) {
                    accuracy = ev;
                    break;
                }
            }
            if (accuracy != null) {
                accuracy.resetAccumulator(KEY);
            }
            double lossSum = 0;
            long seen = 0;
            // a LocalDataset is read in order, not through the shuffled training view: shuffling would draw from DJL's
            // random generator and change the next round's training
            Dataset data = localFeatures == null
                    ? dataset
                    : new ArrayDataset.Builder()
                            .setData(localFeatures)
                            .optLabels(localLabels)
                            .setSampling(EVALUATION_BATCH, false)
                            .build();
            for (Batch batch : trainer.iterateDataset(data)) {
                try (batch) {
                    NDList preds = trainer.evaluate(batch.getData());
                    lossSum += meanOf(trainer.getLoss().evaluate(batch.getLabels(), preds)) * batch.getSize();
                    if (accuracy != null) {
                        accuracy.updateAccumulator(KEY, batch.getLabels(), preds);
                    }
                    seen += batch.getSize();
                }
            }
            if (seen == 0) {
                throw new IllegalStateException("the local data set yielded no samples");
            }
            Long correct = accuracy == null ? null : Math.round((double) accuracy.getAccumulator(KEY) * seen);
            return new LocalEvaluation(seen, correct, Math.max(0, lossSum));
        });
    }

    /** Each trainable parameter's array paired with a copy of its base value w_base. */
    private static List<ai.djl.util.Pair<NDArray, NDArray>> proximalAnchors(Block block) {
        List<ai.djl.util.Pair<NDArray, NDArray>> out = new ArrayList<>();
        for (ai.djl.util.Pair<String, ai.djl.nn.Parameter> p : block.getParameters()) {
            if (p.getValue().requiresGradient()) {
                NDArray w = p.getValue().getArray();
                out.add(new ai.djl.util.Pair<>(w, w.duplicate()));
            }
        }
        return out;
    }

    /** FedProx: grad(w) += μ·(w − w_base) for every anchored parameter, in place, outside the autograd graph. */
    private static void addProximalGradient(List<ai.djl.util.Pair<NDArray, NDArray>> anchors, float mu) {
        for (ai.djl.util.Pair<NDArray, NDArray> a : anchors) {
            NDArray w = a.getKey();
            if (!w.hasGradient()) {
                continue;
            }
            try (NDArray grad = w.getGradient();
                    NDArray pull = w.sub(a.getValue())) {
                grad.addi(pull.muli(mu));
            }
        }
    }

    private float learningRateFor(RoundConfig config) {
        if (config.learningRate() > 0 && !optimizerTakesLearningRate) {
            synchronized (this) {
                if (!warnedLearningRate) {
                    warnedLearningRate = true;
                    LOG.warn(
                            "the round asks for learning rate {}, but this DjlTrainer has a fixed optimizer: keeping the optimizer's "
                                    + "(use DjlTrainer.Builder.optimizerWithLearningRate to follow the round)",
                            config.learningRate());
                }
            }
        }
        return (float) config.learningRateOr(learningRate);
    }

    private synchronized Dataset datasetFor(int roundBatchSize) {
        if (roundBatchSize <= 0 || roundBatchSize == batchSize) {
            return dataset;
        }
        if (localFeatures == null) {
            if (!warnedBatchSize) {
                warnedBatchSize = true;
                LOG.warn(
                        "the round asks for batch size {}, but a DJL data set batches itself: keeping its batches",
                        roundBatchSize);
            }
            return dataset;
        }
        return rebatched.computeIfAbsent(
                roundBatchSize,
                bs -> new ArrayDataset.Builder()
                        .setData(localFeatures)
                        .optLabels(localLabels)
                        .setSampling(bs, true)
                        .build());
    }

    private <T> T withLocal(LocalDataset testSet, java.util.function.Function<Dataset, T> task) {
        long[] shape = featureShape != null ? featureShape : new long[] {testSet.featureSize()};
        try (NDManager m = NDManager.newBaseManager(ENGINE)) {
            return task.apply(arrayDataset(m, testSet, new Shape(shape), EVALUATION_BATCH, false));
        }
    }

    private static Map<String, Double> evaluate(Trainer trainer, Dataset data, List<Evaluator> evaluators)
            throws IOException, TranslateException {
        double lossSum = 0;
        long seen = 0;
        for (Evaluator ev : evaluators) {
            ev.resetAccumulator(KEY);
        }
        for (Batch batch : trainer.iterateDataset(data)) {
            try (batch) {
                NDList preds = trainer.evaluate(batch.getData());
                lossSum += meanOf(trainer.getLoss().evaluate(batch.getLabels(), preds)) * batch.getSize();
                for (Evaluator ev : evaluators) {
                    ev.updateAccumulator(KEY, batch.getLabels(), preds);
                }
                seen += batch.getSize();
            }
        }
        if (seen == 0) {
            throw new IllegalArgumentException("empty test set");
        }
        Map<String, Double> out = new LinkedHashMap<>();
        out.put(LocalUpdate.METRIC_LOSS, lossSum / seen);
        for (Evaluator ev : evaluators) {
            out.put(ev.getName(), (double) ev.getAccumulator(KEY));
        }
        return out;
    }

    private List<Evaluator> newEvaluators() {
        List<Evaluator> out = new ArrayList<>();
        for (Supplier<Evaluator> f : evaluatorFactories) {
            Evaluator ev = Objects.requireNonNull(f.get(), "an evaluator factory returned null");
            ev.addAccumulator(KEY);
            out.add(ev);
        }
        return out;
    }

    /** DJL's losses return the batch mean; a loss that returns per-sample values is averaged here. */
    private static double meanOf(NDArray loss) {
        return loss.size() == 1
                ? loss.toType(DataType.FLOAT64, false).getDouble()
                : loss.mean().toType(DataType.FLOAT64, false).getDouble();
    }

    private void checkLength(float[] parameters) {
        if (parameters.length != parameterCount) {
            throw new IllegalArgumentException(
                    "the model has " + parameterCount + " parameters, got " + parameters.length);
        }
    }

    private static void checkFeatureShape(long[] shape, int featureSize) {
        long n = 1;
        for (long d : shape) {
            if (d < 1) {
                throw new IllegalArgumentException(
                        "feature shape dimensions must be >= 1, got " + java.util.Arrays.toString(shape));
            }
            n *= d;
        }
        if (n != featureSize) {
            throw new IllegalArgumentException("feature shape " + java.util.Arrays.toString(shape) + " holds " + n
                    + " values, a row has " + featureSize);
        }
    }

    private static float[] toFloat(int[] labels) {
        float[] out = new float[labels.length];
        for (int i = 0; i < labels.length; i++) {
            out[i] = labels[i];
        }
        return out;
    }

    /** The shapes of the first batch's inputs, batch dimension set to 1. */
    private static Shape[] peekInputShapes(Dataset data) throws IOException, TranslateException {
        try (NDManager m = NDManager.newBaseManager(ENGINE)) {
            for (Batch batch : data.getData(m)) {
                try (batch) {
                    Shape[] shapes = batch.getData().getShapes();
                    for (int i = 0; i < shapes.length; i++) {
                        shapes[i] = new Shape(1).addAll(shapes[i].slice(1));
                    }
                    return shapes;
                }
            }
        }
        throw new IllegalArgumentException("the data set yields no batches");
    }

    private static long countSamples(Dataset data) throws IOException, TranslateException {
        long n = 0;
        try (NDManager m = NDManager.newBaseManager(ENGINE)) {
            for (Batch batch : data.getData(m)) {
                try (batch) {
                    n += batch.getSize();
                }
            }
        }
        if (n == 0) {
            throw new IllegalArgumentException("the data set yields no samples");
        }
        return n;
    }

    @FunctionalInterface
    private interface ModelTask<T> {
        T run(Trainer trainer, Block block) throws IOException, TranslateException;
    }

    private <T> T withModel(float[] parameters, ModelTask<T> task) {
        return withModel(parameters, learningRate, task);
    }

    private <T> T withModel(float[] parameters, float learningRate, ModelTask<T> task) {
        try (Model model = Model.newInstance("fedseal-local", ENGINE)) {
            Block block = Objects.requireNonNull(blockFactory.get(), "the block factory returned null");
            model.setBlock(block);
            DefaultTrainingConfig config = new DefaultTrainingConfig(
                            Objects.requireNonNull(lossFactory.get(), "the loss factory returned null"))
                    .optOptimizer(Objects.requireNonNull(
                            optimizerFactory.apply(learningRate), "the optimizer factory returned null"));
            try (Trainer trainer = model.newTrainer(config)) {
                trainer.initialize(inputShapes);
                if (parameters != null) {
                    DjlSupport.load(block, parameters);
                }
                return task.run(trainer, block);
            }
        } catch (IOException | TranslateException e) {
            throw new IllegalStateException("DJL training failed: " + e.getMessage(), e);
        }
    }

    /** Frees the arrays of a {@link LocalDataset} converted at build; a DJL data set stays the caller's. */
    @Override
    public void close() {
        if (ownManager != null) {
            ownManager.close();
        }
    }

    /** Builder of a {@link DjlTrainer}. */
    public static final class Builder {
        private Supplier<Block> blockFactory;
        private Supplier<Loss> lossFactory = Loss::softmaxCrossEntropyLoss;
        private boolean lossSet;
        private Supplier<Optimizer> optimizerFactory;
        private Function<Float, Optimizer> optimizerByLearningRate;
        private Float learningRateSet;
        private float learningRate = 0.1f;
        private final List<Supplier<Evaluator>> evaluatorFactories = new ArrayList<>();
        private int batchSize = 32;
        private LocalDataset localDataset;
        private long[] featureShape;
        private Dataset dataset;
        private Shape[] inputShapes;
        private long sampleCount;
        private int numThreads = 1;

        private Builder() {}

        /** The model architecture: called once per {@code fit}, must build the same block every time. Required. */
        public Builder block(Supplier<Block> blockFactory) {
            this.blockFactory = Objects.requireNonNull(blockFactory, "blockFactory");
            return this;
        }

        /**
         * The loss, made fresh for every model (default softmax cross-entropy with sparse labels:
         * classification). E.g. {@code Loss::l2Loss} for regression.
         */
        public Builder loss(Supplier<Loss> lossFactory) {
            this.lossFactory = Objects.requireNonNull(lossFactory, "lossFactory");
            this.lossSet = true;
            return this;
        }

        /**
         * The optimizer, made fresh for every {@code fit} (its state, e.g. Adam's moments, does not
         * carry over between rounds). Default: SGD at {@link #learningRate}, or at the round's
         * learning rate when it sets one. A fixed optimizer keeps its own learning rate whatever the
         * round asks (a warning is logged); {@link #optimizerWithLearningRate} follows the round.
         */
        public Builder optimizer(Supplier<Optimizer> optimizerFactory) {
            this.optimizerFactory = Objects.requireNonNull(optimizerFactory, "optimizerFactory");
            this.optimizerByLearningRate = null;
            return this;
        }

        /**
         * An optimizer made fresh for every {@code fit} from the learning rate to use: the round's
         * ({@code RoundOpened.learningRate}) when it sets one, else {@link #learningRate} (default
         * 0.1). E.g. {@code lr -> Optimizer.adam().optLearningRateTracker(Tracker.fixed(lr)).build()}.
         * Replaces {@link #optimizer}.
         */
        public Builder optimizerWithLearningRate(Function<Float, Optimizer> factory) {
            this.optimizerByLearningRate = Objects.requireNonNull(factory, "factory");
            this.optimizerFactory = null;
            return this;
        }

        /**
         * Learning rate of the default SGD optimizer or of an {@link #optimizerWithLearningRate}
         * factory (default 0.1) when the round sets none; not combinable with {@link #optimizer}.
         */
        public Builder learningRate(float learningRate) {
            if (!(learningRate > 0)) {
                throw new IllegalArgumentException("learningRate must be positive, got " + learningRate);
            }
            this.learningRate = learningRate;
            this.learningRateSet = learningRate;
            return this;
        }

        /**
         * Adds an evaluator, made fresh for every {@code fit}/{@code evaluate}; its value is reported
         * under its name in {@link LocalUpdate#metrics()} (last epoch) and {@link #evaluate}. Without
         * any, and with the default loss, an {@code Accuracy} named {@value LocalUpdate#METRIC_ACCURACY}
         * is used; with another loss, none.
         */
        public Builder evaluator(Supplier<Evaluator> evaluatorFactory) {
            this.evaluatorFactories.add(Objects.requireNonNull(evaluatorFactory, "evaluatorFactory"));
            return this;
        }

        /** Mini-batch size for a {@link LocalDataset} (default 32); a DJL data set batches itself. */
        public Builder batchSize(int batchSize) {
            if (batchSize < 1) {
                throw new IllegalArgumentException("batchSize must be >= 1, got " + batchSize);
            }
            this.batchSize = batchSize;
            return this;
        }

        /**
         * The local training data as plain arrays (classification: integer labels), batched
         * {@link #batchSize} at a time and shuffled every epoch. One of this and
         * {@link #dataset(Dataset)} is required.
         */
        public Builder dataset(LocalDataset dataset) {
            this.localDataset = Objects.requireNonNull(dataset, "dataset");
            this.dataset = null;
            return this;
        }

        /**
         * Any DJL data set (e.g. an {@link ArrayDataset} or another {@link RandomAccessDataset}),
         * iterated as it batches itself, once per local epoch; its labels are what the loss
         * expects. The trainer prepares it but does not own it: keep its NDManager open while the
         * trainer is in use.
         */
        public Builder dataset(Dataset dataset) {
            this.dataset = Objects.requireNonNull(dataset, "dataset");
            this.localDataset = null;
            return this;
        }

        /**
         * The shape one {@link LocalDataset} row has for the block, e.g. {@code (1, 28, 28)} for a
         * convolutional net on flat MNIST rows (default: the flat row). Its product must equal the
         * row's feature count.
         */
        public Builder featureShape(long... shape) {
            this.featureShape = shape.clone();
            return this;
        }

        /**
         * Input shapes to initialize the block with, batch dimension first (default: a
         * {@link LocalDataset} row's shape, or a DJL data set's first batch).
         */
        public Builder inputShapes(Shape... inputShapes) {
            this.inputShapes = inputShapes.clone();
            return this;
        }

        /** The FedAvg weight of a DJL data set that is not random-access (default: counted by one pass). */
        public Builder sampleCount(long sampleCount) {
            if (sampleCount < 1) {
                throw new IllegalArgumentException("sampleCount must be >= 1, got " + sampleCount);
            }
            this.sampleCount = sampleCount;
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

        /**
         * Builds the trainer: starts the engine if needed, prepares the data set and initializes the
         * block once to count its parameters.
         *
         * @throws IllegalStateException if the block or the data set is missing, or both an optimizer and a learning rate were set
         */
        public DjlTrainer build() {
            if (blockFactory == null) {
                throw new IllegalStateException("DjlTrainer needs a block factory");
            }
            if (localDataset == null && dataset == null) {
                throw new IllegalStateException("DjlTrainer needs a dataset");
            }
            if (optimizerFactory != null && learningRateSet != null) {
                throw new IllegalStateException("learningRate(" + learningRateSet
                        + ") applies to the default SGD only; " + "set the learning rate on the optimizer");
            }
            if (localDataset == null && featureShape != null) {
                throw new IllegalStateException(
                        "featureShape applies to a LocalDataset only; a DJL data set has its own shapes");
            }
            DjlSupport.prepareEngine(numThreads);
            return new DjlTrainer(this);
        }
    }
}
