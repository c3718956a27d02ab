package org.fedseal.aggregator.internal;

/**
 * One input record flowing through the job (a Flink POJO: public fields, no-arg constructor). The
 * payload stays as the raw Kafka bytes; the fields beside it are what the stateless pre-validation
 * learnt (or the reason it rejected the record). A chunk reaches the round's bookkeeping as a
 * receipt: its ciphertexts go to the summing stage ({@link ChunkPayload}), its {@link #value} is
 * empty, and the fields below say what the pre-validation's load of them found.
 */
public class Inbound {
    /** Record came from the updates topic. */
    public static final int UPDATE = 0;
    /** Record came from the rounds topic. */
    public static final int ROUND = 1;
    /** Record came from the enrollments topic. */
    public static final int ENROLLMENT = 2;

    /** Chunk payload. */
    public static final int PAYLOAD_CHUNK = 1;
    /** Commit payload. */
    public static final int PAYLOAD_COMMIT = 2;

    public int source;
    public int payloadKind;
    public byte[] key;
    public byte[] value;
    /** Model id ("" if unknown); the key of the stateful stage. */
    public String modelId = "";

    public int round = -1;
    public String clientId;
    public String updateId;
    public int chunkIndex = -1;
    /** Hex canonical hash of the chunk, computed before the keyed stage. */
    public String chunkHash;
    /** Sum of the ciphertext bytes of a chunk. */
    public long ciphertextBytes;
    /** Chunk: the served parameter set its ciphertexts loaded in. */
    public String heParamsId;
    /** Chunk: the packing of its ciphertexts (a Packing name), if all share one, else null. */
    public String packing;
    /** Chunk: the number of values each of its ciphertexts encrypts (coefficients of a masked block), in order. */
    public int[] vectorLengths;
    /** Chunk: per entry, the modulus of a masked block (he-native MaskedVectors), 0 for a CKKS ciphertext. */
    public long[] maskModuli;
    /** Non-null when pre-validation rejected the record: a ReasonCode name. */
    public String rejectReason;

    public String rejectDetail;
    /** RecordKind name for rejections. */
    public String recordKind;

    public long arrivalMillis;
    public String origin;

    public Inbound() {}

    boolean isRejected() {
        return rejectReason != null;
    }

    @Override
    public String toString() {
        return "Inbound[" + origin + " " + modelId + "/" + round + "/" + clientId + " update " + updateId
                + (payloadKind == PAYLOAD_CHUNK
                        ? " chunk " + chunkIndex
                        : payloadKind == PAYLOAD_COMMIT ? " commit" : "")
                + "]";
    }
}
