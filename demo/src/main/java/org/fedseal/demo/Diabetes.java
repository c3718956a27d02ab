package org.fedseal.demo;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * The diabetes regression data set (Efron, Hastie, Johnstone and Tibshirani, "Least Angle
 * Regression", Annals of Statistics 2004): 442 patients, 10 baseline features (age, sex, body mass
 * index, blood pressure, six blood serum measurements) and a quantitative measure of disease
 * progression one year later (25 to 346). Read, unscaled, from the files the PyPI package
 * {@code scikit-learn} ships ({@code sklearn/datasets/data/diabetes_data_raw.csv.gz},
 * {@code diabetes_target.csv.gz}; BSD-3-Clause): nothing is downloaded at run time.
 * {@code scripts/python-venv.sh} (run by {@code ./fedseal setup}) installs it.
 *
 * <p>Where the files are looked for, first match wins: the system property
 * {@value #DIR_PROPERTY}, the environment variable {@value #DIR_ENV}, the project's venv
 * ({@code $FEDSEAL_PYTHON_VENV}, default {@code ${XDG_CACHE_HOME:-~/.cache}/fedseal/python-venv},
 * its {@code lib/python3.* /site-packages/sklearn/datasets/data}), and Debian's
 * {@code python3-sklearn} ({@code /usr/lib/python3/dist-packages/sklearn/datasets/data}).
 */
public final class Diabetes {
    /** System property naming the directory with the two files. */
    public static final String DIR_PROPERTY = "fedseal.diabetes.dir";
    /** Environment variable naming the directory with the two files. */
    public static final String DIR_ENV = "FEDSEAL_DIABETES_DIR";
    /** Patients. */
    public static final int SIZE = 442;
    /** Features per patient. */
    public static final int FEATURES = 10;

    static final String DATA_FILE = "diabetes_data_raw.csv.gz";
    static final String TARGET_FILE = "diabetes_target.csv.gz";

    /**
     * Rows of features with one regression target each.
     *
     * @param features row-major, {@code size() * FEATURES} values
     * @param targets one per row
     */
    public record Table(float[] features, float[] targets) {
        /** Number of rows. */
        public int size() {
            return targets.length;
        }

        /** Rows {@code [from, to)}. */
        public Table range(int from, int to) {
            return new Table(
                    Arrays.copyOfRange(features, from * FEATURES, to * FEATURES),
                    Arrays.copyOfRange(targets, from, to));
        }
    }

    /**
     * A train/test split, both standardized with the training rows' statistics: every feature and
     * the target to mean 0 and standard deviation 1, so that an L2 loss of 0.5 is what predicting the
     * training mean costs.
     *
     * @param targetMean mean of the training targets (to undo the scaling)
     * @param targetStd their standard deviation
     */
    public record Split(Table train, Table test, double targetMean, double targetStd) {}

    private Diabetes() {}

    /** The 442 rows, unscaled, in file order. @throws IllegalStateException naming where it looked if the files are missing */
    public static Table load() {
        Path dir = dataDir();
        float[] x = read(dir.resolve(DATA_FILE), SIZE * FEATURES);
        float[] y = read(dir.resolve(TARGET_FILE), SIZE);
        return new Table(x, y);
    }

    /** The first {@code trainSize} rows for training, the rest for testing, standardized with the training rows' statistics. */
    public static Split split(int trainSize) {
        Table all = load();
        if (trainSize < 2 || trainSize >= SIZE) {
            throw new IllegalArgumentException("trainSize must be in [2, " + (SIZE - 1) + "], got " + trainSize);
        }
        float[] x = all.features().clone();
        float[] y = all.targets().clone();
        for (int j = 0; j < FEATURES; j++) {
            double mean = 0;
            for (int i = 0; i < trainSize; i++) {
                mean += x[i * FEATURES + j];
            }
            mean /= trainSize;
            double var = 0;
            for (int i = 0; i < trainSize; i++) {
                var += Math.pow(x[i * FEATURES + j] - mean, 2);
            }
            double std = Math.sqrt(var / trainSize);
            for (int i = 0; i < SIZE; i++) {
                x[i * FEATURES + j] = (float) ((x[i * FEATURES + j] - mean) / std);
            }
        }
        double mean = 0;
        for (int i = 0; i < trainSize; i++) {
            mean += y[i];
        }
        mean /= trainSize;
        double var = 0;
        for (int i = 0; i < trainSize; i++) {
            var += Math.pow(y[i] - mean, 2);
        }
        double std = Math.sqrt(var / trainSize);
        for (int i = 0; i < SIZE; i++) {
            y[i] = (float) ((y[i] - mean) / std);
        }
        Table scaled = new Table(x, y);
        return new Split(scaled.range(0, trainSize), scaled.range(trainSize, SIZE), mean, std);
    }

    /** The directory holding the two files. @throws IllegalStateException naming every place looked at */
    public static Path dataDir() {
        List<Path> candidates = new ArrayList<>();
        String configured = System.getProperty(DIR_PROPERTY, System.getenv(DIR_ENV));
        if (configured != null && !configured.isBlank()) {
            candidates.add(Path.of(configured));
        } else {
            String venv = System.getenv("FEDSEAL_PYTHON_VENV");
            if (venv == null || venv.isBlank()) {
                String cache = System.getenv("XDG_CACHE_HOME");
                venv = (cache == null || cache.isBlank()
                                ? Path.of(System.getProperty("user.home"), ".cache")
                                : Path.of(cache))
                        .resolve("fedseal")
                        .resolve("python-venv")
                        .toString();
            }
            Path lib = Path.of(venv, "lib");
            if (Files.isDirectory(lib)) {
                try (DirectoryStream<Path> pythons = Files.newDirectoryStream(lib, "python3*")) {
                    for (Path p : pythons) {
                        candidates.add(p.resolve("site-packages/sklearn/datasets/data"));
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException("listing " + lib, e);
                }
            } else {
                candidates.add(lib.resolve("python3.*/site-packages/sklearn/datasets/data"));
            }
            candidates.add(Path.of("/usr/lib/python3/dist-packages/sklearn/datasets/data"));
        }
        for (Path dir : candidates) {
            if (Files.isRegularFile(dir.resolve(DATA_FILE)) && Files.isRegularFile(dir.resolve(TARGET_FILE))) {
                return dir;
            }
        }
        throw new IllegalStateException(
                "the diabetes data set (" + DATA_FILE + ", " + TARGET_FILE + ", shipped by the PyPI package "
                        + "scikit-learn) is not in " + candidates
                        + ": run scripts/python-venv.sh (./fedseal setup does), or set -D"
                        + DIR_PROPERTY + " / " + DIR_ENV + " to a directory holding them");
    }

    /** Whitespace-separated numbers from a gzip file; exactly {@code expected} of them. */
    private static float[] read(Path file, int expected) {
        float[] out = new float[expected];
        int n = 0;
        try (BufferedReader in = new BufferedReader(
                new InputStreamReader(new GZIPInputStream(Files.newInputStream(file)), StandardCharsets.US_ASCII))) {
            String line;
            while ((line = in.readLine()) != null) {
                for (String tok : line.trim().split("\\s+")) {
                    if (tok.isEmpty()) {
                        continue;
                    }
                    if (n == expected) {
                        throw new IllegalStateException(file + ": more than " + expected + " values");
                    }
                    out[n++] = Float.parseFloat(tok);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + file, e);
        } catch (NumberFormatException e) {
            throw new IllegalStateException(file + ": not a number near value " + n, e);
        }
        if (n != expected) {
            throw new IllegalStateException(file + ": " + n + " values, expected " + expected);
        }
        return out;
    }
}
