package org.fedseal.client;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/** Seeded {@link Partitioner}s: IID and label-skewed non-IID (Dirichlet). */
public final class Partitioners {
    private Partitioners() {}

    /** Shuffles the samples (seeded) and deals them into equal shares (sizes differ by at most one). */
    public static Partitioner iid(long seed) {
        return (labels, clients) -> {
            checkClients(labels, clients);
            int[] perm = permutation(labels.length, new Random(seed));
            List<int[]> out = new ArrayList<>(clients);
            for (int c = 0; c < clients; c++) {
                int from = (int) ((long) labels.length * c / clients);
                int to = (int) ((long) labels.length * (c + 1) / clients);
                out.add(Arrays.copyOfRange(perm, from, to));
            }
            return out;
        };
    }

    /**
     * Label skew: for every class, client shares are drawn from a symmetric Dirichlet(&alpha;)
     * distribution and that class's (shuffled) samples are cut by those shares. Small &alpha; (0.1)
     * gives clients few classes each; large &alpha; (100) approaches IID. Draws are repeated (up to
     * 1,000 times, seeded) until every client has at least one sample.
     *
     * @param alpha concentration, {@code > 0}
     * @param seed seed of all random draws
     */
    public static Partitioner dirichlet(double alpha, long seed) {
        if (!(alpha > 0) || Double.isInfinite(alpha)) {
            throw new IllegalArgumentException("Dirichlet alpha must be positive and finite, got " + alpha);
        }
        return (labels, clients) -> {
            checkClients(labels, clients);
            if (labels.length < clients) {
                throw new IllegalArgumentException(
                        labels.length + " samples cannot give each of " + clients + " clients one");
            }
            Random rnd = new Random(seed);
            int numClasses = 0;
            for (int l : labels) {
                if (l < 0) {
                    throw new IllegalArgumentException("negative label " + l);
                }
                numClasses = Math.max(numClasses, l + 1);
            }
            List<List<Integer>> byClass = new ArrayList<>();
            for (int k = 0; k < numClasses; k++) {
                byClass.add(new ArrayList<>());
            }
            int[] perm = permutation(labels.length, rnd);
            for (int i : perm) {
                byClass.get(labels[i]).add(i);
            }
            for (int attempt = 0; attempt < 1000; attempt++) {
                List<List<Integer>> assigned = new ArrayList<>();
                for (int c = 0; c < clients; c++) {
                    assigned.add(new ArrayList<>());
                }
                for (List<Integer> cls : byClass) {
                    double[] p = sampleDirichlet(alpha, clients, rnd);
                    double cum = 0;
                    int from = 0;
                    for (int c = 0; c < clients; c++) {
                        cum += p[c];
                        int to = c == clients - 1
                                ? cls.size()
                                : (int) Math.min(cls.size(), Math.round(cum * cls.size()));
                        to = Math.max(to, from);
                        assigned.get(c).addAll(cls.subList(from, to));
                        from = to;
                    }
                }
                if (assigned.stream().allMatch(a -> !a.isEmpty())) {
                    List<int[]> out = new ArrayList<>(clients);
                    for (List<Integer> a : assigned) {
                        out.add(a.stream().mapToInt(Integer::intValue).toArray());
                    }
                    return out;
                }
            }
            throw new IllegalStateException("Dirichlet(" + alpha + ") left a client without samples in 1000 draws;"
                    + " use a larger alpha or fewer clients");
        };
    }

    /**
     * One draw from the symmetric Dirichlet(&alpha;) distribution over {@code k} categories
     * (normalized Gamma(&alpha;, 1) draws); the result sums to 1.
     */
    public static double[] sampleDirichlet(double alpha, int k, Random rnd) {
        double[] g = new double[k];
        double sum = 0;
        while (sum == 0) {
            sum = 0;
            for (int i = 0; i < k; i++) {
                g[i] = sampleGamma(alpha, rnd);
                sum += g[i];
            }
        }
        for (int i = 0; i < k; i++) {
            g[i] /= sum;
        }
        return g;
    }

    /** Gamma(shape, 1) by Marsaglia and Tsang (2000), boosted for shape &lt; 1. */
    static double sampleGamma(double shape, Random rnd) {
        if (shape < 1) {
            double u = rnd.nextDouble();
            return sampleGamma(shape + 1, rnd) * Math.pow(u, 1 / shape);
        }
        double d = shape - 1.0 / 3;
        double c = 1 / Math.sqrt(9 * d);
        while (true) {
            double x;
            double v;
            do {
                x = rnd.nextGaussian();
                v = 1 + c * x;
            } while (v <= 0);
            v = v * v * v;
            double u = rnd.nextDouble();
            if (u < 1 - 0.0331 * x * x * x * x || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) {
                return d * v;
            }
        }
    }

    private static int[] permutation(int n, Random rnd) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    private static void checkClients(int[] labels, int clients) {
        if (labels == null) {
            throw new NullPointerException("labels");
        }
        if (clients < 1) {
            throw new IllegalArgumentException("clients must be >= 1, got " + clients);
        }
    }
}
