package org.fedseal.protocol;

import java.util.Optional;

/**
 * What {@link UpdateValidator} looks up. The aggregator backs it with Flink state, the registry with
 * its database. Implementations must not throw for unknown keys: return empty.
 */
public interface ValidationContext {
    /** The round {@code round} of model {@code modelId}, if it was opened. */
    Optional<RoundState> round(String modelId, int round);

    /** The enrolled signing key of {@code clientId}, if the client is enrolled (for the model). */
    Optional<SigningPublicKey> clientKey(String clientId);

    /** Current time in epoch milliseconds (processing or event time, as the caller decides). */
    long nowEpochMillis();

    /** Limits to enforce. */
    default ValidationLimits limits() {
        return ValidationLimits.DEFAULTS;
    }

    /** True if an update of {@code clientId} was already accepted in this round (checked only for commits). */
    default boolean alreadyAccepted(String modelId, int round, String clientId) {
        return false;
    }

    /** True if {@code updateId} of {@code clientId} was seen before in another round or as another update (replay). */
    default boolean updateIdSeen(String clientId, String updateId, String modelId, int round) {
        return false;
    }
}
