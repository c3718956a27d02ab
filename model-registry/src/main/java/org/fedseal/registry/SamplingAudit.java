package org.fedseal.registry;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.fedseal.protocol.ClientSampling;
import org.fedseal.protocol.wire.LogEntry;
import org.fedseal.protocol.wire.RoundOpened;

/**
 * The client-sampling part of {@link Auditor#verify}: re-derives every logged round's sample
 * (fl-protocol {@link ClientSampling}) from the round record and the clients the log shows
 * enrolled for the model before the round, and compares it with the round's
 * {@code sampledClients}.
 *
 * <p>The eligible clients are those whose latest {@code CLIENT_ENROLLED} entry before the round
 * names the model (or no model: all models), minus the model's service identities, as the
 * registry excludes them when it opens the round: its key holder (the registry's
 * {@link ModelInfo#keyHolderId}, the single key holder or a threshold model's combiner) and the
 * holders of its key ceremonies (from the logged ceremony records).
 */
final class SamplingAudit {
    private final Map<String, String> enrolledModels = new HashMap<>();
    private final Function<String, String> keyHolderOf;
    private final Function<String, Set<String>> ceremonyHoldersOf;
    private int sampledRounds;

    /**
     * @param keyHolderOf a model's key holder id as the registry serves it (null for none)
     * @param ceremonyHoldersOf the holders of the model's ceremonies logged so far
     */
    SamplingAudit(Function<String, String> keyHolderOf, Function<String, Set<String>> ceremonyHoldersOf) {
        this.keyHolderOf = keyHolderOf;
        this.ceremonyHoldersOf = ceremonyHoldersOf;
    }

    /** A CLIENT_ENROLLED entry: its modelId field is the comma-joined model list (empty: all models). */
    void onEnrolled(LogEntry e) {
        if (e.getClientId() != null) {
            enrolledModels.put(e.getClientId(), e.getModelId());
        }
    }

    /** Null if the round's sample is the one re-derived from the log, else the problem, naming the round. */
    String onRound(RoundOpened r) {
        String model = r.getModelId();
        String rk = model + "/" + r.getRound();
        List<String> eligible = new ArrayList<>();
        String keyHolder = r.getSamplingFraction() < 1.0 ? keyHolderOf.apply(model) : null;
        Set<String> holders = r.getSamplingFraction() < 1.0 ? ceremonyHoldersOf.apply(model) : Set.of();
        for (Map.Entry<String, String> c : enrolledModels.entrySet()) {
            String models = c.getValue();
            boolean forModel = models.isEmpty() || List.of(models.split(",")).contains(model);
            if (forModel && !c.getKey().equals(keyHolder) && !holders.contains(c.getKey())) {
                eligible.add(c.getKey());
            }
        }
        List<String> expected;
        try {
            expected = ClientSampling.sample(r, eligible);
        } catch (IllegalArgumentException ex) {
            return "round " + rk + " has invalid sampling parameters: " + ex.getMessage();
        }
        if (!expected.equals(r.getSampledClients())) {
            return "round " + rk + " names sampled clients " + r.getSampledClients()
                    + ", but the sample re-derived from its record and the " + eligible.size()
                    + " clients the log shows enrolled for " + model + " before it is " + expected;
        }
        if (!expected.isEmpty()) {
            sampledRounds++;
        }
        return null;
    }

    /** True if any round sampled its clients. */
    boolean any() {
        return sampledRounds > 0;
    }

    String summary() {
        return "client samples of " + sampledRounds + " rounds re-derived from the enrolments logged before them";
    }
}
