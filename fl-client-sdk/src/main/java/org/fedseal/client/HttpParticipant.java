package org.fedseal.client;

import java.security.SecureRandom;
import java.util.List;
import java.util.Objects;
import java.util.Random;
import java.util.UUID;
import org.fedseal.protocol.Chunker;
import org.fedseal.protocol.FederatedEvaluation;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.RecordTooLargeException;
import org.fedseal.protocol.wire.ChunkLayout;
import org.fedseal.protocol.wire.RoundOpened;
import org.fedseal.protocol.wire.UpdateChunk;
import org.fedseal.protocol.wire.UpdateCommit;

/**
 * Takes part in one round over HTTP, with no Kafka and no native code (what an Android app uses):
 * fetches the HE public key and checks its SHA-256 against the round, fetches and verifies the
 * base model, trains with the {@link LocalTrainer}, clips and weights with the {@link UpdatePolicy},
 * encrypts with {@link JavaUpdateEncryptor}, splits into chunks per the round's layout, signs the
 * commit with the {@link UpdateSigner} and uploads through {@link HttpUpdateTransport}.
 *
 * <p>The checks are {@link FederatedClient}'s: deadline, sample (a client the round did not sample
 * gets {@code NOT_SAMPLED} before anything is fetched or trained), base model hash, HE parameter
 * id, public key hash, chunk layout; a failed check throws {@link SubmissionException} before
 * anything is sent. Training follows the round's {@link RoundConfig}. In an evaluation round
 * ({@code RoundOpened.task = EVALUATE}) it evaluates the base model instead
 * ({@link LocalTrainer#evaluate}) and sends the {@code FederatedEvaluation} sums, as
 * {@link FederatedClient#evaluateOnce} does.
 */
public final class HttpParticipant {
    /** Progress callback (e.g. for a status view). */
    @FunctionalInterface
    public interface Progress {
        /** Called with a short human-readable step description. */
        void step(String message);
    }

    private final String clientId;
    private final LocalTrainer trainer;
    private final UpdatePolicy policy;
    private final ModelSource source;
    private final HttpUpdateTransport transport;
    private final UpdateSigner signer;
    private final SecureRandom encryptionRandom;
    private final Random noiseRandom;
    private final int maxRecordBytes;

    /** A participant; {@code transport} must have been made for the same client id and signer. */
    public HttpParticipant(
            String clientId,
            LocalTrainer trainer,
            UpdatePolicy policy,
            ModelSource source,
            HttpUpdateTransport transport,
            UpdateSigner signer) {
        this.clientId = Objects.requireNonNull(clientId, "clientId");
        this.trainer = Objects.requireNonNull(trainer, "trainer");
        this.policy = Objects.requireNonNull(policy, "policy");
        this.source = Objects.requireNonNull(source, "source");
        this.transport = Objects.requireNonNull(transport, "transport");
        this.signer = Objects.requireNonNull(signer, "signer");
        this.encryptionRandom = new SecureRandom();
        this.noiseRandom = new SecureRandom();
        this.maxRecordBytes = Chunker.DEFAULT_MAX_RECORD_BYTES;
    }

    /** Runs the round; see the class documentation. */
    public SubmissionReceipt participate(RoundOpened round, Progress progress) throws SubmissionException {
        Objects.requireNonNull(round, "round");
        Progress p = progress == null ? m -> {} : progress;
        checkDeadline(round);
        RoundRules.checkSampled(round, clientId);
        Hash keyHash;
        Hash baseHash;
        try {
            keyHash = Hash.of(round.getPublicKeyHash());
            baseHash = Hash.of(round.getBaseModelHash());
        } catch (IllegalArgumentException e) {
            throw new SubmissionException(SubmissionException.Reason.INVALID_UPDATE, "malformed round hashes", e);
        }
        p.step("fetching HE public key " + keyHash.toHex().substring(0, 12));
        byte[] pk = source.verifiedPublicKey(round.getHeParamsId(), keyHash);
        JavaUpdateEncryptor encryptor;
        try {
            encryptor = JavaUpdateEncryptor.load(pk, encryptionRandom);
        } catch (IllegalArgumentException e) {
            throw new SubmissionException(SubmissionException.Reason.WRONG_PUBLIC_KEY, e.getMessage(), e);
        }
        if (!encryptor.heParamsId().equals(round.getHeParamsId())) {
            throw new SubmissionException(
                    SubmissionException.Reason.WRONG_HE_PARAMS,
                    "the round uses " + round.getHeParamsId() + ", the pure-Java encryptor supports "
                            + encryptor.heParamsId());
        }
        p.step("fetching base model " + baseHash.toHex().substring(0, 12));
        BaseModel base = source.baseModel(round.getModelId(), baseHash);
        base.verify(baseHash);
        if (base.parameters().length != trainer.parameterCount()) {
            throw new SubmissionException(
                    SubmissionException.Reason.WRONG_BASE_MODEL,
                    "base model has " + base.parameters().length + " parameters, the trainer's model "
                            + trainer.parameterCount());
        }
        if (FederatedEvaluation.isEvaluation(round)) {
            p.step("evaluating the base model on " + trainer.sampleCount() + " samples");
            LocalUpdate evaluation = RoundRules.evaluationUpdate(round, trainer.evaluate(base.parameters()));
            p.step("evaluated: " + evaluation.metrics());
            return submit(round, evaluation.withBaseModelHash(base.versionHash()), encryptor, p);
        }
        RoundConfig config = RoundRules.roundConfig(round);
        p.step("training " + config.localEpochs() + " epoch(s) on " + trainer.sampleCount() + " samples"
                + (config.proximalMu() > 0 ? " (FedProx mu " + config.proximalMu() + ")" : ""));
        LocalUpdate update = trainer.fit(base.parameters(), config);
        p.step("trained: " + update.metrics());
        return submit(round, update.withBaseModelHash(base.versionHash()), encryptor, p);
    }

    /** Encrypts, signs and uploads an update already trained from the round's base model. */
    public SubmissionReceipt submit(RoundOpened round, LocalUpdate update, UpdateEncryptor encryptor, Progress p)
            throws SubmissionException {
        checkDeadline(round);
        RoundRules.checkSampled(round, clientId);
        ChunkLayout layout = round.getChunkLayout();
        if (update.baseModelHash() == null || !update.baseModelHash().matches(round.getBaseModelHash())) {
            throw new SubmissionException(
                    SubmissionException.Reason.WRONG_BASE_MODEL,
                    "the update was not trained from the round's base model");
        }
        if (layout.getTotalValues() != update.delta().length
                || layout.getValuesPerCiphertext() != encryptor.valuesPerCiphertext()
                || !Chunker.isConsistent(layout)) {
            throw new SubmissionException(
                    SubmissionException.Reason.BAD_CHUNK_LAYOUT,
                    "round layout " + layout
                            + " does not fit an update of " + update.delta().length + " values at "
                            + encryptor.valuesPerCiphertext() + " per ciphertext");
        }
        float[] weighted;
        boolean evaluation = FederatedEvaluation.isEvaluation(round);
        if (evaluation) {
            RoundRules.checkEvaluationFits(
                    round, update.delta(), update.metrics().getOrDefault(LocalUpdate.METRIC_LOSS, Double.NaN));
        }
        synchronized (noiseRandom) {
            // evaluation sums: no local noise, not this client's own clip bound (FederatedClient.submit does the same)
            weighted = (evaluation ? UpdatePolicy.roundDefaults() : policy)
                    .prepare(update.delta(), update.weight(), round, noiseRandom);
        }
        p.step("encrypting " + weighted.length + " values");
        List<byte[]> ciphertexts;
        try {
            ciphertexts = RoundRules.encrypt(encryptor, weighted, round, encryptionRandom);
        } finally {
            java.util.Arrays.fill(weighted, 0f);
        }
        String updateId = UUID.randomUUID().toString();
        List<UpdateChunk> chunks;
        try {
            chunks = Chunker.split(
                    clientId, round.getModelId(), round.getRound(), updateId, ciphertexts, layout, maxRecordBytes);
        } catch (RecordTooLargeException e) {
            throw new SubmissionException(SubmissionException.Reason.BAD_CHUNK_LAYOUT, e.getMessage(), e);
        }
        UpdateCommit commit = signer.signCommit(Chunker.commitFor(
                chunks,
                round.getHeParamsId(),
                Hash.of(round.getBaseModelHash()),
                UpdatePolicy.weightFor(update.weight(), round),
                System.currentTimeMillis()));
        checkDeadline(round);
        p.step("uploading " + chunks.size() + " chunk(s)");
        long bytes = transport.send(chunks, commit);
        p.step("submitted update " + updateId + " (" + bytes + " bytes)");
        return new SubmissionReceipt(commit, chunks.size(), bytes);
    }

    private static void checkDeadline(RoundOpened round) throws SubmissionException {
        if (System.currentTimeMillis() > round.getDeadlineEpochMillis()) {
            throw new SubmissionException(
                    SubmissionException.Reason.ROUND_CLOSED,
                    "round " + round.getModelId() + "/" + round.getRound() + " closed at "
                            + round.getDeadlineEpochMillis());
        }
    }
}
