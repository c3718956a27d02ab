package org.fedseal.protocol;

import java.util.Objects;
import org.fedseal.protocol.wire.RecordKind;
import org.fedseal.protocol.wire.UpdateRejected;

/**
 * Outcome of a validation: accepted, or rejected with a {@link org.fedseal.protocol.wire.ReasonCode}
 * and a human-readable detail. Normal rejection is a value, never an exception.
 *
 * @param reasonCode null iff accepted
 * @param detail empty when accepted
 */
public record ValidationResult(org.fedseal.protocol.wire.ReasonCode reasonCode, String detail) {
    private static final ValidationResult OK = new ValidationResult(null, "");

    /** Normalises the detail. */
    public ValidationResult {
        detail = detail == null ? "" : detail;
    }

    /** The accepted result. */
    public static ValidationResult ok() {
        return OK;
    }

    /** A rejection. */
    public static ValidationResult reject(org.fedseal.protocol.wire.ReasonCode code, String detail) {
        return new ValidationResult(Objects.requireNonNull(code, "code"), detail);
    }

    /** True if accepted. */
    public boolean isAccepted() {
        return reasonCode == null;
    }

    /** True if rejected. */
    public boolean isRejected() {
        return reasonCode != null;
    }

    /**
     * The {@link UpdateRejected} record for the rejects topic.
     *
     * @throws IllegalStateException if this result is accepted
     */
    public UpdateRejected toRejected(
            String modelId, int round, String clientId, String updateId, RecordKind kind, long atEpochMillis) {
        if (isAccepted()) {
            throw new IllegalStateException("not a rejection");
        }
        return UpdateRejected.newBuilder()
                .setModelId(modelId == null ? "" : modelId)
                .setRound(round)
                .setClientId(clientId)
                .setUpdateId(updateId)
                .setRecordKind(kind)
                .setReason(reasonCode)
                .setDetail(detail)
                .setAtEpochMillis(atEpochMillis)
                .build();
    }

    @Override
    public String toString() {
        return isAccepted() ? "ACCEPTED" : reasonCode + ": " + detail;
    }
}
