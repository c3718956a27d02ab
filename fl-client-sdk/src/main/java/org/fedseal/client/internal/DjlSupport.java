package org.fedseal.client.internal;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import java.nio.FloatBuffer;
import java.util.Arrays;

/** DJL plumbing: offline start-up settings and flat parameter vectors. Not public API. */
public final class DjlSupport {
    /** DJL's offline switch (without it DJL contacts the network at engine start). */
    public static final String OFFLINE_PROPERTY = "ai.djl.offline";
    /** PyTorch intra-op threads. */
    public static final String THREADS_PROPERTY = "ai.djl.pytorch.num_threads";
    /** PyTorch inter-op threads. */
    public static final String INTEROP_THREADS_PROPERTY = "ai.djl.pytorch.num_interop_threads";

    private DjlSupport() {}

    /**
     * Sets the system properties DJL reads when its PyTorch engine starts, unless already set. Has no
     * effect on thread counts once the engine has started in this JVM.
     */
    public static synchronized void prepareEngine(int numThreads) {
        if (System.getProperty(OFFLINE_PROPERTY) == null) {
            System.setProperty(OFFLINE_PROPERTY, "true");
        }
        if (System.getProperty(THREADS_PROPERTY) == null) {
            System.setProperty(THREADS_PROPERTY, Integer.toString(numThreads));
        }
        if (System.getProperty(INTEROP_THREADS_PROPERTY) == null) {
            System.setProperty(INTEROP_THREADS_PROPERTY, Integer.toString(numThreads));
        }
    }

    /** Number of scalar parameters of an initialized block. */
    public static int count(Block block) {
        long n = 0;
        for (Pair<String, Parameter> p : block.getParameters()) {
            n += p.getValue().getArray().size();
        }
        return Math.toIntExact(n);
    }

    /** The block's parameters as one vector, in {@code getParameters()} order. */
    public static float[] flatten(Block block) {
        float[] out = new float[count(block)];
        int at = 0;
        for (Pair<String, Parameter> p : block.getParameters()) {
            float[] a = p.getValue().getArray().toFloatArray();
            System.arraycopy(a, 0, out, at, a.length);
            at += a.length;
        }
        return out;
    }

    /** Overwrites the block's parameters from one vector, in {@code getParameters()} order. */
    public static void load(Block block, float[] flat) {
        int total = count(block);
        if (flat.length != total) {
            throw new IllegalArgumentException("model has " + total + " parameters, got a vector of " + flat.length);
        }
        int at = 0;
        for (Pair<String, Parameter> p : block.getParameters()) {
            NDArray arr = p.getValue().getArray();
            int n = Math.toIntExact(arr.size());
            arr.set(FloatBuffer.wrap(Arrays.copyOfRange(flat, at, at + n)));
            at += n;
        }
    }
}
