package org.fedseal.he;

/** A public key and its secret key, fresh from {@link HeContext#generateKeys()}. */
public final class HeKeyPair implements AutoCloseable {
    private final HePublicKey publicKey;
    private final HeSecretKey secretKey;

    HeKeyPair(HePublicKey publicKey, HeSecretKey secretKey) {
        this.publicKey = publicKey;
        this.secretKey = secretKey;
    }

    /** The public key. */
    public HePublicKey publicKey() {
        return publicKey;
    }

    /** The secret key. */
    public HeSecretKey secretKey() {
        return secretKey;
    }

    /** Closes both keys. */
    @Override
    public void close() {
        publicKey.close();
        secretKey.close();
    }

    @Override
    public String toString() {
        return "HeKeyPair[" + publicKey + ", " + secretKey + "]";
    }
}
