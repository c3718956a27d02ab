package org.fedseal.protocol;

import java.util.Objects;
import org.fedseal.protocol.wire.ChunkLayout;
import org.fedseal.protocol.wire.RoundOpened;
import org.fedseal.protocol.wire.RoundTask;

/**
 * The contract of a federated evaluation round ({@code RoundOpened.task = EVALUATE}): what a client
 * encrypts, how the round's bounds cover it, and how the key holder turns the decrypted sum into
 * metrics. Clients, the registry, key holders and combiners all use this one class.
 *
 * <h2>Encoding</h2>
 * A client that evaluated the round's base version on {@code n} local examples, {@code c} of them
 * predicted correctly, with summed loss {@code L}, sends the {@value #LENGTH}-value vector of
 * per-example means
 * <pre>
 *   v = (1, c/n, L/n, a)       a = 1 if the model has an accuracy (classification), else 0
 * </pre>
 * with FedAvg weight {@code n}. The SDK's update policy multiplies by the weight as for any update, so
 * the encrypted sum is {@code (Σn, Σc, ΣL, Σ(a·n))} and the aggregate's {@code totalWeight} is
 * {@code Σn}. {@link #decode} divides by it: the federated accuracy {@code Σc / Σ(a·n)} and mean loss
 * {@code ΣL / Σn} are example-weighted means of the clients' local figures (Flower's
 * {@code weighted_average}). The coordinator learns only these totals; the total number of examples
 * is public anyway (the aggregate's {@code totalWeight}).
 *
 * <h2>Bounds</h2>
 * The existing machinery ({@link RoundBounds}) holds unchanged: {@code ‖v‖₂ ≤ √(3 + ℓ²)} when the
 * client's mean loss is at most {@code ℓ} (the round's loss bound), so the registry opens the round
 * with {@code clipNorm = } {@link #clipNormFor(double)} and {@code maxTotalWeight} (a number of
 * examples) from the parameter set's headroom as for training rounds.
 *
 * <h2>A client with a huge loss</h2>
 * Clipping would scale the whole vector, corrupting the accuracy and the example count along with
 * the loss, without anyone noticing. So a client whose vector does not fit the clip norm (a mean loss
 * above the round's loss bound, see {@link #lossBound(RoundOpened)}) <em>refuses</em> to take part
 * (the SDK's {@code SubmissionException HEADROOM_EXCEEDED}, naming its loss and the bound) and sends
 * nothing; the round's metrics are then exact for the clients that did take part, which the
 * registry records as the participants. A coordinator who expects large losses opens the round
 * with a larger loss bound (fewer total examples fit the headroom).
 */
public final class FederatedEvaluation {
    /** Values in an evaluation vector. */
    public static final int LENGTH = 4;
    /** The loss bound ℓ a round gets when the coordinator names none (cross-entropy of a uniform 10-class guess is 2.3). */
    public static final double DEFAULT_LOSS_BOUND = 10.0;

    private FederatedEvaluation() {}

    /**
     * Decrypted federated metrics of one evaluation round.
     *
     * @param examples total examples evaluated (the aggregate's {@code totalWeight})
     * @param accuracy example-weighted mean accuracy over the examples of clients whose model has one,
     *     in [0, 1]; null if none has (regression)
     * @param loss example-weighted mean loss (the trainer's loss function)
     */
    public record Metrics(long examples, Double accuracy, double loss) {}

    /** The clip norm that covers every vector of a client whose mean loss is at most {@code lossBound}: √(3 + ℓ²). */
    public static double clipNormFor(double lossBound) {
        if (!(lossBound > 0) || Double.isInfinite(lossBound)) {
            throw new IllegalArgumentException("lossBound must be positive and finite, got " + lossBound);
        }
        return Math.sqrt(3 + lossBound * lossBound);
    }

    /** The largest mean loss a client may report in {@code round}: √(clipNorm² − 3). */
    public static double lossBound(RoundOpened round) {
        double c = round.getClipNorm();
        return Math.sqrt(Math.max(0, c * c - 3));
    }

    /** The chunk layout of an evaluation round: {@value #LENGTH} values in one ciphertext of {@code valuesPerCiphertext} slots. */
    public static ChunkLayout layout(int valuesPerCiphertext) {
        if (valuesPerCiphertext < LENGTH) {
            throw new IllegalArgumentException(
                    "a ciphertext must hold at least " + LENGTH + " values, got " + valuesPerCiphertext);
        }
        return ChunkLayout.newBuilder()
                .setTotalValues(LENGTH)
                .setValuesPerCiphertext(valuesPerCiphertext)
                .setCiphertextCount(1)
                .setCiphertextsPerChunk(1)
                .setChunkCount(1)
                .build();
    }

    /** True if {@code round} is an evaluation round. */
    public static boolean isEvaluation(RoundOpened round) {
        return round.getTask() == RoundTask.EVALUATE;
    }

    /**
     * Checks one client's evaluation sums.
     *
     * @param examples local examples evaluated, {@code >= 1}
     * @param correct correctly predicted examples in [0, examples], or null if the model has no accuracy
     * @param lossSum sum of the per-example losses, finite and {@code >= 0}
     * @throws IllegalArgumentException naming the value out of range
     */
    public static void checkSums(long examples, Long correct, double lossSum) {
        if (examples < 1) {
            throw new IllegalArgumentException("examples must be >= 1, got " + examples);
        }
        if (correct != null && (correct < 0 || correct > examples)) {
            throw new IllegalArgumentException("correct must be in [0, " + examples + "], got " + correct);
        }
        if (!(lossSum >= 0) || Double.isInfinite(lossSum)) {
            throw new IllegalArgumentException("lossSum must be finite and >= 0, got " + lossSum);
        }
    }

    /**
     * The vector a client sends (before weighting by {@code examples}).
     *
     * @param examples local examples evaluated, {@code >= 1}
     * @param correct correctly predicted examples in [0, examples], or null if the model has no accuracy
     * @param lossSum sum of the per-example losses, finite and {@code >= 0}
     * @throws IllegalArgumentException for values outside those ranges
     */
    public static float[] encode(long examples, Long correct, double lossSum) {
        checkSums(examples, correct, lossSum);
        return new float[] {
            1f,
            correct == null ? 0f : (float) ((double) correct / examples),
            (float) (lossSum / examples),
            correct == null ? 0f : 1f
        };
    }

    /** The L2 norm of {@link #encode}'s vector, computed in double as the clipping does. */
    public static double norm(float[] vector) {
        double s = 0;
        for (float x : vector) {
            s += (double) x * x;
        }
        return Math.sqrt(s);
    }

    /**
     * The metrics from the decrypted sum of a round's evaluation vectors.
     *
     * @param sum the decrypted (not yet divided) sum, at least {@value #LENGTH} values (a ciphertext's
     *     unused slots may follow)
     * @param totalWeight the aggregate's {@code totalWeight} (Σ examples), {@code >= 1}
     * @throws IllegalArgumentException if the sum is not an evaluation sum of that weight (its first value,
     *     Σn, differs from {@code totalWeight} by more than CKKS noise could explain), or the values are
     *     out of range
     */
    public static Metrics decode(double[] sum, long totalWeight) {
        Objects.requireNonNull(sum, "sum");
        if (sum.length < LENGTH) {
            throw new IllegalArgumentException("an evaluation sum has " + LENGTH + " values, got " + sum.length);
        }
        if (totalWeight < 1) {
            throw new IllegalArgumentException("totalWeight must be >= 1, got " + totalWeight);
        }
        double w = totalWeight;
        double tolerance = 1e-3 + 1e-6 * w; // CKKS noise plus float32 rounding of each client's values
        if (!(Math.abs(sum[0] - w) <= tolerance)) {
            throw new IllegalArgumentException("not an evaluation sum of total weight " + totalWeight
                    + ": its example count decrypts to " + sum[0]);
        }
        for (int i = 1; i < LENGTH; i++) {
            if (!Double.isFinite(sum[i]) || sum[i] < -tolerance || (i != 2 && sum[i] > w + tolerance)) {
                throw new IllegalArgumentException(
                        "evaluation sum value " + i + " is out of range: " + sum[i] + " (total weight " + w + ")");
            }
        }
        double covered = Math.abs(sum[3] - w) <= tolerance
                ? w
                : sum[3]; // every client has an accuracy: divide by the exact count
        Double accuracy = covered < 0.5 ? null : Math.min(1, Math.max(0, sum[1] / covered));
        return new Metrics(totalWeight, accuracy, Math.max(0, sum[2] / w));
    }
}
