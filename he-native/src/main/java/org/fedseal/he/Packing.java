package org.fedseal.he;

/** How values map to CKKS slots. */
public enum Packing {
    /** One real value per slot: N/2 values per ciphertext. */
    REAL,
    /**
     * Two values per slot, as the real and imaginary part: N values per ciphertext, so half the
     * ciphertexts, bytes and encryption time. Additions and real (integer) scalars never mix the
     * two parts, so sums stay exact to CKKS precision. The default.
     */
    COMPLEX
}
