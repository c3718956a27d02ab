/**
 * Pure-Java CKKS encryption whose ciphertexts Microsoft SEAL (4.0, as bundled by sealy and
 * used by he-native) loads with validation, adds and decrypts — for clients without native
 * SEAL, such as Android phones. No dependencies, no native code, plain Java 17.
 *
 * <p>Only the parameter set "ckks-8192-v1" (N = 8192, coefficient modulus
 * {@code CoeffModulus::Create(8192, {60, 40, 60})}, scale 2^40) is supported, and ciphertexts
 * are produced at the last level (one 60-bit prime), in FedSeal's "FSEV" vector wire form.
 *
 * <ul>
 *   <li>{@link org.fedseal.hejava.JavaCkksPublicKey} + {@link org.fedseal.hejava.JavaCkksEncryptor}:
 *       public-key encryption, 131,185 bytes per ciphertext.
 *   <li>{@link org.fedseal.hejava.JavaCkksSecretKey} +
 *       {@link org.fedseal.hejava.JavaCkksSymmetricEncryptor}: seeded secret-key encryption,
 *       65,730 bytes per ciphertext.
 * </ul>
 *
 * Randomness comes from a caller-supplied {@link java.security.SecureRandom}; distributions are
 * SEAL's (uniform ternary u, clipped normal e with σ = 3.2 and bound 6σ). Nothing in this
 * package is constant-time.
 */
package org.fedseal.hejava;
