package org.fedseal.android;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import org.fedseal.client.HttpParticipant;
import org.fedseal.client.HttpRegistrySource;
import org.fedseal.client.HttpUpdateTransport;
import org.fedseal.client.JavaMlpTrainer;
import org.fedseal.client.LocalDataset;
import org.fedseal.client.SubmissionException;
import org.fedseal.client.SubmissionReceipt;
import org.fedseal.client.UpdatePolicy;
import org.fedseal.client.UpdateSigner;
import org.fedseal.protocol.wire.RoundOpened;

/**
 * One federated round, as the JobService runs it: fetch the open round from the registry, train
 * softmax regression ({@link JavaMlpTrainer}, 784 → 10, 7,850 parameters) on the bundled digits,
 * clip and weight, encrypt with the registry's HE public key (hash-checked against the round),
 * sign and upload over HTTP. No Android types: tests call it directly.
 */
public final class RoundRunner {
    /** This app's own L2 clip bound of the delta (it clips to the smaller of this and the round's clip norm). */
    public static final double CLIP_BOUND = 10.0;
    /** Seed of the trainer's shuffling (deterministic training). */
    public static final long TRAINER_SEED = 2024;

    /** Where progress goes. */
    public interface Status {
        void update(String line);
    }

    private RoundRunner() {}

    /** The trainer the app uses on {@code digits}. */
    public static JavaMlpTrainer trainer(LocalDataset digits) {
        return new JavaMlpTrainer(digits, 0, 10, 20, 0.1f, TRAINER_SEED);
    }

    /** The clip/weight policy (no noise; weights and headroom are the round's). */
    public static UpdatePolicy policy() {
        return UpdatePolicy.of(CLIP_BOUND);
    }

    /**
     * Runs one round if one is open.
     *
     * @return the receipt, or null if no round is open
     */
    public static SubmissionReceipt runOnce(
            String registryUrl,
            String modelId,
            String clientId,
            UpdateSigner signer,
            InputStream digitsAsset,
            Status status)
            throws SubmissionException, IOException {
        URI registry = URI.create(registryUrl);
        HttpRegistrySource source = new HttpRegistrySource(registry);
        status.update("checking " + registryUrl + " for an open round of " + modelId);
        RoundOpened round = source.currentRound(modelId);
        if (round == null) {
            status.update("no open round of " + modelId);
            return null;
        }
        LocalDataset digits;
        try (InputStream in = digitsAsset) {
            digits = Digits.read(in);
        }
        HttpUpdateTransport transport = new HttpUpdateTransport(registry, clientId, signer);
        HttpParticipant p = new HttpParticipant(clientId, trainer(digits), policy(), source, transport, signer);
        status.update("round " + round.getRound() + " open: training on " + digits.size() + " digits");
        SubmissionReceipt r = p.participate(round, status::update);
        status.update(
                "round " + round.getRound() + ": submitted update " + r.updateId() + " (" + r.bytesSent() + " bytes)");
        return r;
    }
}
