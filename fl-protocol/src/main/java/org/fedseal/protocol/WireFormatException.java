package org.fedseal.protocol;

import org.fedseal.protocol.wire.ReasonCode;

/**
 * Bytes could not be decoded into the expected wire record. {@link #reasonCode()} is
 * {@link ReasonCode#OVERSIZED} when the input exceeded the codec's size limit and
 * {@link ReasonCode#MALFORMED} otherwise.
 */
public class WireFormatException extends Exception {
    private static final long serialVersionUID = 1L;
    private final ReasonCode reasonCode;

    /** Creates the exception. */
    public WireFormatException(ReasonCode reasonCode, String message, Throwable cause) {
        super(message, cause);
        this.reasonCode = reasonCode;
    }

    /** MALFORMED or OVERSIZED. */
    public ReasonCode reasonCode() {
        return reasonCode;
    }
}
