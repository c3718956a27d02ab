package org.fedseal.he.internal;

/**
 * The JNI functions of {@code libfedseal_he} (Rust, over SEAL's C API). Not API.
 *
 * <p>Handles are native pointers owned by {@link NativeHandle}s. Errors arrive as
 * {@code MalformedHeDataException} (untrusted bytes), {@code IllegalArgumentException}
 * (caller errors) or {@code HeOperationException} (native failures, never a crash).
 */
public final class NativeHe {
    static {
        NativeLibrary.load();
    }

    private NativeHe() {}

    public static native long contextCreate(int polyModulusDegree, int[] coeffModulusBits, double scale);

    public static native void contextDestroy(long context);

    /** Returns {slots, ciphertext bytes, seeded ciphertext bytes, public key bytes}. */
    public static native long[] contextSizes(long context);

    /** Returns {secretKey, publicKey}. */
    public static native long[] generateKeys(long context);

    public static native byte[] publicKeySave(long publicKey);

    public static native long publicKeyLoad(long context, byte[] bytes);

    public static native void publicKeyDestroy(long publicKey);

    public static native byte[] secretKeySave(long secretKey);

    public static native long secretKeyLoad(long context, byte[] bytes);

    public static native void secretKeyDestroy(long secretKey);

    /** One of {@code publicKey} and {@code secretKey} is 0. */
    public static native long encryptorCreate(long context, long publicKey, long secretKey);

    public static native void encryptorDestroy(long encryptor);

    public static native long decryptorCreate(long context, long secretKey);

    public static native void decryptorDestroy(long decryptor);

    public static native long encrypt(long context, long encryptor, double[] values, boolean packed);

    /** The byte length of each ciphertext's uncompressed serialization. */
    public static native int[] vectorSaveSizes(long context, long vector);

    /** Writes ciphertext i into {@code bytes[offsets[i] .. offsets[i] + sizes[i])}, sizes from {@link #vectorSaveSizes}. */
    public static native void vectorSaveInto(long context, long vector, byte[] bytes, int[] offsets, int[] sizes);

    /**
     * Ciphertext i is {@code bytes[offsets[i] .. offsets[i] + sizes[i])}; {@code validate} false
     * skips SEAL's per-coefficient range check (structure is always checked).
     */
    public static native long vectorLoad(long context, byte[] bytes, int[] offsets, int[] sizes, boolean validate);

    public static native void vectorAdd(long context, long target, long other);

    public static native void vectorMultiply(long context, long target, long factor);

    public static native long vectorCopy(long context, long vector);

    public static native void vectorDestroy(long vector);

    public static native double[] decrypt(long context, long decryptor, long vector, boolean packed, int length);
}
