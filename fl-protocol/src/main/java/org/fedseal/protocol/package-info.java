/**
 * FedSeal wire protocol: canonical hashing ({@link org.fedseal.protocol.CanonicalHash}), Avro codec
 * ({@link org.fedseal.protocol.WireCodec}), Ed25519 signatures ({@link org.fedseal.protocol.Signatures}),
 * chunking ({@link org.fedseal.protocol.Chunker}), validation ({@link org.fedseal.protocol.UpdateValidator}),
 * client sampling ({@link org.fedseal.protocol.ClientSampling})
 * and the RFC 9162 style provenance log ({@link org.fedseal.protocol.MerkleLog},
 * {@link org.fedseal.protocol.MerkleVerifier}), and the server strategies every publisher and auditor
 * applies to a decrypted mean update ({@link org.fedseal.protocol.Strategy},
 * {@link org.fedseal.protocol.StrategyState}: FedAvg, FedAvgM, FedAdagrad, FedAdam, FedYogi, FedProx).
 *
 * <p>The Avro-generated wire records live in {@code org.fedseal.protocol.wire}; classes in
 * {@code org.fedseal.protocol.internal} are not API.
 */
package org.fedseal.protocol;
