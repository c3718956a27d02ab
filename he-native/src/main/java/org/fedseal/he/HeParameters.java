package org.fedseal.he;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * A named, versioned CKKS parameter set. Its {@link #id()} travels with every ciphertext so
 * that a receiver knows (and checks) what it is holding. Only the sets defined here exist, and
 * all are 128-bit secure by SEAL's own bounds (SEAL refuses to build a context otherwise).
 *
 * <p>Ciphertexts are encrypted directly at the last level of the modulus chain (one 60-bit
 * prime): only additions follow, so nothing is lost, and each ciphertext is as small as it can
 * be. The scale 2<sup>40</sup> leaves 2<sup>19</sup> of headroom for sums of values in [-1, 1].
 */
public final class HeParameters {
  /** N = 8192, moduli {60, 40, 60} bits, scale 2^40: 8,192 values per ciphertext packed. */
  public static final HeParameters CKKS_8192 = new HeParameters("ckks-8192-v1", 8192, new int[] {60, 40, 60}, 0x1p40);

  /** N = 16384, moduli {60, 40, 60} bits, scale 2^40: for large models, 16,384 values per ciphertext packed. */
  public static final HeParameters CKKS_16384 =
      new HeParameters("ckks-16384-v1", 16384, new int[] {60, 40, 60}, 0x1p40);

  /**
   * Threshold (n-of-n key holders) variant of {@link #CKKS_8192}: same N = 8192 and moduli, hence
   * the same SEAL parms_id, keys and ciphertext sizes, but scale 2^50. Threshold decryption adds
   * noise-flooding noise (σ = 2^30 per key holder) that would swamp the 2^40 scale; at 2^50 it
   * costs about 5e-4 of absolute error per value. Headroom: |sum|·2^50 must stay below
   * q0/2 ≈ 2^59, so keep |sums| below 2^8 = 256 (e.g. 100 clients with values in [-1, 1]).
   * The scale is not part of SEAL's parms_id: the set is told apart from {@link #CKKS_8192} by
   * its id (and by each ciphertext's scale field), never by key bytes.
   */
  public static final HeParameters CKKS_8192_T50 =
      new HeParameters("ckks-8192-t50-v1", 8192, new int[] {60, 40, 60}, 0x1p50);

  private static final List<HeParameters> ALL = List.of(CKKS_8192, CKKS_16384, CKKS_8192_T50);

  private final String id;
  private final int polyModulusDegree;
  private final int[] coeffModulusBits;
  private final double scale;

  private HeParameters(String id, int polyModulusDegree, int[] coeffModulusBits, double scale) {
    this.id = id;
    this.polyModulusDegree = polyModulusDegree;
    this.coeffModulusBits = coeffModulusBits;
    this.scale = scale;
  }

  /** All parameter sets this version knows. */
  public static List<HeParameters> all() {
    return ALL;
  }

  /** The parameter set with this id, if this version knows it. */
  public static Optional<HeParameters> byId(String id) {
    return ALL.stream().filter(p -> p.id.equals(id)).findFirst();
  }

  /** The stable id, e.g. {@code ckks-8192-v1}. */
  public String id() {
    return id;
  }

  /** The ring dimension N. */
  public int polyModulusDegree() {
    return polyModulusDegree;
  }

  /** Bit sizes of the coefficient modulus primes, the last one being the special prime. */
  public int[] coeffModulusBits() {
    return coeffModulusBits.clone();
  }

  /** The CKKS scale Δ. */
  public double scale() {
    return scale;
  }

  /** CKKS slots per ciphertext (N/2). */
  public int slots() {
    return polyModulusDegree / 2;
  }

  /** How many values one ciphertext carries under a packing. */
  public int valuesPerCiphertext(Packing packing) {
    return packing == Packing.COMPLEX ? polyModulusDegree : polyModulusDegree / 2;
  }

  /** How many ciphertexts a vector of {@code length} values needs. */
  public int ciphertextsFor(int length, Packing packing) {
    int per = valuesPerCiphertext(packing);
    return (length + per - 1) / per;
  }

  @Override
  public String toString() {
    return id + Arrays.toString(coeffModulusBits);
  }
}
