package org.fedseal.client;

import java.util.Objects;

/**
 * A client could not take part in a round or submit its update. {@link #reason()} says why; for every
 * reason except {@link Reason#TRANSPORT_FAILED} and {@link Reason#INTERRUPTED} nothing was sent.
 */
public class SubmissionException extends Exception {
    private static final long serialVersionUID = 1L;

    /** Why a submission failed. */
    public enum Reason {
        /** The round's deadline has passed (checked before anything is sent). */
        ROUND_CLOSED,
        /** The base model does not match the round's {@code baseModelHash} (or is internally inconsistent). */
        WRONG_BASE_MODEL,
        /** The HE public key's SHA-256 does not match the round's {@code publicKeyHash}, or the key is malformed. */
        WRONG_PUBLIC_KEY,
        /** The round's {@code heParamsId} is unknown or differs from the key's / encryptor's parameters. */
        WRONG_HE_PARAMS,
        /** The round's chunk layout is inconsistent, does not fit the model, or its chunks exceed the record limit. */
        BAD_CHUNK_LAYOUT,
        /** The update does not fit the round's headroom bounds (weight above maxUpdateWeight, noise the headroom has no room for, a round without bounds): see {@link UpdatePolicy}. */
        HEADROOM_EXCEEDED,
        /** The update itself is unusable (wrong length, not bound to a base model, non-finite values). */
        INVALID_UPDATE,
        /** The base model or public key could not be obtained from the {@link ModelSource}. */
        SOURCE_UNAVAILABLE,
        /** Kafka failed permanently or retries were exhausted; some records may have been written. */
        TRANSPORT_FAILED,
        /** The calling thread was interrupted while sending. */
        INTERRUPTED,
        /** The aggregator rejected the update (see {@link UpdateRejectedException}). */
        REJECTED,
        /**
         * The round names the clients it sampled ({@code RoundOpened.sampledClients}, fl-protocol
         * {@code ClientSampling}) and this client is not one of them: it does not train and sends
         * nothing; the aggregator would reject its update ({@code NOT_SAMPLED}). Not an error: the
         * listener mode logs it and waits for the next round.
         */
        NOT_SAMPLED,
        /** The round's training configuration (learning rate, batch size, proximal μ) is out of range: see {@link RoundConfig}. */
        BAD_ROUND_CONFIG
    }

    private final Reason reason;

    /** Creates the exception. */
    public SubmissionException(Reason reason, String message) {
        this(reason, message, null);
    }

    /** Creates the exception with a cause. */
    public SubmissionException(Reason reason, String message, Throwable cause) {
        super(reason + ": " + message, cause);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    /** Why the submission failed. */
    public Reason reason() {
        return reason;
    }
}
