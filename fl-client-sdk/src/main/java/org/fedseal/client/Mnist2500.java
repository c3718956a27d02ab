package org.fedseal.client;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Arrays;

/**
 * Loads 2,500 real MNIST digits (28&times;28, labels 0&ndash;9) from the class path, as shipped in
 * the Maven Central artifact {@code org.deeplearning4j:dl4j-test-resources:0.4.0}
 * ({@code mnist2500_X.txt}, {@code mnist2500_labels.txt}). Nothing is downloaded at run time: put
 * that artifact on the class path (test scope for tests, runtime scope for demos).
 *
 * <p>The file stores digits inverted (background 1.0); {@link #load()} flips them to the usual
 * form (background 0.0, ink up to 1.0). MNIST is licensed CC BY-SA 3.0.
 */
public final class Mnist2500 {
    /** Maven coordinates of the artifact carrying the data. */
    public static final String ARTIFACT = "org.deeplearning4j:dl4j-test-resources:0.4.0";
    /** Class-path resource with the pixels (one digit per line, 784 floats). */
    public static final String FEATURES_RESOURCE = "mnist2500_X.txt";
    /** Class-path resource with the labels (one per line). */
    public static final String LABELS_RESOURCE = "mnist2500_labels.txt";
    /** Number of digits. */
    public static final int SIZE = 2500;
    /** Pixels per digit. */
    public static final int FEATURES = 784;
    /** Number of classes. */
    public static final int CLASSES = 10;

    private static volatile LocalDataset cached;

    private Mnist2500() {}

    /**
     * The 2,500 digits with background 0.0, in file order (cached after the first call).
     *
     * @throws IllegalStateException naming the artifact if the resources are not on the class path
     */
    public static LocalDataset load() {
        LocalDataset d = cached;
        if (d == null) {
            synchronized (Mnist2500.class) {
                d = cached;
                if (d == null) {
                    d = read(Mnist2500.class.getClassLoader());
                    cached = d;
                }
            }
        }
        return d;
    }

    /** Reads the resources through {@code loader}, without caching. */
    public static LocalDataset read(ClassLoader loader) {
        float[] x = readFloats(loader, FEATURES_RESOURCE, SIZE * FEATURES);
        float[] y = readFloats(loader, LABELS_RESOURCE, SIZE);
        for (int i = 0; i < x.length; i++) {
            x[i] = 1.0f - x[i];
        }
        int[] labels = new int[SIZE];
        for (int i = 0; i < SIZE; i++) {
            labels[i] = Math.round(y[i]);
            if (labels[i] < 0 || labels[i] >= CLASSES) {
                throw new IllegalStateException(LABELS_RESOURCE + ": label " + y[i] + " at line " + (i + 1));
            }
        }
        return new LocalDataset(x, FEATURES, labels);
    }

    private static float[] readFloats(ClassLoader loader, String resource, int expected) {
        InputStream raw = loader.getResourceAsStream(resource);
        if (raw == null) {
            throw new IllegalStateException("MNIST resource '" + resource + "' is not on the class path: add the Maven"
                    + " artifact " + ARTIFACT + " (e.g. <scope>test</scope> or runtime) to use Mnist2500");
        }
        float[] out = new float[expected];
        int n = 0;
        char[] tok = new char[64];
        int len = 0;
        try (InputStream in = new BufferedInputStream(raw, 1 << 16)) {
            int c;
            while (true) {
                c = in.read();
                boolean sep = c < 0 || c == ' ' || c == '\n' || c == '\r' || c == '\t';
                if (!sep) {
                    if (len == tok.length) {
                        throw new IllegalStateException(resource + ": token too long");
                    }
                    tok[len++] = (char) c;
                } else if (len > 0) {
                    if (n == expected) {
                        throw new IllegalStateException(resource + ": more than " + expected + " values");
                    }
                    out[n++] = Float.parseFloat(new String(tok, 0, len));
                    len = 0;
                }
                if (c < 0) {
                    break;
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + resource, e);
        } catch (NumberFormatException e) {
            throw new IllegalStateException(resource + ": not a number near value " + n, e);
        }
        if (n != expected) {
            throw new IllegalStateException(resource + ": " + n + " values, expected " + expected);
        }
        return Arrays.copyOf(out, n);
    }
}
