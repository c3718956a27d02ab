package org.fedseal.registry.internal;

import java.nio.ByteBuffer;
import java.util.Base64;
import org.apache.avro.specific.SpecificRecord;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.WireCodec;
import org.fedseal.protocol.WireFormatException;

/** Helpers shared by the registry's sections and repositories: stored-record decoding and hex/base64. */
final class Records {
    /** Codec for aggregates, which may exceed the 1 MiB Kafka default. */
    static final WireCodec LARGE = WireCodec.withMaxRecordBytes(512 << 20);

    private Records() {}

    static <T extends SpecificRecord> T decode(String b64, Class<T> type) {
        return decodeBytes(Base64.getDecoder().decode(b64), type);
    }

    static <T extends SpecificRecord> T decodeBytes(byte[] bytes, Class<T> type) {
        try {
            return LARGE.decodeStored(bytes, type); // rows written by earlier releases too
        } catch (WireFormatException e) {
            throw new IllegalStateException(
                    "stored " + type.getSimpleName() + " does not decode: " + e.getMessage(), e);
        }
    }

    static String b64(byte[] b) {
        return Base64.getEncoder().encodeToString(b);
    }

    static String hexOrNull(ByteBuffer b) {
        return b == null || b.remaining() == 0 ? null : Hash.of(b).toHex();
    }

    static ByteBuffer empty() {
        return ByteBuffer.allocate(0);
    }
}
