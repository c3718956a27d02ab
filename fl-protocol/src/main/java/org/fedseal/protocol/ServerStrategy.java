package org.fedseal.protocol;

import java.util.List;
import java.util.SortedMap;

/**
 * The server steps of {@link Strategy}. Each loops over the parameters once, in index order, with
 * the per-element operations in the order written below (Java 17 double arithmetic is strict, no
 * fused multiply-add), and rounds each new weight to float32 once.
 */
final class ServerStrategy implements Strategy {
    private final String name;
    private final SortedMap<String, Double> hp;

    ServerStrategy(String name, SortedMap<String, Double> hp) {
        this.name = name;
        this.hp = hp;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public SortedMap<String, Double> hyperparameters() {
        return hp;
    }

    private double h(String key) {
        return hp.get(key);
    }

    @Override
    public StrategyState initialState(int n) {
        return switch (name) {
            case Strategies.FED_AVG, Strategies.FED_PROX -> StrategyState.EMPTY;
            case Strategies.FED_AVG_M -> StrategyState.of(name, List.of(new double[n]));
            default -> {
                // Reddi et al., Algorithm 2: m_{-1} = 0, v_{-1} = tau^2
                double[] v = new double[n];
                java.util.Arrays.fill(v, h("tau") * h("tau"));
                yield StrategyState.of(name, List.of(new double[n], v));
            }
        };
    }

    @Override
    public Step step(float[] parent, double[] mean, StrategyState state) {
        int n = parent.length;
        if (mean.length < n) {
            throw new IllegalArgumentException("mean update has " + mean.length + " values, the parent model " + n);
        }
        if (name.equals(Strategies.FED_AVG) || name.equals(Strategies.FED_PROX)) {
            return new Step(ModelWeights.applyMean(parent, mean), StrategyState.EMPTY);
        }
        ModelWeights.requireFinite(parent, "parent weights");
        StrategyState initial = initialState(n);
        if (!state.strategy().equals(name) || state.size() != initial.size()) {
            throw new IllegalArgumentException(name + " cannot step from " + state);
        }
        float[] out = new float[n];
        if (name.equals(Strategies.FED_AVG_M)) {
            double eta = h("eta");
            double beta = h("beta");
            double[] v = checked(state, 0, n);
            for (int i = 0; i < n; i++) {
                v[i] = beta * v[i] + mean[i];
                out[i] = (float) (parent[i] + eta * v[i]);
            }
            return new Step(ModelWeights.requireFinite(out, name + " weights"), StrategyState.of(name, List.of(v)));
        }
        double eta = h("eta");
        double tau = h("tau");
        double beta1 = h("beta1");
        double beta2 = name.equals(Strategies.FED_ADAGRAD) ? 0 : h("beta2");
        double[] m = checked(state, 0, n);
        double[] v = checked(state, 1, n);
        for (int i = 0; i < n; i++) {
            double d = mean[i];
            m[i] = beta1 * m[i] + (1 - beta1) * d;
            double d2 = d * d;
            switch (name) {
                case Strategies.FED_ADAGRAD -> v[i] = v[i] + d2;
                case Strategies.FED_YOGI -> v[i] = v[i] - (1 - beta2) * d2 * Math.signum(v[i] - d2);
                default -> v[i] = beta2 * v[i] + (1 - beta2) * d2;
            }
            out[i] = (float) (parent[i] + eta * m[i] / (StrictMath.sqrt(v[i]) + tau));
        }
        return new Step(ModelWeights.requireFinite(out, name + " weights"), StrategyState.of(name, List.of(m, v)));
    }

    private double[] checked(StrategyState state, int i, int n) {
        double[] v = state.vector(i);
        if (v.length != n) {
            throw new IllegalArgumentException(
                    name + " state vector " + i + " has " + v.length + " values, the model " + n);
        }
        return v;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ServerStrategy s && s.name.equals(name) && s.hp.equals(hp);
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + hp.hashCode();
    }

    @Override
    public String toString() {
        return name + hp;
    }
}
