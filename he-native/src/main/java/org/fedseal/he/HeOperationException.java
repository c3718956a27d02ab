package org.fedseal.he;

/**
 * A native operation failed where valid inputs should not fail (for example SEAL ran out of
 * memory, or a bug in the native layer panicked). The JVM stays up; the operation's target
 * is left unchanged or must be discarded, as the method documents.
 */
public class HeOperationException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** @param message what failed */
    public HeOperationException(String message) {
        super(message);
    }
}
