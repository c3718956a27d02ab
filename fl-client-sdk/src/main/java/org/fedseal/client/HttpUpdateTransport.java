package org.fedseal.client;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import org.fedseal.protocol.HttpIngest;
import org.fedseal.protocol.WireCodec;
import org.fedseal.protocol.wire.UpdateChunk;
import org.fedseal.protocol.wire.UpdateCommit;
import org.fedseal.protocol.wire.UpdateEnvelope;

/**
 * Sends an update to the model registry's HTTP ingest endpoint ({@code POST /api/ingest/updates})
 * instead of Kafka: for phones, which do not speak Kafka. The registry checks the client and writes
 * the same Avro {@code UpdateEnvelope} records to the same updates topic, with the same key
 * ({@code modelId/round/clientId}), as {@link FederatedClient}.
 *
 * <h2>Protocol</h2>
 * One request per record: the body is one Avro-encoded {@code UpdateEnvelope}
 * (content type {@value HttpIngest#CONTENT_TYPE}). Every request carries {@value HttpIngest#HEADER_CLIENT} (the client
 * id) and {@value HttpIngest#HEADER_SIGNATURE}: base64 of the client's Ed25519 signature over
 * {@link #signedMessage(String, byte[])} = {@code "FedSeal-Ingest-v1:" + clientId + "\n" + body}.
 * The header is what authenticates chunks; a commit is also authenticated by its own signature.
 * Chunks are sent first, the commit last, once every chunk was accepted. Re-sending is harmless:
 * the aggregator drops duplicates.
 *
 * <p>Plain {@link HttpURLConnection} (no {@code java.net.http}, which Android lacks). Thread-safe.
 */
public final class HttpUpdateTransport {
    private final URL endpoint;
    private final String clientId;
    private final UpdateSigner signer;
    private final int retries;
    private final long backoffMs;
    private final int timeoutMs;

    /**
     * A transport to {@code registryBaseUri} (e.g. {@code https://registry.example:8080/}).
     *
     * @param retries how often a request is retried after an I/O error or a 5xx answer
     */
    public HttpUpdateTransport(
            URI registryBaseUri, String clientId, UpdateSigner signer, int retries, long backoffMs, int timeoutMs) {
        Objects.requireNonNull(registryBaseUri, "registryBaseUri");
        String base = registryBaseUri.toString();
        while (base.endsWith("/")) {
            base = base.substring(0, base.length() - 1);
        }
        try {
            this.endpoint = URI.create(base + HttpIngest.PATH).toURL();
        } catch (IOException | IllegalArgumentException e) {
            throw new IllegalArgumentException("bad registry URI " + registryBaseUri, e);
        }
        this.clientId = Objects.requireNonNull(clientId, "clientId");
        this.signer = Objects.requireNonNull(signer, "signer");
        this.retries = Math.max(0, retries);
        this.backoffMs = Math.max(0, backoffMs);
        this.timeoutMs = timeoutMs;
    }

    /** A transport with 3 retries, 1 s back-off and 60 s timeouts. */
    public HttpUpdateTransport(URI registryBaseUri, String clientId, UpdateSigner signer) {
        this(registryBaseUri, clientId, signer, 3, 1000, 60_000);
    }

    /** The bytes a request signature covers. */
    public static byte[] signedMessage(String clientId, byte[] body) {
        return HttpIngest.signedMessage(clientId, body);
    }

    /**
     * Sends the chunks, then the commit.
     *
     * @return bytes of records sent
     * @throws SubmissionException {@code TRANSPORT_FAILED} naming the registry's error code and message
     */
    public long send(List<UpdateChunk> chunks, UpdateCommit commit) throws SubmissionException {
        long bytes = 0;
        for (UpdateChunk c : chunks) {
            bytes += post(WireCodec.UNBOUNDED.encode(new UpdateEnvelope(c)));
        }
        bytes += post(WireCodec.UNBOUNDED.encode(new UpdateEnvelope(commit)));
        return bytes;
    }

    /** Posts one encoded {@code UpdateEnvelope}; returns its size. */
    public long post(byte[] envelope) throws SubmissionException {
        String signature = Base64.getEncoder().encodeToString(signer.sign(signedMessage(clientId, envelope)));
        for (int attempt = 0; ; attempt++) {
            String failure;
            boolean retriable;
            try {
                HttpURLConnection c = (HttpURLConnection) endpoint.openConnection();
                try {
                    c.setRequestMethod("POST");
                    c.setConnectTimeout(timeoutMs);
                    c.setReadTimeout(timeoutMs);
                    c.setDoOutput(true);
                    c.setFixedLengthStreamingMode(envelope.length);
                    c.setRequestProperty("Content-Type", HttpIngest.CONTENT_TYPE);
                    c.setRequestProperty("Accept", "application/json");
                    c.setRequestProperty(HttpIngest.HEADER_CLIENT, clientId);
                    c.setRequestProperty(HttpIngest.HEADER_SIGNATURE, signature);
                    try (OutputStream os = c.getOutputStream()) {
                        os.write(envelope);
                    }
                    int status = c.getResponseCode();
                    String answer = readAll(status >= 400 ? c.getErrorStream() : c.getInputStream());
                    if (status / 100 == 2) {
                        return envelope.length;
                    }
                    failure = "registry answered " + status + ": " + answer;
                    retriable = status >= 500 || status == 429;
                } finally {
                    c.disconnect();
                }
            } catch (IOException e) {
                failure = "I/O error posting to " + endpoint + ": " + e;
                retriable = true;
            }
            if (!retriable || attempt >= retries) {
                throw new SubmissionException(
                        SubmissionException.Reason.TRANSPORT_FAILED,
                        (retriable ? "gave up after " + (attempt + 1) + " attempts: " : "") + failure);
            }
            try {
                Thread.sleep(backoffMs * (attempt + 1));
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                throw new SubmissionException(SubmissionException.Reason.INTERRUPTED, "interrupted during retry", ie);
            }
        }
    }

    static String readAll(InputStream in) throws IOException {
        if (in == null) {
            return "";
        }
        try (in) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            int n;
            while ((n = in.read(buf)) > 0 && out.size() < (1 << 20)) {
                out.write(buf, 0, n);
            }
            return out.toString(StandardCharsets.UTF_8.name());
        }
    }

    @Override
    public String toString() {
        return "HttpUpdateTransport[" + endpoint + ", client " + clientId + "]";
    }
}
