package org.fedseal.client;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.util.Objects;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.ModelWeights;
import org.fedseal.protocol.WireCodec;
import org.fedseal.protocol.WireFormatException;
import org.fedseal.protocol.wire.ModelVersionPublished;
import org.fedseal.protocol.wire.RoundOpened;

/**
 * A {@link ModelSource} over the model registry's public REST endpoints, with plain
 * {@link HttpURLConnection} (usable on Android): rounds ({@code GET /api/models/{id}/rounds/current/record},
 * {@code .../rounds/{n}/record}: Avro {@code RoundOpened}), base models ({@code GET /api/versions/{hash}/record}
 * and {@code .../weights}) and HE public keys ({@code GET /api/he-public-keys/{hash}}).
 *
 * <p>Nothing it returns needs to be trusted: callers check the base model with
 * {@link BaseModel#verify} and the public key's SHA-256 against the round's {@code publicKeyHash}
 * ({@link HttpParticipant} does both). Thread-safe.
 */
public final class HttpRegistrySource implements ModelSource {
    /** Largest response read (a public key is ~394 KB; weights of small models far less). */
    public static final int MAX_RESPONSE_BYTES = 64 << 20;

    private final String base;
    private final int timeoutMs;

    /** A source over {@code registryBaseUri} with 30 s timeouts. */
    public HttpRegistrySource(URI registryBaseUri) {
        this(registryBaseUri, 30_000);
    }

    /** A source over {@code registryBaseUri}. */
    public HttpRegistrySource(URI registryBaseUri, int timeoutMs) {
        String b = Objects.requireNonNull(registryBaseUri, "registryBaseUri").toString();
        while (b.endsWith("/")) {
            b = b.substring(0, b.length() - 1);
        }
        this.base = b;
        this.timeoutMs = timeoutMs;
    }

    /**
     * The newest open round of {@code modelId}, or {@code null} if none is open.
     *
     * @throws SubmissionException SOURCE_UNAVAILABLE if the registry cannot be reached or answers garbage
     */
    public RoundOpened currentRound(String modelId) throws SubmissionException {
        byte[] b = get("/api/models/" + modelId + "/rounds/current/record", true);
        return b == null ? null : decode(b, RoundOpened.class);
    }

    /** The RoundOpened record of round {@code round}. */
    public RoundOpened round(String modelId, int round) throws SubmissionException {
        return decode(get("/api/models/" + modelId + "/rounds/" + round + "/record", false), RoundOpened.class);
    }

    @Override
    public BaseModel baseModel(String modelId, Hash versionHash) throws SubmissionException {
        ModelVersionPublished v =
                decode(get("/api/versions/" + versionHash.toHex() + "/record", false), ModelVersionPublished.class);
        float[] weights;
        try {
            weights = ModelWeights.decode(get("/api/versions/" + versionHash.toHex() + "/weights", false));
        } catch (IllegalArgumentException e) {
            throw new SubmissionException(
                    SubmissionException.Reason.SOURCE_UNAVAILABLE, "weights: " + e.getMessage(), e);
        }
        return new BaseModel(v, weights);
    }

    @Override
    public byte[] publicKey(String heParamsId, Hash publicKeyHash) throws SubmissionException {
        return get("/api/he-public-keys/" + publicKeyHash.toHex(), false);
    }

    private static <T extends org.apache.avro.specific.SpecificRecord> T decode(byte[] b, Class<T> type)
            throws SubmissionException {
        try {
            return WireCodec.DEFAULT.decode(b, type);
        } catch (WireFormatException e) {
            throw new SubmissionException(SubmissionException.Reason.SOURCE_UNAVAILABLE, e.getMessage(), e);
        }
    }

    private byte[] get(String path, boolean notFoundIsNull) throws SubmissionException {
        try {
            HttpURLConnection c =
                    (HttpURLConnection) URI.create(base + path).toURL().openConnection();
            try {
                c.setConnectTimeout(timeoutMs);
                c.setReadTimeout(timeoutMs);
                int status = c.getResponseCode();
                if (status == 404 && notFoundIsNull) {
                    return null;
                }
                if (status != 200) {
                    throw new SubmissionException(
                            SubmissionException.Reason.SOURCE_UNAVAILABLE,
                            "GET " + path + ": " + status + " " + HttpUpdateTransport.readAll(c.getErrorStream()));
                }
                try (InputStream in = c.getInputStream()) {
                    ByteArrayOutputStream out = new ByteArrayOutputStream();
                    byte[] buf = new byte[1 << 16];
                    int n;
                    while ((n = in.read(buf)) > 0) {
                        out.write(buf, 0, n);
                        if (out.size() > MAX_RESPONSE_BYTES) {
                            throw new SubmissionException(
                                    SubmissionException.Reason.SOURCE_UNAVAILABLE,
                                    "GET " + path + ": response exceeds " + MAX_RESPONSE_BYTES + " bytes");
                        }
                    }
                    return out.toByteArray();
                }
            } finally {
                c.disconnect();
            }
        } catch (IOException | IllegalArgumentException e) {
            throw new SubmissionException(
                    SubmissionException.Reason.SOURCE_UNAVAILABLE, "GET " + base + path + ": " + e, e);
        }
    }

    @Override
    public String toString() {
        return "HttpRegistrySource[" + base + "]";
    }
}
