package org.fedseal.hejava.threshold;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/** SHA-256 (the JDK's, also on Android) and small encodings. */
final class Digests {
    static final int BYTES = 32;

    private Digests() {}

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 unavailable", e);
        }
    }

    static byte[] sha256(byte[] data) {
        return sha256().digest(data);
    }

    static byte[] u32be(int v) {
        return new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
    }
}
