package org.fedseal.client;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * A {@link LocalTrainer} in plain Java (no native code, no dependencies: it runs on Android): a
 * softmax-regression classifier ({@code hiddenUnits == 0}) or a one-hidden-layer MLP with ReLU
 * ({@code hiddenUnits > 0}), trained with mini-batch SGD on the softmax cross-entropy loss (plus
 * FedProx's proximal term when a round asks for it: {@link #fit(float[], RoundConfig)}).
 *
 * <h2>Flat parameter layout</h2>
 * With D = feature size, H = hidden units, C = classes, all matrices row-major:
 * <ul>
 *   <li>{@code hiddenUnits == 0}: {@code [W (C×D), b (C)]}, so {@code W[c][d]} is at
 *       {@code c·D + d} and {@code b[c]} at {@code C·D + c}; {@link #parameterCount()} = C·D + C.</li>
 *   <li>{@code hiddenUnits > 0}: {@code [W1 (H×D), b1 (H), W2 (C×H), b2 (C)]}, offsets
 *       0, H·D, H·D + H, H·D + H + C·H; {@link #parameterCount()} = H·D + H + C·H + C.</li>
 * </ul>
 * Logits are {@code W·x + b} (softmax regression) or {@code W2·relu(W1·x + b1) + b2} (MLP).
 *
 * <h2>Determinism</h2>
 * {@link #fit} shuffles with a {@link SplittableRandom} seeded from the constructor's seed, so the
 * same base parameters and epochs always give the same delta (bit for bit: no threads, no
 * hardware-dependent math beyond {@link Math#exp}/{@link Math#log}, which are deterministic on a
 * given JVM/ART). {@link #initialParameters(long)} is deterministic in its seed.
 *
 * <p>Metrics: {@link LocalUpdate#METRIC_LOSS} and {@link LocalUpdate#METRIC_ACCURACY} of the last
 * epoch, measured on each mini-batch before its step (the usual running training metrics).
 *
 * <p>Not thread-safe (one {@code fit} at a time), as {@link LocalTrainer} allows.
 */
public final class JavaMlpTrainer implements LocalTrainer {
    private final LocalDataset data;
    private final int features;
    private final int hidden;
    private final int classes;
    private final int batchSize;
    private final float learningRate;
    private final long seed;

    /**
     * A trainer over {@code data}.
     *
     * @param data local training data; labels must be in {@code [0, classes)}
     * @param hiddenUnits 0 for softmax regression, otherwise the hidden layer's width
     * @param classes number of classes
     * @param batchSize mini-batch size, {@code >= 1}
     * @param learningRate SGD step size, {@code > 0}
     * @param seed seed of the per-fit shuffling
     */
    public JavaMlpTrainer(
            LocalDataset data, int hiddenUnits, int classes, int batchSize, float learningRate, long seed) {
        this.data = Objects.requireNonNull(data, "data");
        if (data.size() == 0) {
            throw new IllegalArgumentException("the local data set is empty");
        }
        if (hiddenUnits < 0 || classes < 2 || batchSize < 1 || !(learningRate > 0) || Float.isInfinite(learningRate)) {
            throw new IllegalArgumentException(
                    "need hiddenUnits >= 0, classes >= 2, batchSize >= 1, learningRate > 0; got " + hiddenUnits + ", "
                            + classes + ", " + batchSize + ", " + learningRate);
        }
        for (int l : data.labels()) {
            if (l < 0 || l >= classes) {
                throw new IllegalArgumentException("label " + l + " is outside [0, " + classes + ")");
            }
        }
        this.features = data.featureSize();
        this.hidden = hiddenUnits;
        this.classes = classes;
        this.batchSize = batchSize;
        this.learningRate = learningRate;
        this.seed = seed;
    }

    /** Softmax regression (no hidden layer) with batch 32, learning rate 0.1. */
    public static JavaMlpTrainer softmax(LocalDataset data, int classes, long seed) {
        return new JavaMlpTrainer(data, 0, classes, 32, 0.1f, seed);
    }

    /** Number of parameters for this architecture; see the class documentation for the layout. */
    public static int parameterCount(int features, int hiddenUnits, int classes) {
        long n = hiddenUnits == 0
                ? (long) classes * features + classes
                : (long) hiddenUnits * features + hiddenUnits + (long) classes * hiddenUnits + classes;
        return Math.toIntExact(n);
    }

    @Override
    public int parameterCount() {
        return parameterCount(features, hidden, classes);
    }

    @Override
    public long sampleCount() {
        return data.size();
    }

    /** Hidden units (0 = softmax regression). */
    public int hiddenUnits() {
        return hidden;
    }

    /**
     * Deterministic initial parameters: all zeros for softmax regression; for the MLP, W1 and W2
     * uniform in ±sqrt(6 / (fan_in + fan_out)) (Glorot) from {@code seed}, biases zero.
     */
    public float[] initialParameters(long seed) {
        float[] p = new float[parameterCount()];
        if (hidden > 0) {
            SplittableRandom r = new SplittableRandom(seed);
            double a1 = Math.sqrt(6.0 / (features + hidden));
            for (int i = 0; i < hidden * features; i++) {
                p[i] = (float) r.nextDouble(-a1, a1);
            }
            int w2 = hidden * features + hidden;
            double a2 = Math.sqrt(6.0 / (hidden + classes));
            for (int i = 0; i < classes * hidden; i++) {
                p[w2 + i] = (float) r.nextDouble(-a2, a2);
            }
        }
        return p;
    }

    @Override
    public LocalUpdate fit(float[] baseParameters, int epochs) {
        if (epochs < 1) {
            throw new IllegalArgumentException("epochs must be >= 1, got " + epochs);
        }
        return fit(baseParameters, RoundConfig.epochs(epochs));
    }

    /**
     * Mini-batch SGD from {@code baseParameters} as the round asks: {@code config.learningRate()}
     * and {@code config.batchSize()} replace the constructor's when positive. With
     * {@code config.proximalMu() = μ > 0} the objective of every step is FedProx's (Li et al.,
     * MLSys 2020, eq. 2) {@code mean batch loss + μ/2·‖w − w_base‖²}, whose gradient adds
     * {@code μ·(w − w_base)} to the batch gradient, so a step is
     * {@code w ← w − η·(∇loss(w) + μ·(w − w_base))}. With plain SGD the proximal part contracts
     * {@code w − w_base} by {@code 1 − η·μ} per step: keep {@code η·μ < 2}, or the term diverges.
     */
    @Override
    public LocalUpdate fit(float[] baseParameters, RoundConfig config) {
        Objects.requireNonNull(baseParameters, "baseParameters");
        Objects.requireNonNull(config, "config");
        if (baseParameters.length != parameterCount()) {
            throw new IllegalArgumentException(
                    "expected " + parameterCount() + " parameters, got " + baseParameters.length);
        }
        int epochs = config.localEpochs();
        int batchSize = config.batchSizeOr(this.batchSize);
        float learningRate = (float) config.learningRateOr(this.learningRate);
        float mu = (float) config.proximalMu();
        float[] p = baseParameters.clone();
        float[] grad = new float[p.length];
        int n = data.size();
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        SplittableRandom rnd = new SplittableRandom(seed);
        Scratch s = new Scratch();
        double loss = 0;
        long correct = 0;
        for (int e = 0; e < epochs; e++) {
            for (int i = n - 1; i > 0; i--) {
                int j = rnd.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
            loss = 0;
            correct = 0;
            for (int from = 0; from < n; from += batchSize) {
                int to = Math.min(n, from + batchSize);
                java.util.Arrays.fill(grad, 0f);
                for (int k = from; k < to; k++) {
                    int row = order[k];
                    loss += backprop(p, row, grad, s);
                    if (s.predicted == data.labels()[row]) {
                        correct++;
                    }
                }
                float step = learningRate / (to - from);
                if (mu > 0) {
                    for (int i = 0; i < p.length; i++) {
                        p[i] -= step * grad[i] + learningRate * mu * (p[i] - baseParameters[i]);
                    }
                } else {
                    for (int i = 0; i < p.length; i++) {
                        p[i] -= step * grad[i];
                    }
                }
            }
        }
        float[] delta = new float[p.length];
        for (int i = 0; i < p.length; i++) {
            delta[i] = p[i] - baseParameters[i];
        }
        Map<String, Double> metrics = new LinkedHashMap<>();
        metrics.put(LocalUpdate.METRIC_LOSS, loss / n);
        metrics.put(LocalUpdate.METRIC_ACCURACY, (double) correct / n);
        return new LocalUpdate(delta, n, metrics);
    }

    /**
     * Evaluates {@code parameters} on the local training data: rows, rows classified correctly
     * (argmax of the logits) and the summed softmax cross-entropy, for federated evaluation.
     */
    @Override
    public LocalEvaluation evaluate(float[] parameters) {
        Objects.requireNonNull(parameters, "parameters");
        if (parameters.length != parameterCount()) {
            throw new IllegalArgumentException(
                    "expected " + parameterCount() + " parameters, got " + parameters.length);
        }
        if (data.size() == 0) {
            throw new IllegalStateException("the local data set is empty");
        }
        Scratch s = new Scratch();
        double loss = 0;
        long correct = 0;
        for (int r = 0; r < data.size(); r++) {
            forward(parameters, data.features(), r * features, s);
            double max = s.logits[0];
            int best = 0;
            for (int c = 1; c < classes; c++) {
                if (s.logits[c] > max) {
                    max = s.logits[c];
                    best = c;
                }
            }
            double sum = 0;
            for (int c = 0; c < classes; c++) {
                sum += Math.exp(s.logits[c] - max);
            }
            int label = data.labels()[r];
            loss += Math.log(sum) - (s.logits[label] - max);
            if (best == label) {
                correct++;
            }
        }
        return new LocalEvaluation(data.size(), correct, loss);
    }

    /** Fraction of {@code test}'s rows that {@code parameters} classify correctly. */
    public double accuracy(float[] parameters, LocalDataset test) {
        if (test.featureSize() != features) {
            throw new IllegalArgumentException("feature size " + test.featureSize() + ", the model's " + features);
        }
        Scratch s = new Scratch();
        long ok = 0;
        for (int r = 0; r < test.size(); r++) {
            if (predict(parameters, test.features(), r * features, s) == test.labels()[r]) {
                ok++;
            }
        }
        return test.size() == 0 ? 0 : (double) ok / test.size();
    }

    /** The predicted class of one feature vector. */
    public int predict(float[] parameters, float[] x) {
        if (x.length != features) {
            throw new IllegalArgumentException("expected " + features + " features, got " + x.length);
        }
        return predict(parameters, x, 0, new Scratch());
    }

    // ------------------------------------------------------------------ math

    private final class Scratch {
        final double[] h = new double[Math.max(1, hidden)];
        final double[] logits = new double[classes];
        final double[] dLogits = new double[classes];
        int predicted;
    }

    private int predict(float[] p, float[] x, int off, Scratch s) {
        forward(p, x, off, s);
        int best = 0;
        for (int c = 1; c < classes; c++) {
            if (s.logits[c] > s.logits[best]) {
                best = c;
            }
        }
        return best;
    }

    private void forward(float[] p, float[] x, int off, Scratch s) {
        int d = features;
        if (hidden == 0) {
            int b = classes * d;
            for (int c = 0; c < classes; c++) {
                double z = p[b + c];
                int w = c * d;
                for (int i = 0; i < d; i++) {
                    z += p[w + i] * x[off + i];
                }
                s.logits[c] = z;
            }
            return;
        }
        int b1 = hidden * d;
        int w2 = b1 + hidden;
        int b2 = w2 + classes * hidden;
        for (int j = 0; j < hidden; j++) {
            double z = p[b1 + j];
            int w = j * d;
            for (int i = 0; i < d; i++) {
                z += p[w + i] * x[off + i];
            }
            s.h[j] = z > 0 ? z : 0;
        }
        for (int c = 0; c < classes; c++) {
            double z = p[b2 + c];
            int w = w2 + c * hidden;
            for (int j = 0; j < hidden; j++) {
                z += p[w + j] * s.h[j];
            }
            s.logits[c] = z;
        }
    }

    /** Adds the gradient of one sample's loss to {@code g}; returns the loss. */
    private double backprop(float[] p, int row, float[] g, Scratch s) {
        float[] x = data.features();
        int off = row * features;
        int label = data.labels()[row];
        forward(p, x, off, s);
        double max = s.logits[0];
        int best = 0;
        for (int c = 1; c < classes; c++) {
            if (s.logits[c] > max) {
                max = s.logits[c];
                best = c;
            }
        }
        s.predicted = best;
        double sum = 0;
        for (int c = 0; c < classes; c++) {
            s.dLogits[c] = Math.exp(s.logits[c] - max);
            sum += s.dLogits[c];
        }
        double loss = Math.log(sum) - (s.logits[label] - max);
        for (int c = 0; c < classes; c++) {
            s.dLogits[c] = s.dLogits[c] / sum - (c == label ? 1 : 0);
        }
        int d = features;
        if (hidden == 0) {
            int b = classes * d;
            for (int c = 0; c < classes; c++) {
                float dz = (float) s.dLogits[c];
                g[b + c] += dz;
                if (dz == 0f) {
                    continue;
                }
                int w = c * d;
                for (int i = 0; i < d; i++) {
                    g[w + i] += dz * x[off + i];
                }
            }
            return loss;
        }
        int b1 = hidden * d;
        int w2 = b1 + hidden;
        int b2 = w2 + classes * hidden;
        for (int j = 0; j < hidden; j++) {
            double dh = 0;
            for (int c = 0; c < classes; c++) {
                dh += s.dLogits[c] * p[w2 + c * hidden + j];
            }
            float dz = s.h[j] > 0 ? (float) dh : 0f;
            g[b1 + j] += dz;
            if (dz != 0f) {
                int w = j * d;
                for (int i = 0; i < d; i++) {
                    g[w + i] += dz * x[off + i];
                }
            }
        }
        for (int c = 0; c < classes; c++) {
            float dz = (float) s.dLogits[c];
            g[b2 + c] += dz;
            int w = w2 + c * hidden;
            for (int j = 0; j < hidden; j++) {
                g[w + j] += (float) (dz * s.h[j]);
            }
        }
        return loss;
    }

    @Override
    public String toString() {
        return "JavaMlpTrainer[" + (hidden == 0 ? "softmax" : "mlp " + hidden) + ", " + features + " -> " + classes
                + ", " + data.size() + " samples, batch " + batchSize + ", lr " + learningRate + "]";
    }
}
