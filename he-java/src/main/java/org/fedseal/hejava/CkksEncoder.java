package org.fedseal.hejava;

/**
 * CKKS encoding with SEAL's conventions, for N = 8192 and one prime (the last level).
 *
 * <p>Slot i holds the value of the plaintext polynomial at ζ^(3^i) (ζ = e^(iπ/N), SEAL's slot
 * generator is 3, not 5), and its conjugate at ζ^(−3^i). Writing W_j = m(ζ^(2j+1)), the
 * coefficients are m_k = ζ^(−k)·(1/N)·Σ_j W_j·e^(−2πi·jk/N): one inverse complex FFT of length
 * N and a twist. As in SEAL's {@code CKKSEncoder::encode_internal}: multiply by Δ, round half
 * away from zero, refuse coefficients of 60 bits or more (the last level's modulus), reduce
 * mod q0. The output is in coefficient form; the caller applies the NTT. Rounding of
 * {@code Math.cos/sin} may differ from glibc in the last bit: ~1e-15 relative, harmless.
 */
final class CkksEncoder {
    private static final int N = Ckks8192.N;
    private static final int SLOTS = Ckks8192.SLOTS;

    /** Position j of slot i in W (j = (3^i − 1)/2), and of its conjugate ((2N − 3^i − 1)/2). */
    private static final int[] SLOT_POS = new int[SLOTS];

    private static final int[] CONJ_POS = new int[SLOTS];
    /** e^(2πi·t/N) for t &lt; N/2. */
    private static final double[] COS = new double[N / 2];

    private static final double[] SIN = new double[N / 2];
    /** ζ^k = e^(iπ·k/N) for k &lt; N. */
    private static final double[] TWIST_COS = new double[N];

    private static final double[] TWIST_SIN = new double[N];
    private static final int[] BIT_REVERSE = new int[N];

    static {
        long m = 2L * N;
        long g = 1;
        for (int i = 0; i < SLOTS; i++) {
            SLOT_POS[i] = (int) ((g - 1) >>> 1);
            CONJ_POS[i] = (int) ((m - g - 1) >>> 1);
            g = (g * 3) & (m - 1);
        }
        for (int t = 0; t < N / 2; t++) {
            double angle = 2 * Math.PI * t / N;
            COS[t] = Math.cos(angle);
            SIN[t] = Math.sin(angle);
        }
        for (int k = 0; k < N; k++) {
            double angle = Math.PI * k / N;
            TWIST_COS[k] = Math.cos(angle);
            TWIST_SIN[k] = Math.sin(angle);
        }
        for (int i = 0; i < N; i++) {
            BIT_REVERSE[i] = NttPrime.bitReverse(i, Ckks8192.LOG_N);
        }
    }

    private CkksEncoder() {}

    /**
     * Encodes slot values (re[i] + j·im[i], i &lt; N/2) at scale Δ into {@code out} (coefficients
     * mod q0, coefficient form). {@code re}/{@code im} are used as scratch and overwritten.
     *
     * @throws IllegalArgumentException if a value is not finite or the encoding does not fit
     *     the last level's 60-bit modulus (|values| far beyond 2^18)
     */
    static void encode(
            double[] slotRe, double[] slotIm, double scale, double[] re, double[] im, long[] out, NttPrime p) {
        java.util.Arrays.fill(re, 0.0);
        java.util.Arrays.fill(im, 0.0);
        for (int i = 0; i < SLOTS; i++) {
            double a = slotRe[i];
            double b = slotIm[i];
            if (!Double.isFinite(a) || !Double.isFinite(b)) {
                throw new IllegalArgumentException("value is not finite: " + a + (b != 0 ? " + " + b + "i" : ""));
            }
            // Bit-reversal permutation folded into the scatter.
            int s = BIT_REVERSE[SLOT_POS[i]];
            int c = BIT_REVERSE[CONJ_POS[i]];
            re[s] = a;
            im[s] = b;
            re[c] = a;
            im[c] = -b;
        }
        // Iterative radix-2 DIT inverse DFT (twiddles e^(−2πi·t/N)) on bit-reversed input.
        for (int len = 2; len <= N; len <<= 1) {
            int half = len >>> 1;
            int step = N / len;
            for (int start = 0; start < N; start += len) {
                for (int k = 0; k < half; k++) {
                    double wr = COS[k * step];
                    double wi = -SIN[k * step];
                    int lo = start + k;
                    int hi = lo + half;
                    double xr = re[hi] * wr - im[hi] * wi;
                    double xi = re[hi] * wi + im[hi] * wr;
                    re[hi] = re[lo] - xr;
                    im[hi] = im[lo] - xi;
                    re[lo] += xr;
                    im[lo] += xi;
                }
            }
        }
        double fix = scale / N;
        double maxAbs = 0;
        for (int k = 0; k < N; k++) {
            // Re(ζ^(−k)·v_k) = re·cos + im·sin
            double coeff = (re[k] * TWIST_COS[k] + im[k] * TWIST_SIN[k]) * fix;
            re[k] = coeff;
            maxAbs = Math.max(maxAbs, Math.abs(coeff));
        }
        int maxBits = (int) Math.ceil(Math.log(Math.max(maxAbs, 1.0)) / Math.log(2)) + 1;
        if (maxBits >= 60 || !Double.isFinite(maxAbs)) {
            throw new IllegalArgumentException(
                    "encoded values are too large for scale 2^" + Math.getExponent(scale) + " at the last level");
        }
        long q = p.q;
        for (int k = 0; k < N; k++) {
            double x = re[k];
            double ax = Math.abs(x);
            double fl = Math.floor(ax);
            long r = (long) fl + (ax - fl >= 0.5 ? 1 : 0); // round half away from zero, like std::round
            r %= q;
            out[k] = (x < 0 && r != 0) ? q - r : r;
        }
    }

    /**
     * The inverse of {@link #encode} (SEAL's {@code CKKSEncoder::decode} for one prime): from the
     * centre-lifted coefficients m_k (coefficient form, as doubles), slot i =
     * m(ζ^(3^i)) / Δ = Σ_k (m_k·ζ^k)·e^(2πi·jk/N) / Δ with j = (3^i − 1)/2 — a twist and one forward
     * complex FFT of length N. {@code coeff} and {@code im} are N-long scratch arrays
     * ({@code coeff} is overwritten); the slots go to {@code slotRe}/{@code slotIm} (N/2 each).
     */
    static void decode(double[] coeff, double scale, double[] im, double[] slotRe, double[] slotIm) {
        double[] re = coeff;
        // Twist by ζ^k, then scatter into bit-reversed order (in place: swap pairs).
        for (int k = 0; k < N; k++) {
            double c = re[k];
            re[k] = c * TWIST_COS[k];
            im[k] = c * TWIST_SIN[k];
        }
        for (int k = 0; k < N; k++) {
            int r = BIT_REVERSE[k];
            if (r > k) {
                double t = re[k];
                re[k] = re[r];
                re[r] = t;
                t = im[k];
                im[k] = im[r];
                im[r] = t;
            }
        }
        // Iterative radix-2 DIT forward DFT (twiddles e^(+2πi·t/N)) on bit-reversed input.
        for (int len = 2; len <= N; len <<= 1) {
            int half = len >>> 1;
            int step = N / len;
            for (int start = 0; start < N; start += len) {
                for (int k = 0; k < half; k++) {
                    double wr = COS[k * step];
                    double wi = SIN[k * step];
                    int lo = start + k;
                    int hi = lo + half;
                    double xr = re[hi] * wr - im[hi] * wi;
                    double xi = re[hi] * wi + im[hi] * wr;
                    re[hi] = re[lo] - xr;
                    im[hi] = im[lo] - xi;
                    re[lo] += xr;
                    im[lo] += xi;
                }
            }
        }
        double inv = 1.0 / scale;
        for (int i = 0; i < SLOTS; i++) {
            int j = SLOT_POS[i];
            slotRe[i] = re[j] * inv;
            slotIm[i] = im[j] * inv;
        }
    }
}
