package org.fedseal.protocol;

/**
 * A vector that must be finite (model weights, a delta, a mean update) holds NaN or ±Inf.
 * {@link #index()} is the first bad position.
 */
public final class NonFiniteValueException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final int index;

    /** Creates the exception for {@code what[index] = value}. */
    public NonFiniteValueException(String what, int index, float value) {
        super(what + "[" + index + "] is " + value + ": model values must be finite");
        this.index = index;
    }

    /** The first index whose value is not finite. */
    public int index() {
        return index;
    }
}
