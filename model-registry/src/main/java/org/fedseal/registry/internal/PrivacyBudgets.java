package org.fedseal.registry.internal;

import java.util.List;
import java.util.Optional;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.PrivacyAccountant;
import org.fedseal.protocol.wire.RoundOpened;

/**
 * Models' differential-privacy budgets (table {@code models}, columns {@code dp_epsilon_budget},
 * {@code dp_delta}) and the ε spent after each version ({@code versions.dp_epsilon}).
 *
 * <p>What is charged: every round of the model that may have released an aggregate (status other
 * than {@code failed}), each by fl-protocol {@link PrivacyAccountant#charge} (its noise multiplier
 * at sampling rate 1; a round without noise is unbounded), composed in Rényi DP and converted at
 * the model's δ with the improved conversion. A budgeted model only ever gets noised training
 * rounds: {@link #checkRound} refuses a round without noise (evaluation rounds included) and a
 * round that would bring ε past the budget, before the round is recorded.
 */
final class PrivacyBudgets {
    /** A model's budget. */
    record Budget(double epsilon, double delta) {}

    private final Database db;

    PrivacyBudgets(Database db) {
        this.db = db;
    }

    /**
     * Checks a budget's values.
     *
     * @throws ApiException 400 naming the bad value
     */
    static Budget validate(double epsilon, double delta) {
        if (!(epsilon > 0) || Double.isInfinite(epsilon)) {
            throw ApiException.badRequest("epsilonBudget must be positive and finite, got " + epsilon);
        }
        if (!(delta > 0 && delta < 1)) {
            throw ApiException.badRequest("delta must be in (0, 1), got " + delta);
        }
        return new Budget(epsilon, delta);
    }

    /** Sets the model's budget (at registration; there is no way to raise it later). */
    void set(String modelId, Budget budget) {
        db.update(
                "UPDATE models SET dp_epsilon_budget = ?, dp_delta = ? WHERE model_id = ?",
                budget.epsilon(),
                budget.delta(),
                modelId);
        db.update("UPDATE versions SET dp_epsilon = 0 WHERE model_id = ? AND seq = 0", modelId);
    }

    Optional<Budget> budget(String modelId) {
        return db.queryOne(
                "SELECT dp_epsilon_budget, dp_delta FROM models WHERE model_id = ? AND dp_epsilon_budget IS NOT NULL",
                rs -> new Budget(rs.getDouble(1), rs.getDouble(2)),
                modelId);
    }

    /** The accountant after every chargeable round of the model numbered at most {@code upToRound}. */
    PrivacyAccountant spent(String modelId, int upToRound) {
        List<RoundOpened> charged = db.query(
                "SELECT record FROM rounds WHERE model_id = ? AND round_no <= ? AND status <> 'failed' "
                        + "ORDER BY round_no",
                rs -> Records.decode(rs.getString(1), RoundOpened.class),
                modelId,
                upToRound);
        PrivacyAccountant acc = PrivacyAccountant.create();
        for (RoundOpened r : charged) {
            acc = acc.charge(r);
        }
        return acc;
    }

    /**
     * Refuses {@code round} (not yet recorded) on a budgeted model if it carries no noise or would
     * bring ε past the budget; a model without a budget takes any round.
     *
     * @throws ApiException 400 {@code noise_required} or 409 {@code privacy_budget_exceeded}, naming the
     *     model, the ε the round would reach and the budget
     */
    void checkRound(RoundOpened round) {
        String modelId = round.getModelId().toString();
        Optional<Budget> b = budget(modelId);
        if (b.isEmpty()) {
            return;
        }
        Budget budget = b.get();
        if (round.getTask() != org.fedseal.protocol.wire.RoundTask.TRAIN || !(round.getNoiseMultiplier() > 0)) {
            throw new ApiException(
                    400,
                    "noise_required",
                    "model " + modelId + " has a privacy budget (epsilon " + budget.epsilon()
                            + " at delta " + budget.delta() + "): a "
                            + (round.getTask() == org.fedseal.protocol.wire.RoundTask.TRAIN
                                    ? "training round without noise"
                                    : "round of task " + round.getTask() + " (its sums carry no noise)")
                            + " would spend an unbounded epsilon; open training rounds with a noise multiplier > 0");
        }
        PrivacyAccountant.Epsilon after =
                spent(modelId, round.getRound() - 1).charge(round).epsilon(budget.delta());
        if (after.epsilon() > budget.epsilon()) {
            double before =
                    spent(modelId, round.getRound() - 1).epsilon(budget.delta()).epsilon();
            throw ApiException.conflict(
                    "privacy_budget_exceeded",
                    String.format(
                            java.util.Locale.ROOT,
                            "round %d of model %s (noise multiplier %s) would bring its epsilon to %.4f at delta %s, over its budget "
                                    + "epsilon %s (spent so far: %.4f)",
                            round.getRound(),
                            modelId,
                            round.getNoiseMultiplier(),
                            after.epsilon(),
                            budget.delta(),
                            budget.epsilon(),
                            before));
        }
    }

    /** Stores the ε spent after the version of {@code round} (null for a model without a budget); returns it. */
    Double recordVersion(String modelId, int round, Hash versionHash) {
        Optional<Budget> b = budget(modelId);
        if (b.isEmpty()) {
            return null;
        }
        double eps = spent(modelId, round).epsilon(b.get().delta()).epsilon();
        db.update("UPDATE versions SET dp_epsilon = ? WHERE version_hash = ?", eps, versionHash.toHex());
        return eps;
    }
}
