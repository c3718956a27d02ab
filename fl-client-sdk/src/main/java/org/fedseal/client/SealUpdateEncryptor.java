package org.fedseal.client;

import java.util.List;
import java.util.Objects;
import org.fedseal.client.internal.LayoutEncryption;
import org.fedseal.he.EncryptedVector;
import org.fedseal.he.HeContext;
import org.fedseal.he.HeParameters;
import org.fedseal.he.HePublicKey;
import org.fedseal.he.MalformedHeDataException;
import org.fedseal.he.Packing;
import org.fedseal.he.VectorEncryptor;
import org.fedseal.protocol.Chunker;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.wire.ChunkLayout;

/**
 * {@link UpdateEncryptor} over he-native (Microsoft SEAL through JNI): public-key CKKS encryption
 * with {@link Packing#COMPLEX} (N values per ciphertext). Thread-safe.
 */
public final class SealUpdateEncryptor implements UpdateEncryptor {
    /** Default ciphertexts per chunk: 6 public-key N=8192 ciphertexts (~787 KB) keep a record under 1 MiB. */
    public static final int DEFAULT_CIPHERTEXTS_PER_CHUNK = 6;

    private final HeContext context;
    private final HePublicKey publicKey;
    private final VectorEncryptor encryptor;
    private final Hash publicKeyHash;
    private final boolean owns;

    private SealUpdateEncryptor(HeContext context, HePublicKey publicKey, boolean owns) {
        this.context = context;
        this.publicKey = publicKey;
        this.owns = owns;
        this.encryptor = context.encryptor(publicKey, Packing.COMPLEX);
        this.publicKeyHash = Hash.sha256(publicKey.toBytes());
    }

    /**
     * An encryptor over a context and key the caller keeps owning (and closes after this encryptor).
     */
    public static SealUpdateEncryptor of(HeContext context, HePublicKey publicKey) {
        return new SealUpdateEncryptor(
                Objects.requireNonNull(context, "context"), Objects.requireNonNull(publicKey, "publicKey"), false);
    }

    /**
     * Loads a serialized public key (validated by SEAL) into its own context; {@link #close()} frees both.
     *
     * @throws MalformedHeDataException if the bytes are not a valid key for {@code parameters}
     */
    public static SealUpdateEncryptor load(HeParameters parameters, byte[] publicKeyBytes)
            throws MalformedHeDataException {
        HeContext ctx = HeContext.create(parameters);
        try {
            return new SealUpdateEncryptor(ctx, ctx.loadPublicKey(publicKeyBytes), true);
        } catch (MalformedHeDataException | RuntimeException e) {
            ctx.close();
            throw e;
        }
    }

    /** The layout clients should use for a model of {@code totalValues} parameters under {@code parameters}. */
    public static ChunkLayout defaultLayout(HeParameters parameters, long totalValues) {
        return Chunker.layout(
                totalValues, parameters.valuesPerCiphertext(Packing.COMPLEX), DEFAULT_CIPHERTEXTS_PER_CHUNK);
    }

    @Override
    public String heParamsId() {
        return context.parameters().id();
    }

    @Override
    public Hash publicKeyHash() {
        return publicKeyHash;
    }

    @Override
    public int valuesPerCiphertext() {
        return context.parameters().valuesPerCiphertext(Packing.COMPLEX);
    }

    @Override
    public List<byte[]> encrypt(float[] values, ChunkLayout layout) {
        return LayoutEncryption.encrypt(values, layout, valuesPerCiphertext(), heParamsId(), slice -> {
            try (EncryptedVector v = encryptor.encrypt(slice)) {
                return v.toBytes();
            }
        });
    }

    @Override
    public void close() {
        encryptor.close();
        if (owns) {
            publicKey.close();
            context.close();
        }
    }

    @Override
    public String toString() {
        return "SealUpdateEncryptor[" + heParamsId() + ", pk=" + publicKeyHash + "]";
    }
}
