package org.fedseal.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PartitionersTest {
    static int[] labels(int n, int classes, long seed) {
        Random r = new Random(seed);
        int[] l = new int[n];
        for (int i = 0; i < n; i++) {
            l[i] = r.nextInt(classes);
        }
        return l;
    }

    static void assertEverySampleOnce(List<int[]> parts, int n) {
        int[] seen = new int[n];
        for (int[] p : parts) {
            for (int i : p) {
                seen[i]++;
            }
        }
        for (int i = 0; i < n; i++) {
            assertEquals(1, seen[i], "sample " + i);
        }
    }

    @Test
    void iidAssignsEverySampleOnceInEqualShares() {
        int[] l = labels(2503, 10, 1);
        List<int[]> parts = Partitioners.iid(5).partition(l, 7);
        assertEquals(7, parts.size());
        assertEverySampleOnce(parts, l.length);
        for (int[] p : parts) {
            assertTrue(p.length == 357 || p.length == 358, "share " + p.length);
        }
        assertArrayEquals(parts.get(3), Partitioners.iid(5).partition(l, 7).get(3), "seeded");
    }

    @Test
    void dirichletSamplesSumToOne() {
        Random r = new Random(9);
        for (double alpha : new double[] {0.05, 0.5, 1, 10}) {
            for (int t = 0; t < 100; t++) {
                double[] p = Partitioners.sampleDirichlet(alpha, 8, r);
                double s = 0;
                for (double x : p) {
                    assertTrue(x >= 0);
                    s += x;
                }
                assertEquals(1.0, s, 1e-12);
            }
        }
    }

    @Test
    void dirichletAssignsEverySampleOnceAndSkewsLabels() {
        int[] l = labels(2000, 10, 2);
        List<int[]> skewed = Partitioners.dirichlet(0.1, 3).partition(l, 5);
        assertEverySampleOnce(skewed, l.length);
        List<int[]> flat = Partitioners.dirichlet(1000, 3).partition(l, 5);
        assertEverySampleOnce(flat, l.length);
        for (int[] p : skewed) {
            assertTrue(p.length > 0);
        }
        // label skew: the dominant class share per client is much larger with small alpha
        assertTrue(meanDominantShare(skewed, l) > meanDominantShare(flat, l) + 0.2);
        assertArrayEquals(
                skewed.get(0), Partitioners.dirichlet(0.1, 3).partition(l, 5).get(0), "seeded");
    }

    static double meanDominantShare(List<int[]> parts, int[] labels) {
        double sum = 0;
        for (int[] p : parts) {
            int[] count = new int[10];
            for (int i : p) {
                count[labels[i]]++;
            }
            int max = 0;
            for (int c : count) {
                max = Math.max(max, c);
            }
            sum += (double) max / p.length;
        }
        return sum / parts.size();
    }
}
