package org.fedseal.client;

import org.fedseal.protocol.wire.RoundOpened;

/** Callbacks of {@link FederatedClient#startListening}; called on the listener thread. */
public interface RoundListener {
    /** The client took part in {@code round} and its update was acknowledged. */
    default void onSubmitted(RoundOpened round, SubmissionReceipt receipt) {}

    /** The client could not take part in {@code round}. */
    default void onFailed(RoundOpened round, SubmissionException error) {}
}
