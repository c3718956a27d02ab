/**
 * FedSeal wire protocol: canonical hashing ({@link org.fedseal.protocol.CanonicalHash}), Avro codec
 * ({@link org.fedseal.protocol.WireCodec}), Ed25519 signatures ({@link org.fedseal.protocol.Signatures}),
 * chunking ({@link org.fedseal.protocol.Chunker}), validation ({@link org.fedseal.protocol.UpdateValidator})
 * and the RFC 9162 style provenance log ({@link org.fedseal.protocol.MerkleLog},
 * {@link org.fedseal.protocol.MerkleVerifier}).
 *
 * <p>The Avro-generated wire records live in {@code org.fedseal.protocol.wire}; classes in
 * {@code org.fedseal.protocol.internal} are not API.
 */
package org.fedseal.protocol;
