package org.fedseal.client;

import java.util.Arrays;
import java.util.Objects;

/**
 * A labelled local data set held in plain Java arrays (no native dependency, so it also serves a
 * future Android trainer): {@link #size()} rows of {@link #featureSize()} floats, stored row-major
 * in one array, and one integer class label per row.
 *
 * @param features row-major features, {@code size() * featureSize} values
 * @param featureSize values per row
 * @param labels one class label per row, {@code >= 0}
 */
public record LocalDataset(float[] features, int featureSize, int[] labels) {
    /** Checks the shapes. */
    public LocalDataset {
        Objects.requireNonNull(features, "features");
        Objects.requireNonNull(labels, "labels");
        if (featureSize <= 0) {
            throw new IllegalArgumentException("featureSize must be positive, got " + featureSize);
        }
        if ((long) labels.length * featureSize != features.length) {
            throw new IllegalArgumentException(
                    features.length + " feature values do not make " + labels.length + " rows of " + featureSize);
        }
    }

    /** Number of rows (samples). */
    public int size() {
        return labels.length;
    }

    /** The largest label + 1 (0 when empty). */
    public int numClasses() {
        int max = -1;
        for (int l : labels) {
            max = Math.max(max, l);
        }
        return max + 1;
    }

    /** A new data set made of the rows at {@code indices} (in that order). */
    public LocalDataset subset(int[] indices) {
        float[] f = new float[indices.length * featureSize];
        int[] l = new int[indices.length];
        for (int i = 0; i < indices.length; i++) {
            int row = Objects.checkIndex(indices[i], size());
            System.arraycopy(features, row * featureSize, f, i * featureSize, featureSize);
            l[i] = labels[row];
        }
        return new LocalDataset(f, featureSize, l);
    }

    /** Rows {@code [from, to)}. */
    public LocalDataset range(int from, int to) {
        Objects.checkFromToIndex(from, to, size());
        return new LocalDataset(
                Arrays.copyOfRange(features, from * featureSize, to * featureSize),
                featureSize,
                Arrays.copyOfRange(labels, from, to));
    }

    @Override
    public String toString() {
        return "LocalDataset[" + size() + " x " + featureSize + "]";
    }
}
