package org.fedseal.protocol;

import java.math.BigInteger;
import java.util.Optional;
import org.fedseal.protocol.wire.ChunkLayout;
import org.fedseal.protocol.wire.RoundOpened;

/**
 * The public rules of a compact round ({@link RoundOpened#getMaskModulus()} &gt; 0), checked by
 * the registry when it opens one, by clients before they mask, and by the aggregator when the
 * round reaches it.
 *
 * <h2>The construction</h2>
 * One-polynomial RLWE masking after Willow (Bell, Gascón, Ghazi, Ilvento, Kumar, Manurangsi, Raykova,
 * Rotaru, Seth, "Willow: Secure Aggregation with One-Shot Clients", CRYPTO 2025), in FedSeal's CKKS
 * pipeline: per update a client draws a fresh ternary secret {@code s} and sends every block
 * {@code j} of {@link #BLOCK_VALUES} values as {@code b_j = −a_j·s + e_j + ⌊2^scaleBits·m_j⌉ mod q}
 * in {@code Z_q[X]/(X^N+1)}, where {@code a_j} is public (expanded from the round's seed and
 * {@code j}), plus {@code s} once, CKKS-encrypted under the model's public key. The aggregator adds
 * both kinds; the key holders decrypt only {@code S = Σ s_i}, and anyone holding the aggregate
 * computes {@code Σ b_j + a_j·S = Σ e_j + Σ ⌊2^scaleBits·m_j⌉} (he-java {@code CompactMasking}).
 *
 * <h2>Headroom</h2>
 * Coefficient encoding adds values coefficient by coefficient, so the sum wraps once one
 * coefficient passes q/2. Every value of an unweighted delta is at most {@link #valueBound} (the L2
 * clip bounds each value too; {@code clipValue} bounds it tighter), so a round's sum stays below
 * {@code valueBound × maxTotalWeight} per coefficient; each update adds noise below
 * {@value #NOISE_PER_UPDATE} (6σ of σ = 3.2, plus the rounding), and at most
 * {@code maxTotalWeight} updates fit (every weight is at least 1). Hence
 * {@link #coefficientBound}.
 */
public final class CompactRounds {
    /** N: values per masked block, the ring degree (and the values one CKKS-8192 key ciphertext holds). */
    public static final int BLOCK_VALUES = 8192;

    /** Largest noise one update adds to one coefficient: 6σ at σ = 3.2, plus one for the rounding. */
    public static final double NOISE_PER_UPDATE = 20.0;

    /** Largest modulus: 61 bits, so that sums of two coefficients never overflow a long. */
    public static final int MAX_MODULUS_BITS = 61;

    private CompactRounds() {}

    /** True if the round's clients send compact updates. */
    public static boolean isCompact(RoundOpened round) {
        return round.getMaskModulus() != 0;
    }

    /** The bound on every value of one unweighted delta: the clip norm, or {@code clipValue} if set and smaller. */
    public static double valueBound(RoundOpened round) {
        double c = round.getClipNorm();
        double v = round.getClipValue();
        return v > 0 && v < c ? v : c;
    }

    /**
     * The largest |Σ| of one coefficient (in value units) that decodes correctly under modulus
     * {@code q} at scale {@code 2^scaleBits} with at most {@code maxUpdates} updates:
     * {@code (q/2 − 1 − maxUpdates·NOISE_PER_UPDATE) / 2^scaleBits}; negative when the noise alone
     * does not fit.
     */
    public static double coefficientBound(long q, int scaleBits, long maxUpdates) {
        return ((q >>> 1) - 1 - (double) maxUpdates * NOISE_PER_UPDATE) / Math.scalb(1.0, scaleBits);
    }

    /**
     * The smallest prime {@code q ≡ 1 (mod 2N)} whose {@link #coefficientBound} holds
     * {@code sumBound} with {@code maxUpdates} updates: the modulus a registry gives a compact round.
     *
     * @throws IllegalArgumentException if that needs more than {@value #MAX_MODULUS_BITS} bits, or
     *     an input is not positive and finite
     */
    public static long modulusFor(double sumBound, int scaleBits, long maxUpdates) {
        if (!(sumBound > 0) || Double.isInfinite(sumBound) || scaleBits < 1 || scaleBits > 50 || maxUpdates < 1) {
            throw new IllegalArgumentException("sum bound " + sumBound + ", scale bits " + scaleBits
                    + " and max updates " + maxUpdates + " must be positive (scale bits at most 50)");
        }
        double half = sumBound * Math.scalb(1.0, scaleBits) + 1 + (double) maxUpdates * NOISE_PER_UPDATE;
        if (half >= Math.scalb(1.0, MAX_MODULUS_BITS - 1)) {
            throw new IllegalArgumentException(String.format(
                    "a sum of up to %.6g at scale 2^%d needs a modulus above %d bits: lower maxTotalWeight, the clip"
                            + " bound or the scale",
                    sumBound, scaleBits, MAX_MODULUS_BITS));
        }
        long step = 2L * BLOCK_VALUES;
        long need = 2 * (long) Math.ceil(half); // an odd q >= need has floor(q/2) >= ceil(half)
        long q = Math.floorDiv(need - 1 + step - 1, step) * step + 1;
        while (!BigInteger.valueOf(q).isProbablePrime(64) || coefficientBound(q, scaleBits, maxUpdates) < sumBound) {
            q += step;
            if (q >= 1L << MAX_MODULUS_BITS) {
                throw new IllegalArgumentException("no prime modulus of at most " + MAX_MODULUS_BITS + " bits holds "
                        + sumBound + " at scale 2^" + scaleBits);
            }
        }
        return q;
    }

    /**
     * Why the round's compact fields are inconsistent with its layout and bounds, or empty if they
     * hold (also for a round that is not compact and carries none of them).
     */
    public static Optional<String> problem(RoundOpened round) {
        ChunkLayout layout = round.getChunkLayout();
        long q = round.getMaskModulus();
        int scaleBits = round.getMaskScaleBits();
        if (q == 0) {
            if (scaleBits != 0 || (layout != null && Chunker.keyCiphertexts(layout) != 0)) {
                return Optional.of("a round without a mask modulus carries maskScaleBits or key ciphertexts");
            }
            return Optional.empty();
        }
        if (q < 3 || 64 - Long.numberOfLeadingZeros(q) > MAX_MODULUS_BITS || (q - 1) % (2L * BLOCK_VALUES) != 0) {
            return Optional.of("mask modulus " + q + " is not a prime = 1 mod " + 2 * BLOCK_VALUES + " of at most "
                    + MAX_MODULUS_BITS + " bits");
        }
        if (!BigInteger.valueOf(q).isProbablePrime(64)) {
            return Optional.of("mask modulus " + q + " is not prime");
        }
        if (scaleBits < 1 || scaleBits > 50) {
            return Optional.of("maskScaleBits " + scaleBits + " is outside 1..50");
        }
        if (layout == null || layout.getValuesPerCiphertext() != BLOCK_VALUES || Chunker.keyCiphertexts(layout) != 1) {
            return Optional.of("a compact round's layout needs " + BLOCK_VALUES
                    + " values per masked block and exactly one key ciphertext");
        }
        if (round.getNoiseMultiplier() != 0) {
            return Optional.of("compact rounds do not take distributed noise yet (noiseMultiplier "
                    + round.getNoiseMultiplier() + ")");
        }
        double need = valueBound(round) * round.getMaxTotalWeight();
        double room = coefficientBound(q, scaleBits, round.getMaxTotalWeight());
        if (need > room) {
            return Optional.of(String.format(
                    "a full round could wrap the masked sum: value bound %s x maxTotalWeight %d = %.6g exceeds what"
                            + " modulus %d at scale 2^%d holds (%.6g)",
                    valueBound(round), round.getMaxTotalWeight(), need, q, scaleBits, room));
        }
        return Optional.empty();
    }

    /**
     * The 32-byte public seed from which every client of the round expands the same {@code a_j}:
     * SHA-256 over a domain tag, the model id, the round and the base model hash, so that it
     * differs per round.
     */
    public static byte[] roundSeed(RoundOpened round) {
        byte[] model = round.getModelId().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] base = Bytes.toArray(round.getBaseModelHash());
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(64 + model.length + base.length);
        b.put("fedseal/compact-mask/v1".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        b.putInt(model.length)
                .put(model)
                .putInt(round.getRound())
                .putInt(base.length)
                .put(base);
        return Hash.sha256(java.util.Arrays.copyOf(b.array(), b.position())).bytes();
    }
}
