package org.fedseal.protocol;

/**
 * Size and time limits applied by {@link UpdateValidator}.
 *
 * @param maxRecordBytes largest encoded record (Kafka value) accepted
 * @param maxCiphertextBytes largest single serialized ciphertext accepted
 * @param maxIdLength longest clientId / modelId / updateId / heParamsId accepted
 * @param maxClockSkewMillis how far in the future a commit's createdAtEpochMillis may be
 */
public record ValidationLimits(int maxRecordBytes, int maxCiphertextBytes, int maxIdLength, long maxClockSkewMillis) {
    /** 1 MiB records, 1 MiB ciphertexts, 256-character ids, 5 minutes of clock skew. */
    public static final ValidationLimits DEFAULTS = new ValidationLimits(
            WireCodec.DEFAULT_MAX_RECORD_BYTES, WireCodec.DEFAULT_MAX_RECORD_BYTES, 256, 5 * 60_000L);

    /** Checks positivity. */
    public ValidationLimits {
        if (maxRecordBytes <= 0 || maxCiphertextBytes <= 0 || maxIdLength <= 0 || maxClockSkewMillis < 0) {
            throw new IllegalArgumentException("limits must be positive");
        }
    }
}
