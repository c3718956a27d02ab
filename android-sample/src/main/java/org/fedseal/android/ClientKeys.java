package org.fedseal.android;

import java.util.Base64;
import org.fedseal.protocol.SigningKeyPair;
import org.fedseal.protocol.SigningPrivateKey;
import org.fedseal.protocol.SigningPublicKey;

/**
 * The client's Ed25519 signing key, made on first use with the platform's provider (fl-protocol's
 * {@link SigningKeyPair}). Android's providers offer Ed25519 only on recent releases (API 33+);
 * on older devices {@link #load} fails with a clear message, and an app would plug a library
 * signer in through the SDK's {@code UpdateSigner} interface instead.
 */
final class ClientKeys {
    private ClientKeys() {}

    static SigningKeyPair load(Settings s) {
        String priv = s.get(Settings.KEY_PRIVATE);
        String pub = s.get(Settings.KEY_PUBLIC);
        try {
            if (priv != null && pub != null) {
                return SigningKeyPair.of(SigningPublicKey.fromX509(Base64.getDecoder().decode(pub)),
                        SigningPrivateKey.importPkcs8(Base64.getDecoder().decode(priv)));
            }
            SigningKeyPair kp = SigningKeyPair.generate();
            s.put(Settings.KEY_PRIVATE, Base64.getEncoder().encodeToString(kp.privateKey().exportPkcs8()));
            s.put(Settings.KEY_PUBLIC, Base64.getEncoder().encodeToString(kp.publicKey().toX509()));
            return kp;
        } catch (RuntimeException e) {
            throw new IllegalStateException("Ed25519 is not available on this device (Android offers it from API 33): " + e, e);
        }
    }
}
