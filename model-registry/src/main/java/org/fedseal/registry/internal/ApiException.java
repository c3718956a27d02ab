package org.fedseal.registry.internal;

/** An error answered as JSON {@code {"code": ..., "message": ...}} with an HTTP status. */
public final class ApiException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int status;
    private final String code;

    /** Creates an error with HTTP {@code status}, a machine-readable {@code code} and a message. */
    public ApiException(int status, String code, String message) {
        super(message);
        this.status = status;
        this.code = code;
    }

    /** HTTP status. */
    public int status() {
        return status;
    }

    /** Machine-readable code. */
    public String code() {
        return code;
    }

    /** 400 invalid_request. */
    public static ApiException badRequest(String message) {
        return new ApiException(400, "invalid_request", message);
    }

    /** 404 not_found. */
    public static ApiException notFound(String message) {
        return new ApiException(404, "not_found", message);
    }

    /** 409 with a specific code. */
    public static ApiException conflict(String code, String message) {
        return new ApiException(409, code, message);
    }
}
