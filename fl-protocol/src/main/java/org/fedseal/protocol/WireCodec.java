package org.fedseal.protocol;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.fedseal.protocol.internal.BoundedDecoder;
import org.fedseal.protocol.wire.ReasonCode;

/**
 * Encodes and decodes wire records as plain Avro binary (no header, no schema id): the Kafka value
 * format and the canonical encoding used for hashing. Instances are immutable and thread-safe.
 *
 * <p>Decoding never throws anything but {@link WireFormatException}: garbage, truncated input,
 * trailing bytes, or input over {@link #maxRecordBytes()} are all reported through it. Length and
 * count prefixes are bounded by the input size, so hostile input cannot force large allocations.
 */
public final class WireCodec {
    /** Default size limit: 1 MiB, the default Kafka record size. */
    public static final int DEFAULT_MAX_RECORD_BYTES = 1 << 20;

    /** A codec with the default 1 MiB limit. */
    public static final WireCodec DEFAULT = new WireCodec(DEFAULT_MAX_RECORD_BYTES);

    /** A codec without a practical size limit ({@link Integer#MAX_VALUE} - 8), e.g. for canonical encodings of large aggregates. */
    public static final WireCodec UNBOUNDED = new WireCodec(Integer.MAX_VALUE - 8);

    private static final Map<Class<?>, SpecificDatumWriter<?>> WRITERS = new ConcurrentHashMap<>();

    private final int maxRecordBytes;

    /**
     * @param maxRecordBytes the largest encoded record accepted by {@link #encode} and {@link #decode}
     */
    public WireCodec(int maxRecordBytes) {
        if (maxRecordBytes <= 0) {
            throw new IllegalArgumentException("maxRecordBytes must be positive");
        }
        this.maxRecordBytes = maxRecordBytes;
    }

    /** A codec with the given limit. */
    public static WireCodec withMaxRecordBytes(int maxRecordBytes) {
        return new WireCodec(maxRecordBytes);
    }

    /** The size limit in bytes. */
    public int maxRecordBytes() {
        return maxRecordBytes;
    }

    /**
     * Avro binary encoding of {@code record}.
     *
     * @throws RecordTooLargeException if the encoding exceeds {@link #maxRecordBytes()}
     * @throws IllegalArgumentException if the record cannot be encoded (e.g. a required field is null)
     */
    public byte[] encode(SpecificRecord record) {
        Objects.requireNonNull(record, "record");
        byte[] out = encodeUnchecked(record);
        if (out.length > maxRecordBytes) {
            throw new RecordTooLargeException(record.getSchema().getFullName(), out.length, maxRecordBytes);
        }
        return out;
    }

    /** Encoded size of {@code record} in bytes (encodes it). */
    public static int encodedSize(SpecificRecord record) {
        return encodeUnchecked(record).length;
    }

    @SuppressWarnings("unchecked")
    static byte[] encodeUnchecked(SpecificRecord record) {
        SpecificDatumWriter<SpecificRecord> writer = (SpecificDatumWriter<SpecificRecord>)
                WRITERS.computeIfAbsent(record.getClass(), c -> new SpecificDatumWriter<>(record.getSchema()));
        ByteArrayOutputStream bos = new ByteArrayOutputStream(256);
        BinaryEncoder enc = EncoderFactory.get().directBinaryEncoder(bos, null);
        try {
            writer.write(record, enc);
            enc.flush();
        } catch (IOException e) {
            throw new IllegalStateException("in-memory encoding failed", e);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(
                    "cannot encode " + record.getSchema().getFullName() + ": " + e, e);
        }
        return bos.toByteArray();
    }

    /**
     * Decodes {@code bytes} as a record of {@code type}, requiring the whole input to be consumed.
     *
     * @throws WireFormatException with {@link ReasonCode#OVERSIZED} if over the limit, {@link ReasonCode#MALFORMED} otherwise
     */
    public <T extends SpecificRecord> T decode(byte[] bytes, Class<T> type) throws WireFormatException {
        Objects.requireNonNull(type, "type");
        String name = type.getSimpleName();
        if (bytes == null) {
            throw new WireFormatException(ReasonCode.MALFORMED, "null input for " + name, null);
        }
        if (bytes.length > maxRecordBytes) {
            throw new WireFormatException(
                    ReasonCode.OVERSIZED,
                    name + " of " + bytes.length + " bytes exceeds the limit of " + maxRecordBytes,
                    null);
        }
        try {
            BoundedDecoder in = new BoundedDecoder(bytes);
            SpecificDatumReader<T> reader = new SpecificDatumReader<>(type);
            T value = reader.read(null, in);
            if (in.remaining() != 0) {
                throw new WireFormatException(
                        ReasonCode.MALFORMED, name + ": " + in.remaining() + " trailing bytes after the record", null);
            }
            return value;
        } catch (WireFormatException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new WireFormatException(ReasonCode.MALFORMED, "not a valid " + name + ": " + e, e);
        }
    }

    /**
     * Decodes a record stored by any earlier release (a database row, a retained topic), not only
     * by this one. fl-protocol's evolution rule is that top-level fields are only ever appended,
     * each with a default; so an earlier writer's schema is the current one without some trailing
     * defaulted fields. Tries the current schema, then each such prefix (the missing fields take
     * their defaults, by Avro's schema resolution), and requires every byte to be consumed.
     *
     * @throws WireFormatException as {@link #decode} if no release's layout fits
     */
    public <T extends SpecificRecord> T decodeStored(byte[] bytes, Class<T> type) throws WireFormatException {
        WireFormatException first;
        try {
            return decode(bytes, type);
        } catch (WireFormatException e) {
            if (e.reasonCode() == ReasonCode.OVERSIZED) {
                throw e;
            }
            first = e;
        }
        Schema current = schemaOf(type);
        List<Schema.Field> fields = current.getFields();
        for (int n = fields.size() - 1; n > 0 && fields.get(n).hasDefaultValue(); n--) {
            List<Schema.Field> prefix = new ArrayList<>();
            for (Schema.Field f : fields.subList(0, n)) {
                prefix.add(new Schema.Field(f, f.schema()));
            }
            Schema writer =
                    Schema.createRecord(current.getName(), current.getDoc(), current.getNamespace(), false, prefix);
            try {
                BoundedDecoder in = new BoundedDecoder(bytes);
                T value = new SpecificDatumReader<T>(writer, current).read(null, in);
                if (in.remaining() == 0) {
                    return value;
                }
            } catch (IOException | RuntimeException e) {
                // not this release's layout either
            }
        }
        throw first;
    }

    /** Schema of a generated record class. */
    static Schema schemaOf(Class<? extends SpecificRecord> type) {
        return org.apache.avro.specific.SpecificData.get().getSchema(type);
    }
}
