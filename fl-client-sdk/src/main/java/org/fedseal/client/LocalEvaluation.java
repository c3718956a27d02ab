package org.fedseal.client;

import org.fedseal.protocol.FederatedEvaluation;

/**
 * The result of evaluating a model on the device's own data, Flower's client {@code evaluate}:
 * {@code (loss, num_examples, metrics)} as plain sums, so that a federated evaluation round can add
 * them up under encryption ({@link FederatedEvaluation}).
 *
 * @param examples local examples evaluated, {@code >= 1}
 * @param correct examples whose prediction (argmax of the outputs) equals the label, in
 *     {@code [0, examples]}; null for a model without an accuracy (e.g. regression)
 * @param lossSum the trainer's loss summed over the examples, finite and {@code >= 0}
 */
public record LocalEvaluation(long examples, Long correct, double lossSum) {
    /** Checks the fields. */
    public LocalEvaluation {
        FederatedEvaluation.checkSums(examples, correct, lossSum);
    }

    /** {@code correct / examples}, or null if the model has no accuracy. */
    public Double accuracy() {
        return correct == null ? null : (double) correct / examples;
    }

    /** Mean loss per example, {@code lossSum / examples}. */
    public double meanLoss() {
        return lossSum / examples;
    }
}
