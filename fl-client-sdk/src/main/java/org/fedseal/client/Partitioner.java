package org.fedseal.client;

import java.util.List;

/**
 * Splits a data set among simulated clients. Every sample goes to exactly one client. Implementations
 * are deterministic for a given seed; see {@link Partitioners} for IID and Dirichlet label skew.
 */
@FunctionalInterface
public interface Partitioner {
    /**
     * Assigns the samples with these labels to {@code clients} clients.
     *
     * @param labels the class label of every sample
     * @param clients number of clients, {@code >= 1}
     * @return one array of sample indices per client; together a permutation of {@code 0..labels.length-1}
     */
    List<int[]> partition(int[] labels, int clients);
}
