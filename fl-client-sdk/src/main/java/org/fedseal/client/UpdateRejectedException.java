package org.fedseal.client;

import java.util.Objects;
import org.fedseal.protocol.wire.ReasonCode;

/**
 * The aggregator rejected an update that was sent (an {@code UpdateRejected} record on the rejects
 * topic); {@link #reasonCode()} is the wire reason.
 */
public class UpdateRejectedException extends SubmissionException {
    private static final long serialVersionUID = 1L;
    private final ReasonCode reasonCode;

    /** Creates the exception. */
    public UpdateRejectedException(ReasonCode reasonCode, String detail) {
        super(Reason.REJECTED, reasonCode + ": " + detail);
        this.reasonCode = Objects.requireNonNull(reasonCode, "reasonCode");
    }

    /** The aggregator's reason code. */
    public ReasonCode reasonCode() {
        return reasonCode;
    }
}
