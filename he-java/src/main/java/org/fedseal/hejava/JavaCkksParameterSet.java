package org.fedseal.hejava;

import java.util.Optional;

/**
 * The parameter sets the pure-Java encryptors can write. Both share N = 8192 and the
 * coefficient modulus {q0, q1, q2} of {@code CoeffModulus::Create(8192, {60, 40, 60})}, hence
 * SEAL's parms_id, key format and ciphertext sizes: a key serves either set. They differ only
 * in the CKKS scale Δ written into (and encoded into) each ciphertext, so the set must be told
 * apart by its id — which FedSeal's round announcement carries — never by key bytes.
 */
public enum JavaCkksParameterSet {
    /** "ckks-8192-v1": scale 2^40 (single key holder); sums must fit the set's headroom (he-native HeParameters.maxSumNorm, carried in RoundOpened.sumNormBound). */
    CKKS_8192_V1(Ckks8192.ID, Ckks8192.SCALE),
    /**
     * "ckks-8192-t50-v1": scale 2^50, for threshold decryption (noise flooding needs the extra
     * 10 bits, see {@code org.fedseal.hejava.threshold}); keep |sums| below 2^8.
     */
    CKKS_8192_T50_V1("ckks-8192-t50-v1", 0x1p50);

    private final String id;
    private final double scale;

    JavaCkksParameterSet(String id, double scale) {
        this.id = id;
        this.scale = scale;
    }

    /** The stable id, as in he-native's {@code HeParameters.id()}. */
    public String id() {
        return id;
    }

    /** The CKKS scale Δ. */
    public double scale() {
        return scale;
    }

    /** The set with this id, if he-java supports it. */
    public static Optional<JavaCkksParameterSet> byId(String id) {
        for (JavaCkksParameterSet p : values()) {
            if (p.id.equals(id)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }
}
