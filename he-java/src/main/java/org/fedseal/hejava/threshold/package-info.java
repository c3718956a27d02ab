/**
 * n-of-n threshold decryption for CKKS (Mouchet, Troncoso-Pastoriza, Bossuat, Hubaux, PETS
 * 2021), on the parameter set "ckks-8192-t50-v1" (N = 8192, SEAL moduli {60, 40, 60}, scale
 * 2^50), compatible with SEAL (he-native) and he-java's encryptor.
 *
 * <ol>
 *   <li>The ceremony fixes a public seed ({@link org.fedseal.hejava.threshold.CommonReference#deriveSeed})
 *       and its {@link org.fedseal.hejava.threshold.CommonReference}.
 *   <li>Each holder: {@link org.fedseal.hejava.threshold.ThresholdParty#generate}, publishes
 *       {@code publicKeyShare()}, persists {@code exportSecretShare(SecretShareAccess)}.
 *   <li>Anyone: {@link org.fedseal.hejava.threshold.ThresholdKeys#combinePublicKey} gives the
 *       SEAL public key clients encrypt with.
 *   <li>Each holder, per aggregate: {@code decryptionShare(aggregateBytes, random)}.
 *   <li>Anyone with all n shares: {@link org.fedseal.hejava.threshold.ThresholdDecryptor#combine}.
 * </ol>
 *
 * t-of-n on top (as Lattigo's thresholdizer): each holder re-shares its s_i with
 * {@link org.fedseal.hejava.threshold.ThresholdParty#dealQuorumShares} (Shamir over Z_q0, one
 * secret dealing per holder), each holder sums what it receives into a
 * {@link org.fedseal.hejava.threshold.QuorumShare}, and any t of them decrypt with Lagrange-weighted
 * shares; the collective public key is unchanged.
 *
 * The collective secret key Σ s_i is never formed by any code in this package.
 */
package org.fedseal.hejava.threshold;
