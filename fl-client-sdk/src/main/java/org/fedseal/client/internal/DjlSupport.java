package org.fedseal.client.internal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.fedseal.protocol.ModelLayouts;
import org.fedseal.protocol.wire.DjlParamsTemplate;
import org.fedseal.protocol.wire.ModelLayout;
import org.fedseal.protocol.wire.TensorSpec;

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

    /**
     * The layout of an initialized block: its parameters' names and shapes in
     * {@code getParameters()} order, and the DJL {@code .params} template — what
     * {@code BaseModel.save} writes for this block with every parameter's data cut out, found by
     * locating each parameter's own {@code NDArray.encode()} (whose last bytes are the data) in
     * {@code Block.saveParameters()} output, in order.
     *
     * @throws IllegalStateException if a parameter is not float32 or is not where DJL's encoding puts it
     */
    public static ModelLayout layout(Block block, String architecture) {
        try {
            ByteArrayOutputStream inputs = new ByteArrayOutputStream();
            DataOutputStream in = new DataOutputStream(inputs);
            // as BaseModel.save writes block.describeInput()
            in.writeInt(block.describeInput().size());
            for (Pair<String, Shape> p : block.describeInput()) {
                in.writeUTF(p.getKey() == null ? "" : p.getKey());
                in.write(p.getValue().getEncoded());
            }
            in.flush();
            ByteArrayOutputStream saved = new ByteArrayOutputStream();
            DataOutputStream out = new DataOutputStream(saved);
            block.saveParameters(out);
            out.flush();
            byte[] full = saved.toByteArray();

            ByteArrayOutputStream skeleton = new ByteArrayOutputStream();
            List<Long> offsets = new ArrayList<>();
            List<TensorSpec> tensors = new ArrayList<>();
            int at = 0;
            for (Pair<String, Parameter> p : block.getParameters()) {
                NDArray arr = p.getValue().getArray();
                if (arr.getDataType() != DataType.FLOAT32) {
                    throw new IllegalStateException("parameter " + p.getKey() + " is " + arr.getDataType()
                            + ": only float32 models are supported");
                }
                byte[] encoded = arr.encode();
                int found = indexOf(full, encoded, at);
                if (found < 0) {
                    throw new IllegalStateException(
                            "parameter " + p.getKey() + " is not where Block.saveParameters() put it: "
                                    + "this DJL version saves parameters differently");
                }
                float[] values = arr.toFloatArray();
                int dataLength = 4 * values.length;
                int dataStart = found + encoded.length - dataLength;
                boolean littleEndian = dataMatches(full, dataStart, values, ByteOrder.LITTLE_ENDIAN);
                if (!littleEndian) {
                    throw new IllegalStateException("parameter " + p.getKey()
                            + ": DJL's encoding does not end with its float32 " + "little-endian data");
                }
                skeleton.write(full, at, dataStart - at);
                offsets.add((long) skeleton.size());
                at = found + encoded.length;
                tensors.add(ModelLayouts.tensor(p.getKey(), arr.getShape().getShape()));
            }
            skeleton.write(full, at, full.length - at);
            DjlParamsTemplate djl = DjlParamsTemplate.newBuilder()
                    .setInputs(ByteBuffer.wrap(inputs.toByteArray()))
                    .setBlockParameters(ByteBuffer.wrap(skeleton.toByteArray()))
                    .setDataOffsets(offsets)
                    .setLittleEndian(true)
                    .build();
            ModelLayout layout = ModelLayout.newBuilder()
                    .setTensors(tensors)
                    .setArchitecture(architecture)
                    .setDjl(djl)
                    .build();
            return ModelLayouts.validate(layout, count(block));
        } catch (IOException e) {
            throw new UncheckedIOException("writing to memory", e);
        }
    }

    private static boolean dataMatches(byte[] full, int start, float[] values, ByteOrder order) {
        if (start < 0) {
            return false;
        }
        ByteBuffer b = ByteBuffer.wrap(full, start, 4 * values.length).order(order);
        for (float v : values) {
            if (Float.floatToRawIntBits(b.getFloat()) != Float.floatToRawIntBits(v)) {
                return false;
            }
        }
        return true;
    }

    private static int indexOf(byte[] haystack, byte[] needle, int from) {
        outer:
        for (int i = from; i <= haystack.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
