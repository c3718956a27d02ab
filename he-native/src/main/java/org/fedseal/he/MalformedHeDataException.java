package org.fedseal.he;

/**
 * Bytes that are not a valid key or ciphertext for the context they were loaded into:
 * truncated, oversized, for other parameters or another level, or garbage. Thrown before
 * anything reaches SEAL's loader when the structure is wrong, and by SEAL's validating
 * loader otherwise. Never a crash.
 */
public class MalformedHeDataException extends Exception {
    private static final long serialVersionUID = 1L;

    /** @param message what is wrong with the bytes */
    public MalformedHeDataException(String message) {
        super(message);
    }
}
