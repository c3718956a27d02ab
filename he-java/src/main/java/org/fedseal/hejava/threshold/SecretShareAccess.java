package org.fedseal.hejava.threshold;

/**
 * A token that every read or write of secret-share bytes must present
 * ({@link ThresholdParty#exportSecretShare(SecretShareAccess)},
 * {@link ThresholdParty#importSecretShare(byte[], CommonReference, SecretShareAccess)}), so that
 * each place touching secret material stands out in review and "this module never handles a
 * secret share" is checkable by grepping for {@code insecureSecretShareAccess}.
 */
public final class SecretShareAccess {
    private static final SecretShareAccess INSTANCE = new SecretShareAccess();

    private SecretShareAccess() {}

    /** The token; call it only where secret-share bytes are meant to be handled (a key holder's storage). */
    public static SecretShareAccess insecureSecretShareAccess() {
        return INSTANCE;
    }
}
