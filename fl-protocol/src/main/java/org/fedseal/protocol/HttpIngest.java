package org.fedseal.protocol;

import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * The registry's HTTP ingest contract, the phones' way onto the updates topic (they do not speak
 * Kafka): the client side (fl-client-sdk {@code HttpUpdateTransport}) and the server side (the
 * registry's ingest endpoint) both use these definitions.
 *
 * <p>{@code POST} {@value #PATH} with one Avro {@code UpdateEnvelope} ({@value #CONTENT_TYPE}) or a
 * batch ({@value #BATCH_CONTENT_TYPE}: each envelope preceded by its length as a 4-byte big-endian
 * integer; at most {@value #MAX_BATCH} records). Header {@value #HEADER_CLIENT} names the client and
 * {@value #HEADER_SIGNATURE} carries base64 of its Ed25519 signature over
 * {@link #signedMessage(String, byte[])}.
 */
public final class HttpIngest {
    /** The ingest path under the registry's base URL. */
    public static final String PATH = "/api/ingest/updates";
    /** Content type of one Avro {@code UpdateEnvelope}. */
    public static final String CONTENT_TYPE = "application/vnd.fedseal.update-envelope+avro";
    /** Content type of a length-prefixed batch of envelopes. */
    public static final String BATCH_CONTENT_TYPE = "application/vnd.fedseal.update-envelopes+avro";
    /** Header naming the client. */
    public static final String HEADER_CLIENT = "X-FedSeal-Client";
    /** Header carrying the base64 Ed25519 signature of the request. */
    public static final String HEADER_SIGNATURE = "X-FedSeal-Signature";
    /** Domain-separation prefix of request signatures (differs from commit signatures' prefix). */
    public static final String SIGNATURE_DOMAIN = "FedSeal-Ingest-v1:";
    /** Most records in one batch. */
    public static final int MAX_BATCH = 16;

    private HttpIngest() {}

    /** The bytes a request signature covers: {@code SIGNATURE_DOMAIN + clientId + "\n" + body} (UTF-8). */
    public static byte[] signedMessage(String clientId, byte[] body) {
        Objects.requireNonNull(clientId, "clientId");
        Objects.requireNonNull(body, "body");
        byte[] prefix = (SIGNATURE_DOMAIN + clientId + "\n").getBytes(StandardCharsets.UTF_8);
        byte[] m = new byte[prefix.length + body.length];
        System.arraycopy(prefix, 0, m, 0, prefix.length);
        System.arraycopy(body, 0, m, prefix.length, body.length);
        return m;
    }
}
