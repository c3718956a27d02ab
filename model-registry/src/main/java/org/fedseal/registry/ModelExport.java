package org.fedseal.registry;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.fedseal.protocol.ModelLayouts;
import org.fedseal.protocol.wire.DjlParamsTemplate;
import org.fedseal.protocol.wire.ModelLayout;
import org.fedseal.protocol.wire.TensorSpec;

/**
 * Writes a model version's weights as a file that other tools load directly, in plain Java (no
 * DJL, no Python): {@code fedseal model export} uses it.
 *
 * <ul>
 * <li>{@link #safetensors}: the <a href="https://github.com/huggingface/safetensors">safetensors</a>
 * format — an 8-byte little-endian header length, a JSON header mapping each tensor name to
 * {@code {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}} (offsets into the data,
 * in bytes) plus {@code "__metadata__"} (a string-to-string map), padded with spaces to a multiple
 * of 8 bytes, then the raw little-endian data of every tensor, contiguous, in layout order. Read
 * by {@code safetensors.numpy.load_file}, {@code safetensors.torch.load_file} and Hugging Face
 * tools. Tensor names are the layout's (for a DJL block, DJL's parameter paths such as
 * {@code 01Linear_weight}; DJL's Linear and Conv2d weights have PyTorch's shapes, (out, in) and
 * (out, in, kh, kw)).</li>
 * <li>{@link #djlParams}: a DJL {@code .params} file as {@code BaseModel.save} writes it (format
 * version 1): {@code DJL@}, the model name, {@code FLOAT32}, the block's inputs, the properties,
 * then the block's saved parameters with this version's weights — rebuilt from the layout's DJL
 * template. {@code Model.load(dir, prefix)} reads it into the same block, and
 * {@code Model.getProperty} returns the properties.</li>
 * </ul>
 *
 * <p>{@link #metadata} is what both formats carry: the version hash ({@value #VERSION_HASH}), the
 * model, its sequence number and round, the parent, the weights hash and the architecture text.
 */
public final class ModelExport {
    /** Metadata key: the version hash (lower-case hex), which commits to the weights and the lineage. */
    public static final String VERSION_HASH = "fedseal.versionHash";
    /** Metadata key: the model id. */
    public static final String MODEL_ID = "fedseal.modelId";
    /** Metadata key: the version's sequence number (0 = as registered). */
    public static final String SEQUENCE = "fedseal.sequence";
    /** Metadata key: the round that produced the version (0 for version 0). */
    public static final String ROUND = "fedseal.round";
    /** Metadata key: the parent version's hash, absent for version 0. */
    public static final String PARENT_HASH = "fedseal.parentHash";
    /** Metadata key: SHA-256 of the float32 little-endian weights (the registry's weights hash). */
    public static final String WEIGHTS_HASH = "fedseal.weightsHash";
    /** Metadata key: the model's architecture text as registered (at most {@value #MAX_ARCHITECTURE_CHARS} characters). */
    public static final String ARCHITECTURE = "fedseal.architecture";
    /** Longest architecture text carried in metadata (DJL properties are limited to 64 KB each). */
    public static final int MAX_ARCHITECTURE_CHARS = 1024;

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int DJL_MODEL_VERSION = 1;

    /** Export formats. */
    public enum Format {
        /** DJL {@code .params} (needs a layout with a DJL template). */
        DJL(".params"),
        /** safetensors (any layout; without one, a single flat tensor). */
        SAFETENSORS(".safetensors");

        private final String extension;

        Format(String extension) {
            this.extension = extension;
        }

        /** The file name extension, with its dot. */
        public String extension() {
            return extension;
        }

        /** Parses {@code djl} or {@code safetensors}, in any case. @throws IllegalArgumentException otherwise */
        public static Format parse(String name) {
            for (Format f : values()) {
                if (f.name().equalsIgnoreCase(name)) {
                    return f;
                }
            }
            throw new IllegalArgumentException("unknown export format '" + name + "' (known: djl, safetensors)");
        }
    }

    private ModelExport() {}

    /**
     * The file name for a version: {@code <modelId>-<sequence, 4 digits><extension>}, e.g.
     * {@code mnist-mlp-0005.params}, which DJL's {@code Model.load(dir, modelId)} finds (the
     * sequence number is DJL's epoch, so the newest export in a directory is the one loaded).
     */
    public static String fileName(String modelId, int sequence, Format format) {
        return String.format(Locale.ROOT, "%s-%04d%s", modelId, sequence, format.extension());
    }

    /** The metadata of {@code version} of {@code model}, in a fixed order. */
    public static Map<String, String> metadata(ModelInfo model, VersionInfo version) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(VERSION_HASH, version.versionHash());
        m.put(MODEL_ID, version.modelId());
        m.put(SEQUENCE, Integer.toString(version.sequence()));
        m.put(ROUND, Integer.toString(version.round()));
        if (version.parentHash() != null) {
            m.put(PARENT_HASH, version.parentHash());
        }
        m.put(WEIGHTS_HASH, version.weightsHash());
        String arch = model.architecture();
        m.put(ARCHITECTURE, arch.length() > MAX_ARCHITECTURE_CHARS ? arch.substring(0, MAX_ARCHITECTURE_CHARS) : arch);
        return m;
    }

    /**
     * A safetensors file of {@code weights} split as {@code layout} says, every tensor {@code F32}.
     *
     * @param metadata string pairs for {@code __metadata__} (e.g. {@link #metadata}); {@code format=pt} is added first
     * @throws IllegalArgumentException if the layout does not hold exactly the weights
     */
    public static byte[] safetensors(float[] weights, ModelLayout layout, Map<String, String> metadata) {
        ModelLayouts.validate(layout, weights.length);
        Map<String, Object> header = new LinkedHashMap<>();
        Map<String, String> meta = new LinkedHashMap<>();
        // what safetensors.torch.save_file writes; Hugging Face loaders look for it
        meta.put("format", "pt");
        meta.putAll(metadata);
        header.put("__metadata__", meta);
        long offset = 0;
        for (TensorSpec t : layout.getTensors()) {
            long bytes = 4 * ModelLayouts.elementCount(t);
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("dtype", "F32");
            entry.put("shape", t.getShape());
            entry.put("data_offsets", List.of(offset, offset + bytes));
            header.put(t.getName(), entry);
            offset += bytes;
        }
        byte[] json;
        try {
            json = JSON.writeValueAsBytes(header);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write the safetensors header", e);
        }
        // the format recommends the data start 8-byte aligned; JSON allows trailing spaces
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(8L + padded + 4L * weights.length))
                .order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(padded);
        out.put(json);
        for (int i = json.length; i < padded; i++) {
            out.put((byte) ' ');
        }
        for (float w : weights) {
            out.putFloat(w);
        }
        return out.array();
    }

    /**
     * A DJL {@code .params} file of {@code weights}, from the layout's DJL template.
     *
     * @param modelName the name DJL records (conventionally the file's prefix)
     * @param properties model properties DJL restores ({@code Model.getProperty}), e.g. {@link #metadata}
     * @throws IllegalArgumentException if the layout has no DJL template, does not hold exactly the
     *     weights, or a name or property is longer than DJL can store (65,535 bytes)
     */
    public static byte[] djlParams(
            float[] weights, ModelLayout layout, String modelName, Map<String, String> properties) {
        Objects.requireNonNull(modelName, "modelName");
        ModelLayouts.validate(layout, weights.length);
        DjlParamsTemplate djl = layout.getDjl();
        if (djl == null) {
            throw new IllegalArgumentException(
                    "the model's layout has no DJL template: register the model with DjlTrainer.layout()");
        }
        if (!djl.getLittleEndian()) {
            throw new IllegalArgumentException(
                    "the DJL template stores big-endian data, which this writer does not produce");
        }
        byte[] structure = bytes(djl.getBlockParameters());
        try {
            ByteArrayOutputStream buffer = new ByteArrayOutputStream(structure.length + 4 * weights.length + 1024);
            DataOutputStream out = new DataOutputStream(buffer);
            // BaseModel.save, in its order
            out.writeBytes("DJL@");
            out.writeInt(DJL_MODEL_VERSION);
            out.writeUTF(modelName);
            out.writeUTF("FLOAT32");
            out.write(bytes(djl.getInputs()));
            out.writeInt(properties.size());
            for (Map.Entry<String, String> e : properties.entrySet()) {
                out.writeUTF(e.getKey());
                out.writeUTF(e.getValue());
            }
            int from = 0;
            int at = 0;
            List<TensorSpec> tensors = layout.getTensors();
            for (int i = 0; i < tensors.size(); i++) {
                int offset = Math.toIntExact(djl.getDataOffsets().get(i));
                out.write(structure, from, offset - from);
                int n = Math.toIntExact(ModelLayouts.elementCount(tensors.get(i)));
                ByteBuffer data = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
                data.asFloatBuffer().put(weights, at, n);
                out.write(data.array());
                at += n;
                from = offset;
            }
            out.write(structure, from, structure.length - from);
            out.flush();
            return buffer.toByteArray();
        } catch (java.io.UTFDataFormatException e) {
            throw new IllegalArgumentException(
                    "a model name or property is too long for DJL (65,535 bytes): " + e.getMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException("writing to memory", e);
        }
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }
}
