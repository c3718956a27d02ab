/**
 * Pure-Java CKKS encryption whose ciphertexts Microsoft SEAL (4.0, as bundled by sealy and
 * used by he-native) loads with validation, adds and decrypts — for clients without native
 * SEAL, such as Android phones. No dependencies, no native code, plain Java 17.
 *
 * <p>Supported: N = 8192, coefficient modulus {@code CoeffModulus::Create(8192, {60, 40, 60})},
 * as "ckks-8192-v1" (scale 2^40) or the threshold set "ckks-8192-t50-v1" (scale 2^50, see
 * {@link org.fedseal.hejava.JavaCkksParameterSet}); ciphertexts are produced at the last level
 * (one 60-bit prime), in FedSeal's "FSEV" vector wire form. n-of-n threshold key generation and
 * decryption live in {@code org.fedseal.hejava.threshold} ({@link org.fedseal.hejava.ThresholdSupport}
 * is its internal bridge, not an application API).
 *
 * <ul>
 *   <li>{@link org.fedseal.hejava.JavaCkksPublicKey} + {@link org.fedseal.hejava.JavaCkksEncryptor}:
 *       public-key encryption, 131,185 bytes per ciphertext.
 *   <li>{@link org.fedseal.hejava.JavaCkksSecretKey} +
 *       {@link org.fedseal.hejava.JavaCkksSymmetricEncryptor}: seeded secret-key encryption,
 *       65,730 bytes per ciphertext.
 *   <li>{@link org.fedseal.hejava.CompactMasking} + {@link org.fedseal.hejava.MaskingKey}: compact
 *       encrypted updates — one-polynomial RLWE masking after Willow (Bell et al., CRYPTO 2025) modulo a
 *       per-round prime q &lt; 2^61, ⌈log2 q⌉/8 bytes per value (≈ 3.75 for 100 clients at scale 2^22),
 *       with only the masking key CKKS-encrypted; pseudorandomness from AES-256/CTR.
 * </ul>
 *
 * Randomness comes from a caller-supplied {@link java.security.SecureRandom}; distributions are
 * SEAL's (uniform ternary u, clipped normal e with σ = 3.2 and bound 6σ). Nothing in this
 * package is constant-time.
 */
package org.fedseal.hejava;
