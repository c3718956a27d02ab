package org.fedseal.protocol;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import org.fedseal.protocol.wire.Hyperparameter;
import org.fedseal.protocol.wire.RoundOpened;
import org.fedseal.protocol.wire.StrategySpec;

/**
 * A server strategy (Flower's shape): configures the clients' round ({@link #configure}) and turns
 * the parent version's weights, the decrypted FedAvg mean update {@code Δ = Σ wᵢΔᵢ / Σ wᵢ} and its
 * own state into the next version's weights and its next state ({@link #step}). It acts on the
 * decrypted mean only, so it works with encrypted aggregation; robust aggregators (median, Krum)
 * cannot.
 *
 * <p>Every version names its strategy ({@code ModelVersionPublished.strategy}, null = FedAvg) and
 * the hash of the state after its step ({@code optimizerStateHash}), so an auditor re-derives it from
 * the parent's weights, the parent's state and the mean: the arithmetic is deterministic. Java 17
 * evaluates {@code double} arithmetic strictly (IEEE-754, JEP 306; no fused multiply-add is
 * contracted), every step runs element by element in a fixed order written in each strategy's
 * comment, square roots use {@link StrictMath#sqrt}, and the result is rounded to float32 once.
 *
 * <p>The strategies, with hyperparameter names as in {@link StrategySpec} (every strategy also takes
 * {@code eta_l}, the clients' learning rate put into {@code RoundOpened.learningRate}; 0 = the
 * trainer's own):
 * <ul>
 *   <li>{@code FedAvg} (McMahan et al., AISTATS 2017): {@code x ← x + Δ}, stateless; bit-identical
 *       to {@link ModelWeights#applyMean}. The default.
 *   <li>{@code FedProx} (Li et al., MLSys 2020): the server step of FedAvg; {@code mu} (default 0.01)
 *       is the clients' proximal coefficient ({@code RoundOpened.proximalMu}).
 *   <li>{@code FedAvgM} (Hsu et al., "Measuring the Effects of Non-Identical Data Distribution for
 *       Federated Visual Classification", 2019): server momentum {@code v ← β·v + Δ; x ← x + η·v};
 *       {@code beta} (default 0.9), {@code eta} (default 1).
 *   <li>{@code FedAdagrad}, {@code FedAdam}, {@code FedYogi} (Reddi et al., "Adaptive Federated
 *       Optimization", ICLR 2021, Algorithm 2): {@code m ← β₁·m + (1−β₁)·Δ}; FedAdagrad
 *       {@code v ← v + Δ²}, FedYogi {@code v ← v − (1−β₂)·Δ²·sign(v − Δ²)}, FedAdam
 *       {@code v ← β₂·v + (1−β₂)·Δ²}; {@code x ← x + η·m / (√v + τ)}, with {@code m₋₁ = 0},
 *       {@code v₋₁ = τ²}. Defaults (the paper's β₁, β₂, τ; η and η_l as in Flower's implementations of the
 *       paper; FedAdagrad with β₁ = 0, i.e. plain Adagrad): FedAdam {@code eta} 0.1,
 *       {@code eta_l} 0.1, {@code beta1} 0.9, {@code beta2} 0.99, {@code tau} 0.001; FedYogi
 *       {@code eta} 0.01, {@code eta_l} 0.0316, {@code beta1} 0.9, {@code beta2} 0.99, {@code tau}
 *       0.001; FedAdagrad {@code eta} 0.1, {@code eta_l} 0.1, {@code beta1} 0, {@code tau} 0.001.
 * </ul>
 * Ranges: {@code eta, tau > 0}; {@code eta_l, mu ≥ 0}; {@code beta, beta1, beta2} in [0, 1); all
 * finite.
 */
public interface Strategy {
    /** The outcome of one {@link #step}: the next version's weights and the strategy's next state. */
    record Step(float[] weights, StrategyState state) {
        /** @throws NullPointerException if either is null */
        public Step {
            Objects.requireNonNull(weights, "weights");
            Objects.requireNonNull(state, "state");
        }
    }

    /** The strategy's name as on the wire, e.g. {@code FedAdam}. */
    String name();

    /** Every hyperparameter by name (sorted), defaults included. */
    SortedMap<String, Double> hyperparameters();

    /**
     * The next weights and state: {@code parent} is the parent version's weights, {@code mean} the
     * decrypted mean update (at least {@code parent.length} values; the first are used),
     * {@code state} this strategy's state before the step ({@link #resume} of the parent's).
     *
     * @throws IllegalArgumentException if {@code mean} is shorter than {@code parent} or
     *     {@code state} is not a state of this strategy for {@code parent.length} parameters
     * @throws NonFiniteValueException if a value of {@code parent} or of the result is not finite
     */
    Step step(float[] parent, double[] mean, StrategyState state);

    /** The state before the first step on a model of {@code parameterCount} parameters. */
    StrategyState initialState(int parameterCount);

    /** True if this strategy keeps no state between versions (FedAvg, FedProx). */
    default boolean stateless() {
        return initialState(0).isEmpty();
    }

    /**
     * The state a step from a parent starts from: the parent version's state if it is a state of
     * this strategy (same name and shape), else {@link #initialState} (first version, or a change
     * of strategy).
     *
     * @param parentState the parent's stored state ({@link StrategyState#EMPTY} if it has none)
     */
    default StrategyState resume(StrategyState parentState, int parameterCount) {
        StrategyState initial = initialState(parameterCount);
        if (parentState == null
                || parentState.isEmpty()
                || !parentState.strategy().equals(name())
                || parentState.size() != initial.size()) {
            return initial;
        }
        for (int i = 0; i < initial.size(); i++) {
            if (parentState.vector(i).length != initial.vector(i).length) {
                return initial;
            }
        }
        return parentState;
    }

    /** The clients' learning rate {@code eta_l} ({@code RoundOpened.learningRate}); 0 = the trainer's own. */
    default double clientLearningRate() {
        return hyperparameters().getOrDefault(Strategies.ETA_L, 0.0);
    }

    /** FedProx's proximal coefficient μ ({@code RoundOpened.proximalMu}); 0 for the other strategies. */
    default double proximalMu() {
        return hyperparameters().getOrDefault(Strategies.MU, 0.0);
    }

    /** Puts this strategy's round configuration (learning rate, proximal μ) into {@code round}; returns it. */
    default RoundOpened.Builder configure(RoundOpened.Builder round) {
        return round.setLearningRate(clientLearningRate()).setProximalMu(proximalMu());
    }

    /** The wire form: the name and every hyperparameter, sorted by name. */
    default StrategySpec toSpec() {
        List<Hyperparameter> hp = new ArrayList<>();
        for (Map.Entry<String, Double> e : hyperparameters().entrySet()) {
            hp.add(Hyperparameter.newBuilder()
                    .setName(e.getKey())
                    .setValue(e.getValue())
                    .build());
        }
        return StrategySpec.newBuilder().setName(name()).setHyperparameters(hp).build();
    }

    /**
     * The value of {@code ModelVersionPublished.strategy}: null for plain FedAvg (so such versions
     * are the records FedSeal wrote before strategies), else {@link #toSpec()}.
     */
    default StrategySpec toRecordSpec() {
        return name().equals(Strategies.FED_AVG) && clientLearningRate() == 0 ? null : toSpec();
    }

    /** FedAvg: {@code x ← x + Δ} (the default). */
    static Strategy fedAvg() {
        return Strategies.create(Strategies.FED_AVG, Map.of());
    }

    /** FedProx with proximal coefficient {@code mu} (server step of FedAvg). */
    static Strategy fedProx(double mu) {
        return Strategies.create(Strategies.FED_PROX, Map.of(Strategies.MU, mu));
    }

    /** FedAvgM with server learning rate {@code eta} and momentum {@code beta}. */
    static Strategy fedAvgM(double eta, double beta) {
        return Strategies.create(Strategies.FED_AVG_M, Map.of("eta", eta, "beta", beta));
    }

    /** FedAdam with the paper's defaults except server learning rate {@code eta}. */
    static Strategy fedAdam(double eta) {
        return Strategies.create(Strategies.FED_ADAM, Map.of("eta", eta));
    }

    /** FedYogi with the paper's defaults except server learning rate {@code eta}. */
    static Strategy fedYogi(double eta) {
        return Strategies.create(Strategies.FED_YOGI, Map.of("eta", eta));
    }

    /** FedAdagrad with the paper's defaults except server learning rate {@code eta}. */
    static Strategy fedAdagrad(double eta) {
        return Strategies.create(Strategies.FED_ADAGRAD, Map.of("eta", eta));
    }

    /**
     * A strategy by name with some hyperparameters (the others take their defaults).
     *
     * @throws IllegalArgumentException for an unknown strategy or hyperparameter name, or a value out of range
     */
    static Strategy of(String name, Map<String, Double> hyperparameters) {
        return Strategies.create(name, hyperparameters);
    }

    /**
     * The strategy a version record names: null is FedAvg. Hyperparameters must be sorted by name
     * without duplicates (the canonical form); missing ones take their defaults.
     *
     * @throws IllegalArgumentException for an unknown strategy or hyperparameter name, unsorted or
     *     duplicate names, or a value out of range
     */
    static Strategy fromSpec(StrategySpec spec) {
        if (spec == null) {
            return fedAvg();
        }
        return Strategies.fromSpec(spec);
    }

    /**
     * Parses the command-line form {@code Name[:key=value,...]}, e.g. {@code FedAdam:eta=0.01,tau=0.001}.
     *
     * @throws IllegalArgumentException if malformed, or as {@link #of}
     */
    static Strategy parse(String text) {
        return Strategies.parse(text);
    }

    /** The strategy names this version knows, e.g. for help texts. */
    static List<String> names() {
        return Strategies.NAMES;
    }
}
