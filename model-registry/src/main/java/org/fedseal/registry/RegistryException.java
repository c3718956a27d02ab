package org.fedseal.registry;

/** An error answer of the registry ({@code {"code": ..., "message": ...}}) or a transport failure (status 0). */
public final class RegistryException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int status;
    private final String code;

    /** Creates the exception. */
    public RegistryException(int status, String code, String message) {
        super(status + " " + code + ": " + message);
        this.status = status;
        this.code = code;
    }

    /** HTTP status (0 for transport failures). */
    public int status() {
        return status;
    }

    /** Error code, e.g. {@code not_found}, {@code parent_mismatch}. */
    public String code() {
        return code;
    }
}
