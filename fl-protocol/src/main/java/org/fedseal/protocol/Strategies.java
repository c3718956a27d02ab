package org.fedseal.protocol;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import org.fedseal.protocol.wire.Hyperparameter;
import org.fedseal.protocol.wire.StrategySpec;

/** The strategy names, hyperparameter defaults and ranges, and spec parsing behind {@link Strategy}. */
final class Strategies {
    static final String FED_AVG = "FedAvg";
    static final String FED_PROX = "FedProx";
    static final String FED_AVG_M = "FedAvgM";
    static final String FED_ADAGRAD = "FedAdagrad";
    static final String FED_ADAM = "FedAdam";
    static final String FED_YOGI = "FedYogi";
    static final String ETA_L = "eta_l";
    static final String MU = "mu";
    static final List<String> NAMES = List.of(FED_AVG, FED_AVG_M, FED_ADAGRAD, FED_ADAM, FED_YOGI, FED_PROX);

    private static final Map<String, SortedMap<String, Double>> DEFAULTS = new LinkedHashMap<>();

    static {
        DEFAULTS.put(FED_AVG, defaults(ETA_L, 0.0));
        DEFAULTS.put(FED_PROX, defaults(ETA_L, 0.0, MU, 0.01));
        // Hsu et al. 2019: server momentum beta = 0.9 with server learning rate 1 (plain FedAvg at beta = 0)
        DEFAULTS.put(FED_AVG_M, defaults(ETA_L, 0.0, "eta", 1.0, "beta", 0.9));
        // Reddi et al., ICLR 2021 (and Flower's FedOpt family)
        DEFAULTS.put(FED_ADAGRAD, defaults(ETA_L, 0.1, "eta", 0.1, "beta1", 0.0, "tau", 1e-3));
        DEFAULTS.put(FED_ADAM, defaults(ETA_L, 0.1, "eta", 0.1, "beta1", 0.9, "beta2", 0.99, "tau", 1e-3));
        DEFAULTS.put(FED_YOGI, defaults(ETA_L, 0.0316, "eta", 0.01, "beta1", 0.9, "beta2", 0.99, "tau", 1e-3));
    }

    private Strategies() {}

    private static SortedMap<String, Double> defaults(Object... kv) {
        SortedMap<String, Double> m = new TreeMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], (Double) kv[i + 1]);
        }
        return Collections.unmodifiableSortedMap(m);
    }

    /** A strategy with {@code given} hyperparameters over the defaults; see {@link Strategy#of}. */
    static Strategy create(String name, Map<String, Double> given) {
        SortedMap<String, Double> d = DEFAULTS.get(name);
        if (d == null) {
            throw new IllegalArgumentException("unknown strategy '" + name + "'; known: " + String.join(", ", NAMES));
        }
        SortedMap<String, Double> hp = new TreeMap<>(d);
        for (Map.Entry<String, Double> e : given.entrySet()) {
            if (!d.containsKey(e.getKey())) {
                throw new IllegalArgumentException("unknown hyperparameter '" + e.getKey() + "' for " + name
                        + "; known: " + String.join(", ", d.keySet()));
            }
            double v = e.getValue();
            checkRange(name, e.getKey(), v);
            hp.put(e.getKey(), v);
        }
        return new ServerStrategy(name, Collections.unmodifiableSortedMap(hp));
    }

    private static void checkRange(String strategy, String key, double v) {
        String problem = null;
        if (!Double.isFinite(v)) {
            problem = "must be finite";
        } else if (key.equals("eta") || key.equals("tau")) {
            problem = v > 0 ? null : "must be > 0";
        } else if (key.equals(ETA_L) || key.equals(MU)) {
            problem = v >= 0 ? null : "must be >= 0";
        } else if (key.startsWith("beta")) {
            problem = v >= 0 && v < 1 ? null : "must be in [0, 1)";
        }
        if (problem != null) {
            throw new IllegalArgumentException(strategy + " hyperparameter " + key + " " + problem + ", got " + v);
        }
    }

    /** See {@link Strategy#fromSpec}. */
    static Strategy fromSpec(StrategySpec spec) {
        Map<String, Double> given = new LinkedHashMap<>();
        String previous = null;
        for (Hyperparameter h : spec.getHyperparameters()) {
            String key = h.getName().toString();
            if (previous != null && previous.compareTo(key) >= 0) {
                throw new IllegalArgumentException(
                        "strategy " + spec.getName() + ": hyperparameters must be sorted by name without"
                                + " duplicates ('" + previous + "' before '" + key + "')");
            }
            previous = key;
            given.put(key, h.getValue());
        }
        return create(spec.getName().toString(), given);
    }

    /** See {@link Strategy#parse}. */
    static Strategy parse(String text) {
        String t = text.strip();
        int colon = t.indexOf(':');
        String name = colon < 0 ? t : t.substring(0, colon);
        Map<String, Double> given = new LinkedHashMap<>();
        if (colon >= 0 && colon < t.length() - 1) {
            for (String kv : t.substring(colon + 1).split(",")) {
                int eq = kv.indexOf('=');
                if (eq <= 0) {
                    throw new IllegalArgumentException("strategy '" + text + "': expected key=value, got '" + kv + "'");
                }
                String key = kv.substring(0, eq).strip();
                try {
                    if (given.put(key, Double.parseDouble(kv.substring(eq + 1).strip())) != null) {
                        throw new IllegalArgumentException("strategy '" + text + "' sets " + key + " twice");
                    }
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("strategy '" + text + "': " + key + " is not a number");
                }
            }
        }
        for (String known : NAMES) {
            if (known.equalsIgnoreCase(name)) {
                return create(known, given);
            }
        }
        return create(name, given);
    }
}
