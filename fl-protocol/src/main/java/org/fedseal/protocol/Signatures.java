package org.fedseal.protocol;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;
import org.fedseal.protocol.wire.AggregatePublished;
import org.fedseal.protocol.wire.ModelVersionPublished;
import org.fedseal.protocol.wire.SignedTreeHead;
import org.fedseal.protocol.wire.UpdateCommit;

/**
 * Ed25519 signing and verification of the signed wire records.
 *
 * <p>The signed message is {@code "FedSeal-Ed25519-v1:" + <record full name> + "\n"} (US-ASCII)
 * followed by the record's {@linkplain CanonicalHash#canonicalBytes canonical encoding} (Avro binary
 * with {@code signature} empty). The prefix separates domains, so a signature over one record type
 * can never verify as another.
 *
 * <p>{@code sign*} methods return a signed deep copy; the argument is not modified.
 * {@code verify*} methods return false (never throw) for a missing, malformed or wrong signature.
 */
public final class Signatures {
    /** Domain-separation prefix of every signed message. */
    public static final String DOMAIN_PREFIX = "FedSeal-Ed25519-v1:";

    private Signatures() {}

    /** The exact bytes that are signed for {@code record}. */
    public static byte[] signedMessage(SpecificRecord record) {
        byte[] prefix = (DOMAIN_PREFIX + record.getSchema().getFullName() + "\n").getBytes(StandardCharsets.US_ASCII);
        byte[] body = CanonicalHash.canonicalBytes(record);
        byte[] out = new byte[prefix.length + body.length];
        System.arraycopy(prefix, 0, out, 0, prefix.length);
        System.arraycopy(body, 0, out, prefix.length, body.length);
        return out;
    }

    /** Signs an update manifest with the client's key. */
    public static UpdateCommit sign(UpdateCommit commit, SigningPrivateKey key) {
        return signRecord(commit, key);
    }

    /** Signs an aggregate with the aggregator's key. */
    public static AggregatePublished sign(AggregatePublished aggregate, SigningPrivateKey key) {
        return signRecord(aggregate, key);
    }

    /** Signs a model version with the publisher's key. */
    public static ModelVersionPublished sign(ModelVersionPublished version, SigningPrivateKey key) {
        return signRecord(version, key);
    }

    /** Signs a tree head with the log's key. */
    public static SignedTreeHead sign(SignedTreeHead treeHead, SigningPrivateKey key) {
        return signRecord(treeHead, key);
    }

    /** Verifies an update manifest against the client's enrolled key. */
    public static boolean verify(UpdateCommit commit, SigningPublicKey key) {
        return verifyRecord(commit, key);
    }

    /** Verifies an aggregate against the aggregator's key. */
    public static boolean verify(AggregatePublished aggregate, SigningPublicKey key) {
        return verifyRecord(aggregate, key);
    }

    /** Verifies a model version against the publisher's key. */
    public static boolean verify(ModelVersionPublished version, SigningPublicKey key) {
        return verifyRecord(version, key);
    }

    /** Verifies a tree head against the log's key. */
    public static boolean verify(SignedTreeHead treeHead, SigningPublicKey key) {
        return verifyRecord(treeHead, key);
    }

    /**
     * Signs any record that has a {@code bytes} field named {@code signature}.
     *
     * @throws IllegalArgumentException if it has none
     */
    @SuppressWarnings("unchecked")
    public static <T extends SpecificRecord> T signRecord(T record, SigningPrivateKey key) {
        Objects.requireNonNull(record, "record");
        Objects.requireNonNull(key, "key");
        Schema.Field field = signatureField(record);
        byte[] sig = key.sign(signedMessage(record));
        T copy = SpecificData.get().deepCopy(record.getSchema(), record);
        copy.put(field.pos(), ByteBuffer.wrap(sig));
        return copy;
    }

    /** Verifies any record that has a {@code bytes} field named {@code signature}; false if it has none. */
    public static boolean verifyRecord(SpecificRecord record, SigningPublicKey key) {
        if (record == null || key == null) {
            return false;
        }
        Schema.Field field = record.getSchema().getField(CanonicalHash.SIGNATURE_FIELD);
        if (field == null || !(record.get(field.pos()) instanceof ByteBuffer sig)) {
            return false;
        }
        try {
            return key.verify(signedMessage(record), Bytes.toArray(sig));
        } catch (IllegalArgumentException e) {
            return false; // unencodable record, e.g. a required field is null
        }
    }

    private static Schema.Field signatureField(SpecificRecord record) {
        Schema.Field field = record.getSchema().getField(CanonicalHash.SIGNATURE_FIELD);
        if (field == null || field.schema().getType() != Schema.Type.BYTES) {
            throw new IllegalArgumentException(record.getSchema().getFullName() + " has no bytes field 'signature'");
        }
        return field;
    }
}
