package org.fedseal.protocol;

import java.nio.ByteBuffer;
import java.util.Objects;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;
import org.fedseal.protocol.wire.ModelVersionPublished;

/**
 * The one canonical encoding and hash of FedSeal: the Avro binary encoding of a record with its
 * {@code signature} field (if it has one) set to empty bytes, hashed with SHA-256. Every module
 * hashes and signs through this class so that all agree byte for byte.
 */
public final class CanonicalHash {
    /** Name of the field that is emptied before hashing and signing. */
    public static final String SIGNATURE_FIELD = "signature";

    private CanonicalHash() {}

    /** Canonical bytes of {@code record}: Avro binary with {@code signature} empty. The record is not modified. */
    public static byte[] canonicalBytes(SpecificRecord record) {
        return WireCodec.encodeUnchecked(withEmptied(record, SIGNATURE_FIELD));
    }

    /** SHA-256 of {@link #canonicalBytes(SpecificRecord)}. */
    public static Hash of(SpecificRecord record) {
        return Hash.sha256(canonicalBytes(record));
    }

    /**
     * The version hash of a model version: SHA-256 of its canonical encoding with both
     * {@code versionHash} and {@code signature} empty. It thereby commits to the parent hash, the
     * aggregate hash, the accepted-update root, the round and the weights hash.
     */
    public static Hash versionHash(ModelVersionPublished version) {
        return Hash.sha256(WireCodec.encodeUnchecked(withEmptied(version, SIGNATURE_FIELD, "versionHash")));
    }

    /** A deep copy of {@code record} with the named bytes fields (those that exist) set to empty bytes. */
    @SuppressWarnings("unchecked")
    static <T extends SpecificRecord> T withEmptied(T record, String... fields) {
        Objects.requireNonNull(record, "record");
        Schema schema = record.getSchema();
        boolean any = false;
        for (String f : fields) {
            if (schema.getField(f) != null) {
                any = true;
            }
        }
        if (!any) {
            return record;
        }
        T copy = SpecificData.get().deepCopy(schema, record);
        for (String f : fields) {
            Schema.Field field = schema.getField(f);
            if (field != null) {
                copy.put(field.pos(), ByteBuffer.allocate(0));
            }
        }
        return copy;
    }
}
