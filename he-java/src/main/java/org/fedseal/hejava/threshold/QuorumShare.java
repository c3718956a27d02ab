package org.fedseal.hejava.threshold;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import org.fedseal.hejava.ThresholdSupport;
import org.fedseal.hejava.ThresholdSupport.CiphertextVector;
import org.fedseal.hejava.ThresholdSupport.FloodingSampler;

/**
 * One key holder's share of a t-of-n quorum (the stretch after n-of-n): the sum
 * sk'_j = Σ_i f_i(j) mod q0 of the Shamir dealings {@link ThresholdParty#dealQuorumShares} of all
 * n holders at this holder's point j. For a quorum T of exactly t points, holder j's decryption
 * share is h_j = c1·λ_j·sk'_j + e_flood with the Lagrange coefficient λ_j of T at 0, so that
 * Σ_{j∈T} λ_j·sk'_j = Σ_i s_i: any t holders decrypt exactly what all n would, with the same
 * flooding; fewer decode to noise. The collective public key is the n-of-n one, unchanged.
 *
 * <p>A decryption share is bound to the aggregate and to its {@link #identity identity}, which
 * names the ceremony's key shares, the point and the quorum: shares made for different quorums
 * never combine ({@link ThresholdDecryptor#combine(byte[], List, int, boolean, List)} with
 * {@link #identities}).
 *
 * <p>Secret material; {@link #toString} never shows it. Not thread-safe for {@link #destroy}.
 */
public final class QuorumShare {
    private static final int N = ThresholdSupport.N;
    private static final int DEALING_MAGIC = 0x44515346; // "FSQD"
    private static final int EXPORT_MAGIC = 0x53515346; // "FSQS"
    private static final int VERSION = 1;
    private static final int OFFSET_SEED = 8;
    private static final int OFFSET_DIGEST = OFFSET_SEED + CommonReference.SEED_BYTES;
    private static final int OFFSET_VALUES = OFFSET_DIGEST + Digests.BYTES;
    private static final int OFFSET_CHECKSUM = OFFSET_VALUES + 8 * N;
    /** Size of one dealing and of an exported quorum share ("FSQD"/"FSQS" version 1): 65,640 bytes. */
    public static final int BYTES = OFFSET_CHECKSUM + Digests.BYTES;

    private final CommonReference crs;
    private final List<byte[]> keyShareDigests;
    private final int threshold;
    private final int point;
    private final long[] value;
    private volatile boolean destroyed;

    private QuorumShare(CommonReference crs, List<byte[]> keyShareDigests, int threshold, int point, long[] value) {
        this.crs = crs;
        this.keyShareDigests = keyShareDigests;
        this.threshold = threshold;
        this.point = point;
        this.value = value;
    }

    /**
     * Holder {@code point}'s quorum share from the dealings it received, one from every holder of
     * the ceremony (any order).
     *
     * @param keyShareDigests every holder's key share digest, in ceremony order (holder k has point k+1)
     * @throws IllegalArgumentException if a dealing is malformed, for another ceremony, point or
     *     quorum shape, from a holder outside {@code keyShareDigests}, repeated, or one is missing
     */
    public static QuorumShare assemble(
            CommonReference crs,
            List<byte[]> keyShareDigests,
            int t,
            int point,
            List<byte[]> dealings,
            SecretShareAccess access) {
        Objects.requireNonNull(access, "access");
        Objects.requireNonNull(crs, "crs");
        List<byte[]> digests = copyDigests(keyShareDigests);
        int n = digests.size();
        checkShape(t, n);
        if (point < 1 || point > n) {
            throw new IllegalArgumentException("point " + point + " is not in 1.." + n);
        }
        if (dealings.size() != n) {
            throw new IllegalArgumentException(dealings.size() + " dealings for " + n + " holders");
        }
        boolean[] seen = new boolean[n];
        long[] sum = new long[N];
        long[] one = new long[N];
        try {
            for (byte[] d : dealings) {
                int dealer = readDealing(d, crs, digests, t, point, one);
                if (seen[dealer]) {
                    throw new IllegalArgumentException("two dealings from holder " + (dealer + 1));
                }
                seen[dealer] = true;
                ThresholdSupport.addQ0(sum, one);
            }
        } catch (RuntimeException e) {
            Arrays.fill(sum, 0L);
            throw e;
        } finally {
            Arrays.fill(one, 0L);
        }
        return new QuorumShare(crs, digests, t, point, sum);
    }

    /** This holder's point (1-based position in the ceremony's holder list). */
    public int point() {
        return point;
    }

    /** t: how many holders a quorum has. */
    public int threshold() {
        return threshold;
    }

    /** n: how many holders the ceremony has. */
    public int holders() {
        return keyShareDigests.size();
    }

    /**
     * This holder's decryption share of an aggregate for the quorum {@code quorum} (exactly t
     * distinct points including this one): h = c1·λ·sk' + e_flood mod q0, e_flood fresh (σ = 2^30),
     * bound to the aggregate and to {@link #identity(List, int, int[])}.
     *
     * @throws IllegalArgumentException if the aggregate is malformed or not at scale 2^50, or the
     *     quorum is not t distinct points in 1..n containing this holder's
     * @throws IllegalStateException if destroyed
     */
    public DecryptionShare decryptionShare(byte[] fsevVectorBytes, int[] quorum, SecureRandom random) {
        Objects.requireNonNull(random, "random");
        int[] q = checkQuorum(quorum, threshold, holders());
        if (Arrays.binarySearch(q, point) < 0) {
            throw new IllegalArgumentException(
                    "quorum " + Arrays.toString(q) + " does not contain this holder's point " + point);
        }
        CiphertextVector v = ThresholdDecryptor.parseAggregate(fsevVectorBytes);
        long[] scaled = new long[N];
        long[] scratch = new long[N];
        long[][] h = new long[v.ciphertextCount()][N];
        FloodingSampler flooding = new FloodingSampler(random, ThresholdParty.FLOODING_SIGMA);
        try {
            ThresholdSupport.scaleQ0(live(), ThresholdSupport.lagrangeAtZeroQ0(point, q), scaled);
            for (int c = 0; c < h.length; c++) {
                ThresholdSupport.decryptionShare(v.c1(c), scaled, flooding, scratch, h[c]);
            }
        } finally {
            flooding.wipe();
            Arrays.fill(scaled, 0L);
        }
        live();
        return new DecryptionShare(Digests.sha256(fsevVectorBytes), identity(keyShareDigests, point, q), h);
    }

    /**
     * The identity a decryption share of holder {@code point} for quorum {@code quorum} carries:
     * SHA-256 of a domain string, the ceremony's key share digests, the point and the quorum.
     */
    public static byte[] identity(List<byte[]> keyShareDigests, int point, int[] quorum) {
        MessageDigest h = Digests.sha256();
        h.update("FedSeal/threshold/quorum-share/v1".getBytes(StandardCharsets.US_ASCII));
        h.update(Digests.u32be(keyShareDigests.size()));
        for (byte[] d : keyShareDigests) {
            h.update(d);
        }
        h.update(Digests.u32be(point));
        int[] q = quorum.clone();
        Arrays.sort(q);
        h.update(Digests.u32be(q.length));
        for (int m : q) {
            h.update(Digests.u32be(m));
        }
        return h.digest();
    }

    /** The identities of a quorum's members: the expected list for {@link ThresholdDecryptor#combine}. */
    public static List<byte[]> identities(List<byte[]> keyShareDigests, int[] quorum) {
        List<byte[]> out = new ArrayList<>();
        for (int m : quorum) {
            out.add(identity(keyShareDigests, m, quorum));
        }
        return out;
    }

    // ------------------------------------------------------------------ wire forms

    static void checkShape(int t, int n) {
        if (t < 2 || t > n || n > 255) {
            throw new IllegalArgumentException("a quorum needs 2 <= t <= n <= 255, got t=" + t + ", n=" + n);
        }
    }

    private static int[] checkQuorum(int[] quorum, int t, int n) {
        int[] q = Objects.requireNonNull(quorum, "quorum").clone();
        Arrays.sort(q);
        boolean ok = q.length == t;
        for (int i = 0; ok && i < q.length; i++) {
            ok = q[i] >= 1 && q[i] <= n && (i == 0 || q[i] != q[i - 1]);
        }
        if (!ok) {
            throw new IllegalArgumentException(
                    "a quorum is " + t + " distinct points in 1.." + n + ", got " + Arrays.toString(quorum));
        }
        return q;
    }

    /** "FSQD": magic, version, t, n, point, CRS seed, dealer's key share digest, N × u64 LE, SHA-256 checksum. */
    static byte[] writeDealing(CommonReference crs, byte[] dealerDigest, int t, int n, int point, long[] value) {
        return write(DEALING_MAGIC, crs, dealerDigest, t, n, point, value);
    }

    private static byte[] write(int magic, CommonReference crs, byte[] digest, int t, int n, int point, long[] value) {
        byte[] b = new byte[BYTES];
        ThresholdSupport.putInt(b, 0, magic);
        b[4] = VERSION;
        b[5] = (byte) t;
        b[6] = (byte) n;
        b[7] = (byte) point;
        System.arraycopy(crs.seed(), 0, b, OFFSET_SEED, CommonReference.SEED_BYTES);
        System.arraycopy(digest, 0, b, OFFSET_DIGEST, Digests.BYTES);
        for (int k = 0; k < N; k++) {
            ThresholdSupport.putLong(b, OFFSET_VALUES + 8 * k, value[k]);
        }
        MessageDigest h = Digests.sha256();
        h.update(b, 0, OFFSET_CHECKSUM);
        System.arraycopy(h.digest(), 0, b, OFFSET_CHECKSUM, Digests.BYTES);
        return b;
    }

    /** Reads one dealing into {@code out}; returns the dealer's index in {@code digests}. */
    private static int readDealing(byte[] b, CommonReference crs, List<byte[]> digests, int t, int point, long[] out) {
        int n = digests.size();
        read(b, DEALING_MAGIC, crs, t, n, point, out, "dealing");
        for (int i = 0; i < n; i++) {
            if (Arrays.equals(b, OFFSET_DIGEST, OFFSET_DIGEST + Digests.BYTES, digests.get(i), 0, Digests.BYTES)) {
                return i;
            }
        }
        throw new IllegalArgumentException("a dealing from a holder outside the ceremony");
    }

    private static void read(
            byte[] b, int magic, CommonReference crs, int t, int n, int point, long[] out, String what) {
        Objects.requireNonNull(b, what);
        if (b.length != BYTES || ThresholdSupport.getInt(b, 0) != magic || b[4] != VERSION) {
            throw new IllegalArgumentException("not a version-1 " + what + " of " + BYTES + " bytes");
        }
        MessageDigest h = Digests.sha256();
        h.update(b, 0, OFFSET_CHECKSUM);
        if (!MessageDigest.isEqual(h.digest(), Arrays.copyOfRange(b, OFFSET_CHECKSUM, BYTES))) {
            throw new IllegalArgumentException(what + ": checksum mismatch (corrupted)");
        }
        if (!crs.hasSeed(b, OFFSET_SEED)) {
            throw new IllegalArgumentException(what + " of another ceremony (common reference)");
        }
        if ((b[5] & 0xff) != t || (b[6] & 0xff) != n || (b[7] & 0xff) != point) {
            throw new IllegalArgumentException(what + " for " + (b[5] & 0xff) + "-of-" + (b[6] & 0xff) + " point "
                    + (b[7] & 0xff) + ", expected " + t + "-of-" + n + " point " + point);
        }
        for (int k = 0; k < N; k++) {
            out[k] = ThresholdSupport.getLong(b, OFFSET_VALUES + 8 * k);
        }
        if (!ThresholdSupport.reducedQ0(out)) {
            Arrays.fill(out, 0L);
            throw new IllegalArgumentException(what + ": a value is not reduced mod q0");
        }
    }

    /**
     * This quorum share for persistence ("FSQS", same layout as a dealing, with the digest of the
     * ceremony's key share list in the digest field). <b>Secret.</b>
     */
    public byte[] exportSecret(SecretShareAccess access) {
        Objects.requireNonNull(access, "access");
        return write(EXPORT_MAGIC, crs, listDigest(keyShareDigests), threshold, holders(), point, live());
    }

    /**
     * Restores an {@link #exportSecret exported} quorum share of the ceremony {@code crs} with
     * these key share digests.
     *
     * @throws IllegalArgumentException if malformed, corrupted or of another ceremony or shape
     */
    public static QuorumShare importSecret(
            byte[] exported, CommonReference crs, List<byte[]> keyShareDigests, SecretShareAccess access) {
        Objects.requireNonNull(access, "access");
        List<byte[]> digests = copyDigests(keyShareDigests);
        if (exported == null || exported.length != BYTES) {
            throw new IllegalArgumentException("not an exported quorum share");
        }
        int t = exported[5] & 0xff;
        int point = exported[7] & 0xff;
        checkShape(t, digests.size());
        long[] value = new long[N];
        read(exported, EXPORT_MAGIC, crs, t, digests.size(), point, value, "exported quorum share");
        if (!Arrays.equals(
                exported, OFFSET_DIGEST, OFFSET_DIGEST + Digests.BYTES, listDigest(digests), 0, Digests.BYTES)) {
            Arrays.fill(value, 0L);
            throw new IllegalArgumentException("exported quorum share of another holder list");
        }
        return new QuorumShare(crs, digests, t, point, value);
    }

    private static byte[] listDigest(List<byte[]> digests) {
        MessageDigest h = Digests.sha256();
        for (byte[] d : digests) {
            h.update(d);
        }
        return h.digest();
    }

    private static List<byte[]> copyDigests(List<byte[]> keyShareDigests) {
        List<byte[]> out = new ArrayList<>();
        for (byte[] d : Objects.requireNonNull(keyShareDigests, "keyShareDigests")) {
            if (d == null || d.length != Digests.BYTES) {
                throw new IllegalArgumentException("a key share digest is not " + Digests.BYTES + " bytes");
            }
            out.add(d.clone());
        }
        return List.copyOf(out);
    }

    // ------------------------------------------------------------------ lifecycle

    /** Overwrites the secret material (best effort); unusable afterwards. */
    public void destroy() {
        destroyed = true;
        Arrays.fill(value, 0L);
    }

    private long[] live() {
        if (destroyed) {
            throw new IllegalStateException("quorum share destroyed");
        }
        return value;
    }

    @Override
    public String toString() {
        return "QuorumShare[" + threshold + "-of-" + holders() + ", point " + point + ", ceremony "
                + HexFormat.of().formatHex(crs.seed(), 0, 8) + "…, secret redacted" + (destroyed ? ", destroyed" : "")
                + "]";
    }
}
