package org.fedseal.client;

import java.nio.ByteBuffer;
import java.util.Objects;
import org.fedseal.protocol.Signatures;
import org.fedseal.protocol.SigningPrivateKey;
import org.fedseal.protocol.wire.UpdateCommit;

/**
 * Signs with the client's enrolled Ed25519 key: update commits (over
 * {@link Signatures#signedMessage}) and HTTP ingest requests ({@link HttpUpdateTransport}).
 *
 * <p>An interface because the signing key need not be a JDK key: {@link #of(SigningPrivateKey)}
 * uses the JDK's built-in Ed25519 (Java 15+), but Android's default providers (Conscrypt) offer
 * Ed25519 only on recent releases (API 33+), so an Android app on older releases supplies its own
 * implementation (e.g. a hardware-backed key, or a library such as Bouncy Castle's
 * {@code Ed25519Signer}). Whatever the implementation, signatures must be plain RFC 8032 Ed25519
 * (64 bytes) verifiable with the public key the client enrolled.
 */
@FunctionalInterface
public interface UpdateSigner {
    /** The 64-byte Ed25519 signature of {@code message}. */
    byte[] sign(byte[] message);

    /** A signer over a JDK Ed25519 private key. */
    static UpdateSigner of(SigningPrivateKey key) {
        Objects.requireNonNull(key, "key");
        return key::sign;
    }

    /** {@code commit} with its signature set (the signature field of the input is ignored). */
    default UpdateCommit signCommit(UpdateCommit commit) {
        Objects.requireNonNull(commit, "commit");
        UpdateCommit unsigned = UpdateCommit.newBuilder(commit)
                .setSignature(ByteBuffer.allocate(0))
                .build();
        byte[] sig = sign(Signatures.signedMessage(unsigned));
        return UpdateCommit.newBuilder(unsigned)
                .setSignature(ByteBuffer.wrap(sig))
                .build();
    }
}
