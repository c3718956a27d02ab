package org.fedseal.registry.internal;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An error answered as JSON {@code {"code": ..., "message": ...}} with an HTTP status, and any
 * response headers the status needs (e.g. {@code Allow} on 405).
 */
public final class ApiException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int status;
    private final String code;
    private final Map<String, String> headers = new LinkedHashMap<>();

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

    /** Headers to send with the error response. */
    public Map<String, String> headers() {
        return Collections.unmodifiableMap(headers);
    }

    /** Adds a response header; returns this. */
    public ApiException withHeader(String name, String value) {
        headers.put(name, value);
        return this;
    }

    /** 400 invalid_request. */
    public static ApiException badRequest(String message) {
        return new ApiException(400, "invalid_request", message);
    }

    /** 404 not_found. */
    public static ApiException notFound(String message) {
        return new ApiException(404, "not_found", message);
    }

    /** 405 method_not_allowed with the {@code Allow} header RFC 9110 requires. */
    public static ApiException methodNotAllowed(String message, String allow) {
        return new ApiException(405, "method_not_allowed", message).withHeader("Allow", allow);
    }

    /** 409 with a specific code. */
    public static ApiException conflict(String code, String message) {
        return new ApiException(409, code, message);
    }
}
