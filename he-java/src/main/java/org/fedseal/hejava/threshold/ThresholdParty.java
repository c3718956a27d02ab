package org.fedseal.hejava.threshold;

import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import org.fedseal.hejava.ThresholdSupport;
import org.fedseal.hejava.ThresholdSupport.CiphertextVector;
import org.fedseal.hejava.ThresholdSupport.FloodingSampler;

/**
 * One key holder of an n-of-n threshold CKKS key (Mouchet, Troncoso-Pastoriza, Bossuat, Hubaux,
 * "Multiparty Homomorphic Encryption from Ring-Learning-With-Errors", PETS 2021), for the
 * parameter set {@value #PARAMETER_SET_ID}.
 *
 * <h2>Key generation</h2>
 * The holder samples its secret share s_i (uniform ternary, like SEAL's secret keys) and an
 * error e_i (SEAL's clipped normal, σ = 3.2) and publishes p_i = −(a·s_i + e_i) at the key level
 * (NTT form), a from the ceremony's {@link CommonReference}. {@link ThresholdKeys#combinePublicKey}
 * turns the n shares into the collective SEAL public key (Σ p_i, a), whose secret Σ s_i exists
 * nowhere: this class never adds secret shares, and nothing in this package does.
 *
 * <h2>Decryption shares and noise flooding</h2>
 * For an aggregate (c0, c1) at the last level (q0 only), the share is
 * h_i = c1·s_i + e_flood,i mod q0, with e_flood,i a fresh rounded normal of σ =
 * 2^{@value #FLOODING_SIGMA_LOG2} per coefficient. Anyone holding all n shares computes
 * c0 + Σ h_i = Δ·m + e_ct + Σ e_flood,i and decodes it ({@link ThresholdDecryptor}).
 *
 * <p><b>Why σ = 2^30, and what it buys.</b> Without flooding, the decrypted polynomial reveals
 * the aggregate's noise e_ct, which contains Σ_clients e_1·s (s = Σ s_i): a key-recovery leak
 * (Li–Micciancio, EUROCRYPT 2021). The honest holder's own e_flood,i must hide e_ct. For a
 * ckks-8192 public-key ciphertext at the last level, e_ct is dominated by the rounding of the
 * mod-switch, r_0 + r_1·s with |r| ≤ 1/2: per coefficient a sum of ≈ 2N/3 terms, std ≈
 * √(N/18) ≈ 21 per client (|e| ≤ N/2 + 20 ≈ 2^12 worst case); summed over 100 clients, std ≈
 * 2^7.7, so ‖e_ct‖₂ ≈ √N·2^7.7 ≈ 2^14.2 per ciphertext (worst case ‖e_ct‖₂ ≤ 2^25.2). Shifting a
 * normal of σ by μ costs a KL divergence of ‖μ‖²/(2σ²), hence (Pinsker) a statistical distance
 * ≤ ‖μ‖₂/(2σ): with σ = 2^30 that is ≈ 2^-16.8 per decrypted ciphertext in the typical case
 * (the worst case bound, 2^-5.8, is vacuous), and a Rényi divergence R₂ = exp(‖μ‖²/σ²) ≈
 * exp(2^-31.6) per ciphertext, i.e. a key-recovery (search) adversary's success probability ε
 * grows to at most √(ε·exp(Q·2^-31.6)) over Q decrypted ciphertexts. This is the honest budget
 * of a 60-bit last prime: 2^-40 statistical hiding would need σ ≈ 2^55, above the 2^50 scale,
 * leaving no precision. Price of σ = 2^30 at scale 2^50 with n holders: per value an error of
 * std √(N·n/2)·2^30/2^50 ≈ 1.06e-4 for n = 3 (measured max ≈ 5e-4 over 20,000 values).
 *
 * <p><b>What the caller must enforce</b> (not done here): share-decrypt only aggregates this
 * holder re-summed itself, and at most once per aggregate — each share is a decryption oracle,
 * and averaging several shares of one ciphertext divides the flooding noise by √k; keep the
 * exported secret share encrypted at rest.
 *
 * <p>Thread-safe until {@link #destroy() destroyed}. {@link #toString()} never shows secret
 * material. Nothing here is constant-time.
 */
public final class ThresholdParty {
    /** The parameter set threshold decryption supports: N = 8192, moduli {60, 40, 60}, scale 2^50. */
    public static final String PARAMETER_SET_ID = "ckks-8192-t50-v1";
    /** The scale aggregates must carry (ciphertexts encrypted under {@value #PARAMETER_SET_ID}). */
    public static final double SCALE = 0x1p50;
    /** log2 of the flooding noise's standard deviation, per holder and coefficient. */
    public static final int FLOODING_SIGMA_LOG2 = 30;
    /** The flooding noise's standard deviation. */
    public static final double FLOODING_SIGMA = 0x1p30;

    static final int N = ThresholdSupport.N;

    private final CommonReference crs;
    private final byte[] secret; // s_i coefficients, in {−1, 0, 1}
    private final byte[] error; // e_i coefficients, |e| ≤ 19
    private final long[] sNttQ0;
    private final byte[] publicKeyShare;
    private final byte[] keyShareDigest;
    private volatile boolean destroyed;

    private ThresholdParty(CommonReference crs, byte[] secret, byte[] error) {
        this.crs = crs;
        this.secret = secret;
        this.error = error;
        int[] s = widen(secret);
        int[] e = widen(error);
        try {
            this.sNttQ0 = ThresholdSupport.smallToNttQ0(s);
            this.publicKeyShare = KeyShareFormat.write(crs, ThresholdSupport.publicKeyShare(crs.a(), s, e));
        } finally {
            Arrays.fill(s, 0);
            Arrays.fill(e, 0);
        }
        this.keyShareDigest = Digests.sha256(publicKeyShare);
    }

    /** A fresh key holder for the ceremony {@code crs}, drawing s_i and e_i from {@code random}. */
    public static ThresholdParty generate(CommonReference crs, SecureRandom random) {
        Objects.requireNonNull(crs, "crs");
        Objects.requireNonNull(random, "random");
        int[] s = ThresholdSupport.sampleTernary(random);
        int[] e = ThresholdSupport.sampleClippedNormal(random);
        try {
            return new ThresholdParty(crs, narrow(s), narrow(e));
        } finally {
            Arrays.fill(s, 0);
            Arrays.fill(e, 0);
        }
    }

    /** The ceremony this holder belongs to. */
    public CommonReference commonReference() {
        return crs;
    }

    /**
     * The public key share p_i in its wire form ("FSKS", 196,680 bytes: magic, version, key-level
     * parms_id, CRS seed, p_i in NTT form). Public; a copy.
     */
    public byte[] publicKeyShare() {
        return publicKeyShare.clone();
    }

    /** SHA-256 of {@link #publicKeyShare()}: this holder's identity in decryption shares. A copy. */
    public byte[] keyShareDigest() {
        return keyShareDigest.clone();
    }

    /**
     * Computes this holder's decryption share of an aggregate: h = c1·s_i + e_flood mod q0 per
     * ciphertext, e_flood fresh from {@code random} (σ = 2^30). The share is bound to the SHA-256
     * of {@code fsevVectorBytes} and to this holder's {@link #keyShareDigest()}.
     *
     * @param fsevVectorBytes he-native's {@code EncryptedVector.toBytes()} of the aggregate
     *     (unseeded ciphertexts at the last level, scale 2^50)
     * @throws IllegalArgumentException if the bytes are malformed or not at scale 2^50
     * @throws IllegalStateException if destroyed
     */
    public DecryptionShare decryptionShare(byte[] fsevVectorBytes, SecureRandom random) {
        Objects.requireNonNull(random, "random");
        CiphertextVector v = ThresholdDecryptor.parseAggregate(fsevVectorBytes);
        byte[] digest = Digests.sha256(fsevVectorBytes);
        long[] s = live();
        long[][] h = new long[v.ciphertextCount()][N];
        FloodingSampler flooding = new FloodingSampler(random, FLOODING_SIGMA);
        long[] scratch = new long[N];
        try {
            for (int c = 0; c < h.length; c++) {
                ThresholdSupport.decryptionShare(v.c1(c), s, flooding, scratch, h[c]);
            }
        } finally {
            flooding.wipe();
        }
        if (destroyed) {
            throw new IllegalStateException("threshold party destroyed");
        }
        return new DecryptionShare(digest, keyShareDigest, h);
    }

    // ------------------------------------------------------------------ t-of-n re-sharing

    /**
     * Re-shares this holder's secret for a t-of-n quorum (Shamir over Z_q0, as Lattigo's
     * thresholdizer): draws f(X) = s_i + a_1·X + … + a_{t−1}·X^{t−1} with uniform a_k (NTT form,
     * mod q0 — decryption only ever needs s mod q0) and returns f(1), …, f(n), one
     * {@link QuorumShare} dealing per holder point, in point order. Each holder sums the dealings
     * it receives from all n holders ({@link QuorumShare#assemble}); any t of the sums then decrypt,
     * t−1 learn nothing. The collective public key does not change.
     *
     * <p><b>Secret:</b> dealing j must reach holder j only (encrypted, authenticated); whoever
     * gathers t dealings of every holder holds the secret key.
     *
     * @throws IllegalArgumentException unless 2 ≤ t ≤ n ≤ 255
     * @throws IllegalStateException if destroyed
     */
    public List<byte[]> dealQuorumShares(int t, int n, SecureRandom random, SecretShareAccess access) {
        Objects.requireNonNull(access, "access");
        Objects.requireNonNull(random, "random");
        QuorumShare.checkShape(t, n);
        long[][] coefficients = new long[t - 1][N];
        long[] value = new long[N];
        List<byte[]> out = new java.util.ArrayList<>(n);
        try {
            for (long[] c : coefficients) {
                ThresholdSupport.uniformQ0(random, c);
            }
            for (int point = 1; point <= n; point++) {
                ThresholdSupport.shamirEvaluate(live(), coefficients, point, value);
                out.add(QuorumShare.writeDealing(crs, keyShareDigest, t, n, point, value));
            }
            return out;
        } finally {
            for (long[] c : coefficients) {
                Arrays.fill(c, 0L);
            }
            Arrays.fill(value, 0L);
        }
    }

    // ------------------------------------------------------------------ persistence

    private static final int EXPORT_MAGIC = 0x53535346; // "FSSS"
    private static final int EXPORT_VERSION = 1;
    private static final int OFFSET_SECRET = 72;
    private static final int OFFSET_CHECKSUM = OFFSET_SECRET + 2 * N;
    /** Size of {@link #exportSecretShare}'s output. */
    public static final int EXPORTED_BYTES = OFFSET_CHECKSUM + Digests.BYTES;

    /**
     * This holder's secret material for persistence: "FSSS" version 1 — magic, version, 3 zero
     * bytes, key-level parms_id (32), CRS seed (32), s_i (8192 bytes, coefficient + 1), e_i (8192
     * signed bytes), SHA-256 of all that (corruption check, <em>not</em> a MAC). 16,488 bytes.
     *
     * <p><b>Secret:</b> whoever holds it is this key holder. Encrypt it at rest and wipe the array
     * after use.
     *
     * @param access {@link SecretShareAccess#insecureSecretShareAccess()}: marks the call site
     * @throws IllegalStateException if destroyed
     */
    public byte[] exportSecretShare(SecretShareAccess access) {
        Objects.requireNonNull(access, "access");
        live();
        byte[] b = new byte[EXPORTED_BYTES];
        ThresholdSupport.putInt(b, 0, EXPORT_MAGIC);
        b[4] = EXPORT_VERSION;
        System.arraycopy(ThresholdSupport.keyParmsIdBytes(), 0, b, 8, 32);
        System.arraycopy(crs.seed(), 0, b, 40, CommonReference.SEED_BYTES);
        for (int k = 0; k < N; k++) {
            b[OFFSET_SECRET + k] = (byte) (secret[k] + 1);
            b[OFFSET_SECRET + N + k] = error[k];
        }
        MessageDigest h = Digests.sha256();
        h.update(b, 0, OFFSET_CHECKSUM);
        System.arraycopy(h.digest(), 0, b, OFFSET_CHECKSUM, Digests.BYTES);
        if (destroyed) {
            Arrays.fill(b, (byte) 0);
            throw new IllegalStateException("threshold party destroyed");
        }
        return b;
    }

    /**
     * Restores a holder from {@link #exportSecretShare}; it must belong to the ceremony
     * {@code crs}. Its public key share is recomputed, identical to the original's.
     *
     * @throws IllegalArgumentException if the bytes are malformed, corrupted, or of another
     *     ceremony (messages never contain secret material)
     */
    public static ThresholdParty importSecretShare(byte[] exported, CommonReference crs, SecretShareAccess access) {
        Objects.requireNonNull(access, "access");
        Objects.requireNonNull(exported, "exported");
        Objects.requireNonNull(crs, "crs");
        byte[] b = exported;
        if (b.length != EXPORTED_BYTES) {
            throw badExport(b.length + " bytes, expected exactly " + EXPORTED_BYTES);
        }
        if (ThresholdSupport.getInt(b, 0) != EXPORT_MAGIC
                || b[4] != EXPORT_VERSION
                || b[5] != 0
                || b[6] != 0
                || b[7] != 0) {
            throw badExport("not a version-1 FSSS secret share");
        }
        MessageDigest h = Digests.sha256();
        h.update(b, 0, OFFSET_CHECKSUM);
        if (!MessageDigest.isEqual(h.digest(), Arrays.copyOfRange(b, OFFSET_CHECKSUM, EXPORTED_BYTES))) {
            throw badExport("checksum mismatch (corrupted)");
        }
        if (!Arrays.equals(b, 8, 40, ThresholdSupport.keyParmsIdBytes(), 0, 32)) {
            throw badExport("not for ckks-8192's key level (parms_id)");
        }
        if (!crs.hasSeed(b, 40)) {
            throw badExport("belongs to another common reference string (ceremony)");
        }
        byte[] s = new byte[N];
        byte[] e = new byte[N];
        for (int k = 0; k < N; k++) {
            int sv = b[OFFSET_SECRET + k] - 1;
            int ev = b[OFFSET_SECRET + N + k];
            if (sv < -1 || sv > 1 || ev < -19 || ev > 19) {
                Arrays.fill(s, (byte) 0);
                Arrays.fill(e, (byte) 0);
                throw badExport("a coefficient is out of range");
            }
            s[k] = (byte) sv;
            e[k] = (byte) ev;
        }
        return new ThresholdParty(crs, s, e);
    }

    private static IllegalArgumentException badExport(String reason) {
        return new IllegalArgumentException("exported secret share: " + reason);
    }

    // ------------------------------------------------------------------ lifecycle

    /** Overwrites the secret material (best effort); the holder is unusable afterwards. */
    public void destroy() {
        destroyed = true;
        Arrays.fill(secret, (byte) 0);
        Arrays.fill(error, (byte) 0);
        Arrays.fill(sNttQ0, 0L);
    }

    /** Whether {@link #destroy()} has run. */
    public boolean isDestroyed() {
        return destroyed;
    }

    private long[] live() {
        if (destroyed) {
            throw new IllegalStateException("threshold party destroyed");
        }
        return sNttQ0;
    }

    private static int[] widen(byte[] x) {
        int[] r = new int[x.length];
        for (int i = 0; i < x.length; i++) {
            r[i] = x[i];
        }
        return r;
    }

    private static byte[] narrow(int[] x) {
        byte[] r = new byte[x.length];
        for (int i = 0; i < x.length; i++) {
            r[i] = (byte) x[i];
        }
        return r;
    }

    @Override
    public String toString() {
        return "ThresholdParty[" + PARAMETER_SET_ID + ", key share "
                + HexFormat.of().formatHex(keyShareDigest, 0, 8) + "…" + (destroyed ? ", destroyed" : "")
                + "]"; // never secret material
    }
}
