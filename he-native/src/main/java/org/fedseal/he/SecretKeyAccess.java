package org.fedseal.he;

/**
 * A token required to read or load secret key material, so that every place that touches a
 * secret key names it explicitly (and review and {@code grep} can find them all). Code that
 * must never see a secret key, like the aggregator, never mentions this class.
 */
public final class SecretKeyAccess {
    private static final SecretKeyAccess INSTANCE = new SecretKeyAccess();

    private SecretKeyAccess() {}

    /** Grants access; call it only where secret key bytes legitimately leave or enter memory. */
    public static SecretKeyAccess insecureSecretKeyAccess() {
        return INSTANCE;
    }
}
