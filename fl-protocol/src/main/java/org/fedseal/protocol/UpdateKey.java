package org.fedseal.protocol;

import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.Optional;

/**
 * The Kafka key of the updates topic: (modelId, round, clientId), encoded as the UTF-8 string
 * {@code modelId + "/" + round + "/" + clientId}. All records of one client's update land in one
 * partition, in order. Model ids must not contain '/'.
 *
 * @param modelId model id
 * @param round round number
 * @param clientId client id
 */
public record UpdateKey(String modelId, int round, String clientId) {
    /** Checks the parts. */
    public UpdateKey {
        Objects.requireNonNull(modelId, "modelId");
        Objects.requireNonNull(clientId, "clientId");
        if (modelId.indexOf('/') >= 0) {
            throw new IllegalArgumentException("modelId must not contain '/'");
        }
    }

    /** The key bytes. */
    public byte[] toBytes() {
        return (modelId + "/" + round + "/" + clientId).getBytes(StandardCharsets.UTF_8);
    }

    /** Parses key bytes; empty if malformed. */
    public static Optional<UpdateKey> parse(byte[] key) {
        if (key == null) {
            return Optional.empty();
        }
        String s = new String(key, StandardCharsets.UTF_8);
        int a = s.indexOf('/');
        int b = a < 0 ? -1 : s.indexOf('/', a + 1);
        if (a <= 0 || b < 0) {
            return Optional.empty();
        }
        try {
            return Optional.of(
                    new UpdateKey(s.substring(0, a), Integer.parseInt(s.substring(a + 1, b)), s.substring(b + 1)));
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    @Override
    public String toString() {
        return modelId + "/" + round + "/" + clientId;
    }
}
