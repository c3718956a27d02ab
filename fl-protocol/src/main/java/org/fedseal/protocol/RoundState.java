package org.fedseal.protocol;

import java.util.Objects;
import org.fedseal.protocol.wire.RoundOpened;

/**
 * What a validator needs to know about a round: how it was opened and whether it is closed.
 *
 * @param opened the round's RoundOpened record
 * @param closed true once the round has been closed (aggregate emitted or abandoned)
 */
public record RoundState(RoundOpened opened, boolean closed) {
    /** Checks for null. */
    public RoundState {
        Objects.requireNonNull(opened, "opened");
    }
}
