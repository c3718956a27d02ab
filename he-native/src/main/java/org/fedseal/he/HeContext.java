package org.fedseal.he;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;
import org.fedseal.he.internal.NativeHandle;
import org.fedseal.he.internal.NativeHe;

/**
 * A SEAL CKKS context for one {@link HeParameters} set: the entry point of he-native.
 *
 * <p>Holds only public material. From it come keys, encryptors and decryptors, and it loads
 * untrusted bytes with validation. Thread-safe: any number of threads may use one context.
 *
 * <pre>{@code
 * try (HeContext he = HeContext.create(HeParameters.CKKS_8192);
 *      HeKeyPair keys = he.generateKeys();
 *      VectorEncryptor enc = he.encryptor(keys.publicKey());
 *      EncryptedVector sum = enc.encrypt(new double[] {1, 2, 3});
 *      EncryptedVector other = enc.encrypt(new double[] {10, 20, 30});
 *      HeDecryptor dec = he.decryptor(keys.secretKey())) {
 *   sum.addInPlace(other);
 *   double[] plain = dec.decrypt(sum); // ≈ {11, 22, 33}
 * }
 * }</pre>
 */
public final class HeContext implements AutoCloseable {
    /** Upper bound on ciphertexts in one loaded vector (guards allocation on untrusted input). */
    public static final int MAX_CIPHERTEXTS_PER_VECTOR = 4096;

    private final HeParameters parameters;
    final NativeHandle handle;
    private final int ciphertextBytes;
    private final int seededCiphertextBytes;
    private final int publicKeyBytes;

    private HeContext(HeParameters parameters, long pointer) {
        this.parameters = parameters;
        this.handle = new NativeHandle(this, pointer, NativeHe::contextDestroy, "HeContext");
        long[] sizes;
        try (NativeHandle.Lease l = handle.lease()) {
            sizes = NativeHe.contextSizes(l.pointer());
        }
        if (sizes[0] != parameters.slots()) {
            handle.close();
            throw new HeOperationException("SEAL reports " + sizes[0] + " slots for " + parameters);
        }
        this.ciphertextBytes = Math.toIntExact(sizes[1]);
        this.seededCiphertextBytes = Math.toIntExact(sizes[2]);
        this.publicKeyBytes = Math.toIntExact(sizes[3]);
    }

    /** Builds the SEAL context of a parameter set (some ms; keep and share it). */
    public static HeContext create(HeParameters parameters) {
        Objects.requireNonNull(parameters, "parameters");
        long p = NativeHe.contextCreate(
                parameters.polyModulusDegree(), parameters.coeffModulusBits(), parameters.scale());
        return new HeContext(parameters, p);
    }

    /** The parameter set. */
    public HeParameters parameters() {
        return parameters;
    }

    /** Exact serialized size of one ciphertext: public-key ({@code seeded=false}) or seeded symmetric. */
    public int ciphertextBytes(boolean seeded) {
        return seeded ? seededCiphertextBytes : ciphertextBytes;
    }

    /** Exact serialized size of a public key. */
    public int publicKeyBytes() {
        return publicKeyBytes;
    }

    /** Generates a fresh secret key and its public key. */
    public HeKeyPair generateKeys() {
        long[] handles;
        try (NativeHandle.Lease l = handle.lease()) {
            handles = NativeHe.generateKeys(l.pointer());
        }
        HeSecretKey sk = new HeSecretKey(this, handles[0]);
        HePublicKey pk = new HePublicKey(this, handles[1]);
        return new HeKeyPair(pk, sk);
    }

    /** Loads a public key from {@link HePublicKey#toBytes()}, with validation. */
    public HePublicKey loadPublicKey(byte[] bytes) throws MalformedHeDataException {
        Objects.requireNonNull(bytes, "bytes");
        if (bytes.length != publicKeyBytes) {
            throw new MalformedHeDataException("public key: " + bytes.length + " bytes, expected exactly "
                    + publicKeyBytes + " for " + parameters.id());
        }
        try (NativeHandle.Lease l = handle.lease()) {
            return new HePublicKey(this, NativeHe.publicKeyLoad(l.pointer(), bytes));
        }
    }

    /** Loads a secret key from {@link HeSecretKey#toBytes(SecretKeyAccess)}, with validation. */
    public HeSecretKey loadSecretKey(byte[] bytes, SecretKeyAccess access) throws MalformedHeDataException {
        Objects.requireNonNull(access, "access");
        Objects.requireNonNull(bytes, "bytes");
        try (NativeHandle.Lease l = handle.lease()) {
            return new HeSecretKey(this, NativeHe.secretKeyLoad(l.pointer(), bytes));
        }
    }

    /** A public-key encryptor with {@link Packing#COMPLEX}. */
    public VectorEncryptor encryptor(HePublicKey publicKey) {
        return encryptor(publicKey, Packing.COMPLEX);
    }

    /** A public-key encryptor. */
    public VectorEncryptor encryptor(HePublicKey publicKey, Packing packing) {
        requireSameParameters(publicKey.context());
        long p;
        try (NativeHandle.Lease c = handle.lease();
                NativeHandle.Lease k = publicKey.handle.lease()) {
            p = NativeHe.encryptorCreate(c.pointer(), k.pointer(), 0);
        }
        return new VectorEncryptor(this, p, packing, false);
    }

    /**
     * A secret-key (symmetric) encryptor whose ciphertexts serialize seed-compressed, about half
     * the bytes. Weaker trust model: whoever holds this key can decrypt every update.
     */
    public VectorEncryptor symmetricEncryptor(HeSecretKey secretKey, Packing packing) {
        requireSameParameters(secretKey.context());
        long p;
        try (NativeHandle.Lease c = handle.lease();
                NativeHandle.Lease k = secretKey.handle.lease()) {
            p = NativeHe.encryptorCreate(c.pointer(), 0, k.pointer());
        }
        return new VectorEncryptor(this, p, packing, true);
    }

    /** A decryptor. */
    public HeDecryptor decryptor(HeSecretKey secretKey) {
        requireSameParameters(secretKey.context());
        long p;
        try (NativeHandle.Lease c = handle.lease();
                NativeHandle.Lease k = secretKey.handle.lease()) {
            p = NativeHe.decryptorCreate(c.pointer(), k.pointer());
        }
        return new HeDecryptor(this, p);
    }

    /**
     * Loads an encrypted vector from {@link EncryptedVector#toBytes()}. Untrusted input is
     * welcome: every structural field is checked, each ciphertext must have exactly the size of
     * this parameter set at the last level, and SEAL's validating loader must accept it (every
     * coefficient below its modulus) and consume every byte.
     *
     * @throws MalformedHeDataException with the reason, for anything else
     */
    public EncryptedVector loadVector(byte[] bytes) throws MalformedHeDataException {
        return load(ByteBuffer.wrap(Objects.requireNonNull(bytes, "bytes")), true);
    }

    /**
     * {@link #loadVector(byte[])} of the buffer's remaining bytes (its position is not moved). A
     * heap buffer is read in place, without a copy.
     *
     * @throws MalformedHeDataException with the reason
     */
    public EncryptedVector loadVector(ByteBuffer bytes) throws MalformedHeDataException {
        return load(Objects.requireNonNull(bytes, "bytes"), true);
    }

    /**
     * Loads bytes that this process already accepted from {@link #loadVector} — for instance a
     * summer's own buffered copy of an update that its pre-validation loaded. Everything about the
     * structure is checked as in {@link #loadVector} (so no input can make the load read or write
     * out of bounds), but not SEAL's per-coefficient range check: a coefficient at or above its
     * modulus would make sums wrong. Never use it on bytes from the network.
     *
     * @throws MalformedHeDataException if the structure is wrong
     */
    public EncryptedVector loadPrevalidatedVector(ByteBuffer bytes) throws MalformedHeDataException {
        return load(Objects.requireNonNull(bytes, "bytes"), false);
    }

    private EncryptedVector load(ByteBuffer buffer, boolean validate) throws MalformedHeDataException {
        ByteBuffer in = buffer.slice().order(ByteOrder.LITTLE_ENDIAN);
        int total = in.remaining();
        if (total < EncryptedVector.HEADER_BYTES) {
            throw new MalformedHeDataException("encrypted vector: " + total + " bytes is shorter than its header");
        }
        if (in.getInt() != EncryptedVector.MAGIC) {
            throw new MalformedHeDataException("encrypted vector: bad magic");
        }
        int version = in.get();
        if (version != EncryptedVector.FORMAT_VERSION) {
            throw new MalformedHeDataException("encrypted vector: unsupported format version " + version);
        }
        int packingCode = in.get();
        if (packingCode < 0 || packingCode >= Packing.values().length) {
            throw new MalformedHeDataException("encrypted vector: unknown packing " + packingCode);
        }
        Packing packing = Packing.values()[packingCode];
        if (in.getShort() != 0) {
            throw new MalformedHeDataException("encrypted vector: reserved bytes are not zero");
        }
        int length = in.getInt();
        int count = in.getInt();
        if (length <= 0 || count <= 0 || count > MAX_CIPHERTEXTS_PER_VECTOR) {
            throw new MalformedHeDataException("encrypted vector: bad length " + length + " or count " + count);
        }
        if (count != parameters.ciphertextsFor(length, packing)) {
            throw new MalformedHeDataException(
                    "encrypted vector: " + count + " ciphertexts cannot hold exactly " + length + " values");
        }
        // Offsets into the backing array: a heap buffer is handed to the native loader as it is.
        byte[] array;
        int base;
        if (in.hasArray()) {
            array = in.array();
            base = in.arrayOffset();
        } else {
            array = new byte[total];
            in.duplicate().position(0).get(array);
            base = 0;
        }
        int[] offsets = new int[count];
        int[] sizes = new int[count];
        for (int i = 0; i < count; i++) {
            if (in.remaining() < 4) {
                throw new MalformedHeDataException("encrypted vector: truncated before ciphertext " + i);
            }
            int size = in.getInt();
            if (size != ciphertextBytes && size != seededCiphertextBytes) {
                throw new MalformedHeDataException(
                        "encrypted vector: ciphertext " + i + " has " + size + " bytes, expected " + ciphertextBytes
                                + " or " + seededCiphertextBytes + " (seeded) for " + parameters.id());
            }
            if (in.remaining() < size) {
                throw new MalformedHeDataException("encrypted vector: truncated inside ciphertext " + i);
            }
            offsets[i] = base + in.position();
            sizes[i] = size;
            in.position(in.position() + size);
        }
        if (in.hasRemaining()) {
            throw new MalformedHeDataException("encrypted vector: " + in.remaining() + " trailing bytes");
        }
        long p;
        try (NativeHandle.Lease l = handle.lease()) {
            p = NativeHe.vectorLoad(l.pointer(), array, offsets, sizes, validate);
        }
        return new EncryptedVector(this, p, length, packing);
    }

    void requireSameParameters(HeContext other) {
        if (other.parameters != parameters) {
            throw new IllegalArgumentException(
                    "objects of " + other.parameters.id() + " used with a context of " + parameters.id());
        }
    }

    /** Whether {@link #close()} has run. */
    public boolean isClosed() {
        return handle.isClosed();
    }

    /** Frees the native context. Keys and vectors made from it must not be used afterwards. */
    @Override
    public void close() {
        handle.close();
    }

    @Override
    public String toString() {
        return "HeContext[" + parameters.id() + "]";
    }
}
