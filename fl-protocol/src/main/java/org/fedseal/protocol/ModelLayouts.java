package org.fedseal.protocol;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.fedseal.protocol.wire.DjlParamsTemplate;
import org.fedseal.protocol.wire.ModelLayout;
import org.fedseal.protocol.wire.TensorSpec;

/**
 * The {@link ModelLayout} of a model: how its flat float32 weight vector ({@link ModelWeights})
 * splits into named, shaped tensors, and optionally what DJL writes around them. The SDK makes a
 * layout from a DJL block ({@code DjlTrainer.layout()}), the registry stores it with the model
 * and checks it against the parameter count, and {@code fedseal model export} uses it to write
 * safetensors and DJL {@code .params} files.
 *
 * <p>Its one serialized form is Avro binary ({@link #encode}); {@link #decode} is bounded
 * ({@link #MAX_ENCODED_BYTES}) and never throws anything but {@link WireFormatException} on bad
 * input.
 */
public final class ModelLayouts {
    /** Largest encoded layout accepted: 16 MiB (a DJL template is a few bytes per parameter tensor). */
    public static final int MAX_ENCODED_BYTES = 16 << 20;
    /** Longest tensor name, in characters. */
    public static final int MAX_NAME_LENGTH = 1024;
    /** The key a safetensors header reserves for its metadata map: no tensor may be named so. */
    public static final String SAFETENSORS_METADATA_KEY = "__metadata__";
    /** Name of the single tensor of {@link #flat}. */
    public static final String FLAT_TENSOR_NAME = "weights";

    private static final WireCodec CODEC = new WireCodec(MAX_ENCODED_BYTES);

    private ModelLayouts() {}

    /** A tensor spec with the given name and dimensions. */
    public static TensorSpec tensor(String name, long... shape) {
        List<Long> dims = new ArrayList<>(shape.length);
        for (long d : shape) {
            dims.add(d);
        }
        return TensorSpec.newBuilder()
                .setName(Objects.requireNonNull(name, "name"))
                .setShape(dims)
                .build();
    }

    /** The layout of a model known only by its size: one tensor {@value #FLAT_TENSOR_NAME} of shape {@code [parameterCount]}, no DJL template. */
    public static ModelLayout flat(long parameterCount) {
        if (parameterCount < 1) {
            throw new IllegalArgumentException("parameterCount must be >= 1, got " + parameterCount);
        }
        return ModelLayout.newBuilder()
                .setTensors(List.of(tensor(FLAT_TENSOR_NAME, parameterCount)))
                .setArchitecture("flat weight vector")
                .setDjl(null)
                .build();
    }

    /**
     * Number of elements of {@code t}: the product of its dimensions (1 for a scalar).
     *
     * @throws IllegalArgumentException if a dimension is below 1 or the product overflows a long
     */
    public static long elementCount(TensorSpec t) {
        long n = 1;
        for (long d : t.getShape()) {
            if (d < 1) {
                throw new IllegalArgumentException("tensor " + t.getName() + " has dimension " + d + " (must be >= 1)");
            }
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** Sum of the tensors' element counts. @throws IllegalArgumentException as {@link #elementCount} */
    public static long parameterCount(ModelLayout layout) {
        long n = 0;
        for (TensorSpec t : layout.getTensors()) {
            n = Math.addExact(n, elementCount(t));
        }
        return n;
    }

    /**
     * Checks {@code layout} for a model of {@code parameterCount} weights: at least one tensor;
     * names non-empty, at most {@value #MAX_NAME_LENGTH} characters, unique, not
     * {@value #SAFETENSORS_METADATA_KEY}; dimensions {@code >= 1};
     * element counts adding up to {@code parameterCount}; a DJL template with one offset per
     * tensor, non-decreasing and inside its block parameters, and inputs of at least their count.
     *
     * @return {@code layout}
     * @throws IllegalArgumentException naming the first problem
     */
    public static ModelLayout validate(ModelLayout layout, long parameterCount) {
        Objects.requireNonNull(layout, "layout");
        List<TensorSpec> tensors = layout.getTensors();
        if (tensors.isEmpty()) {
            throw new IllegalArgumentException("the layout has no tensors");
        }
        Set<String> names = new HashSet<>();
        for (TensorSpec t : tensors) {
            String name = t.getName();
            if (name.isEmpty() || name.length() > MAX_NAME_LENGTH) {
                throw new IllegalArgumentException(
                        "tensor name must have 1 to " + MAX_NAME_LENGTH + " characters, got " + name.length());
            }
            if (!names.add(name)) {
                throw new IllegalArgumentException("tensor name " + name + " appears twice");
            }
            if (name.equals(SAFETENSORS_METADATA_KEY)) {
                throw new IllegalArgumentException(
                        "tensor name " + name + " is reserved (the safetensors header's metadata key)");
            }
        }
        long total;
        try {
            total = parameterCount(layout);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("the layout's element count overflows a long");
        }
        if (total != parameterCount) {
            throw new IllegalArgumentException(
                    "the layout's tensors hold " + total + " values, the model has " + parameterCount);
        }
        DjlParamsTemplate djl = layout.getDjl();
        if (djl != null) {
            List<Long> offsets = djl.getDataOffsets();
            if (offsets.size() != tensors.size()) {
                throw new IllegalArgumentException(
                        "the DJL template has " + offsets.size() + " data offsets for " + tensors.size() + " tensors");
            }
            long length = djl.getBlockParameters().remaining();
            long previous = 0;
            for (int i = 0; i < offsets.size(); i++) {
                long o = offsets.get(i);
                if (o < previous || o > length) {
                    throw new IllegalArgumentException("DJL data offset " + i + " is " + o
                            + ": offsets must be non-decreasing and at most " + length + " (the template's length)");
                }
                previous = o;
            }
            if (djl.getInputs().remaining() < 4) {
                throw new IllegalArgumentException("the DJL template's inputs must start with their count (4 bytes)");
            }
        }
        return layout;
    }

    /** The layout's canonical bytes (Avro binary). */
    public static byte[] encode(ModelLayout layout) {
        return CODEC.encode(layout);
    }

    /**
     * Parses {@link #encode} output (structure only; see {@link #validate} for the meaning).
     *
     * @throws WireFormatException on garbage, truncation, trailing bytes or more than {@link #MAX_ENCODED_BYTES}
     */
    public static ModelLayout decode(byte[] bytes) throws WireFormatException {
        return CODEC.decode(bytes, ModelLayout.class);
    }
}
