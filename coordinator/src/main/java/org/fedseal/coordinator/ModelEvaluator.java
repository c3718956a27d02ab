package org.fedseal.coordinator;

import java.util.Map;
import java.util.ServiceLoader;
import java.util.stream.Collectors;

/**
 * Scores a new model version's weights (for example its accuracy on held-out data) before it is
 * published; the score is recorded with the version. The services find evaluators by name on
 * their class path ({@code --evaluator NAME}), through {@link Provider}s registered with
 * {@link ServiceLoader} ({@code META-INF/services/org.fedseal.coordinator.ModelEvaluator$Provider}).
 */
@FunctionalInterface
public interface ModelEvaluator {
    /** The score of {@code parameters}, the model's flat weight vector. */
    double evaluate(float[] parameters);

    /** Makes {@link ModelEvaluator}s of one kind; registered with {@link ServiceLoader}. */
    interface Provider {
        /** The name {@code --evaluator} selects this provider by. */
        String name();

        /**
         * An evaluator configured by {@code options} (the {@code --evaluator-option KEY=VALUE} pairs).
         *
         * @throws IllegalArgumentException if an option is unknown or malformed
         */
        ModelEvaluator create(Map<String, String> options);
    }

    /**
     * The evaluator of the provider named {@code name} on the class path.
     *
     * @throws IllegalArgumentException if no provider has that name
     */
    static ModelEvaluator load(String name, Map<String, String> options) {
        ServiceLoader<Provider> providers = ServiceLoader.load(Provider.class);
        for (Provider p : providers) {
            if (p.name().equals(name)) {
                return p.create(Map.copyOf(options));
            }
        }
        String known = providers.stream().map(p -> p.get().name()).sorted().collect(Collectors.joining(", "));
        throw new IllegalArgumentException("no model evaluator named '" + name + "' on the class path (known: "
                + (known.isEmpty() ? "none" : known) + ")");
    }
}
