package org.fedseal.android;

import android.util.Base64;
import java.security.SecureRandom;
import java.util.Arrays;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;
import org.fedseal.client.UpdateSigner;

/**
 * The client's Ed25519 identity, made on first use. Signing uses Bouncy Castle's pure-Java
 * Ed25519 because Android's own providers offer Ed25519 only from API 33 and this app runs from
 * API 24; the signatures are plain RFC 8032 ones, verified on the server by the JDK.
 */
final class ClientKeys {
    /** X.509 SubjectPublicKeyInfo prefix of an Ed25519 key (RFC 8410); the 32 key bytes follow. */
    private static final byte[] X509_PREFIX = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};

    /** A signer and the public key to enrol (X.509 encoded, as the registry expects). */
    static final class Identity {
        private final UpdateSigner signer;
        private final byte[] publicKeyX509;

        Identity(UpdateSigner signer, byte[] publicKeyX509) {
            this.signer = signer;
            this.publicKeyX509 = publicKeyX509;
        }

        UpdateSigner signer() {
            return signer;
        }

        byte[] publicKeyX509() {
            return publicKeyX509.clone();
        }

        @Override
        public String toString() {
            return "Identity[Ed25519, private key redacted]";
        }
    }

    private ClientKeys() {}

    static Identity load(Settings s) {
        String stored = s.get(Settings.KEY_PRIVATE);
        Ed25519PrivateKeyParameters priv;
        if (stored != null) {
            priv = new Ed25519PrivateKeyParameters(Base64.decode(stored, Base64.NO_WRAP), 0);
        } else {
            priv = new Ed25519PrivateKeyParameters(new SecureRandom());
            s.put(Settings.KEY_PRIVATE, Base64.encodeToString(priv.getEncoded(), Base64.NO_WRAP));
        }
        byte[] pub = priv.generatePublicKey().getEncoded();
        byte[] x509 = Arrays.copyOf(X509_PREFIX, X509_PREFIX.length + pub.length);
        System.arraycopy(pub, 0, x509, X509_PREFIX.length, pub.length);
        s.put(Settings.KEY_PUBLIC, Base64.encodeToString(x509, Base64.NO_WRAP));
        UpdateSigner signer = message -> {
            Ed25519Signer sig = new Ed25519Signer();
            sig.init(true, priv);
            sig.update(message, 0, message.length);
            return sig.generateSignature();
        };
        return new Identity(signer, x509);
    }
}
