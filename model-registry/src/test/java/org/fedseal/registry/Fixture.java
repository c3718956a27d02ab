package org.fedseal.registry;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.fedseal.he.EncryptedVector;
import org.fedseal.he.HeContext;
import org.fedseal.he.HeKeyPair;
import org.fedseal.he.HeParameters;
import org.fedseal.he.VectorEncryptor;
import org.fedseal.protocol.CanonicalHash;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.MerkleHashes;
import org.fedseal.protocol.Signatures;
import org.fedseal.protocol.SigningKeyPair;
import org.fedseal.protocol.wire.AggregatePublished;
import org.fedseal.protocol.wire.AggregateStatus;
import org.fedseal.protocol.wire.ChunkSum;
import org.fedseal.protocol.wire.ModelVersionPublished;
import org.fedseal.protocol.wire.UpdateAccepted;
import org.fedseal.protocol.wire.UpdateChunk;
import org.fedseal.protocol.wire.UpdateCommit;
import org.fedseal.protocol.wire.UpdateEnvelope;
import org.fedseal.registry.cli.FedsealCli;

/** Shared test helpers: one HE context and key pair per JVM, a simulated round with real ciphertexts, the CLI. */
final class Fixture {
    static final int PARAMS = 10;
    static final HeContext HE = HeContext.create(HeParameters.CKKS_8192);
    static final HeKeyPair HE_KEYS = HE.generateKeys();
    static final SigningKeyPair AGGREGATOR = SigningKeyPair.generate();

    private Fixture() {}

    static RegistryServer server(Path dir) {
        return RegistryServer.builder()
                .dataDir(dir)
                .port(0)
                .adminToken("test-token")
                .build()
                .start();
    }

    /** Creates the registry's topics under {@code prefix} and returns them as registry config keys. */
    static java.util.Map<String, String> kafkaTopics(org.fedseal.kafkalocal.LocalKafkaBroker kafka, String prefix) {
        java.util.Map<String, String> topics = java.util.Map.of(
                RegistryConfig.TOPIC_ROUNDS,
                prefix + "rounds",
                RegistryConfig.TOPIC_UPDATES,
                prefix + "updates",
                RegistryConfig.TOPIC_AGGREGATES,
                prefix + "aggregates",
                RegistryConfig.TOPIC_ACCEPTED,
                prefix + "accepted",
                RegistryConfig.TOPIC_REJECTS,
                prefix + "rejects",
                RegistryConfig.TOPIC_ENROLLMENTS,
                prefix + "enrollments",
                RegistryConfig.TOPIC_MODEL_VERSIONS,
                prefix + "model-versions",
                RegistryConfig.TOPIC_KEY_CEREMONY,
                prefix + "key-ceremony",
                RegistryConfig.TOPIC_DECRYPTION_SHARES,
                prefix + "decryption-shares");
        java.util.Map<String, Integer> create = new java.util.HashMap<>();
        topics.values().forEach(t -> create.put(t, 1));
        kafka.createTopics(create);
        return topics;
    }

    static RegistryClient client(RegistryServer s) {
        return RegistryClient.create(s.uri(), s.adminToken());
    }

    /** Registers {@code model} with an HE key and enrols a key holder; returns the key holder's key. */
    static SigningKeyPair setUpModel(RegistryClient c, String model) {
        float[] w = new float[PARAMS];
        for (int i = 0; i < PARAMS; i++) {
            w[i] = i * 0.1f;
        }
        c.registerModel(model, "mlp 10", HeParameters.CKKS_8192.id(), w);
        c.putHePublicKey(model, HE_KEYS.publicKey().toBytes());
        SigningKeyPair holder = SigningKeyPair.generate();
        c.enrollClient(model + "-holder", holder.publicKey(), List.of(model));
        return holder;
    }

    /** Everything a simulated round produced. */
    record RoundRun(
            int round,
            List<UpdateEnvelope> envelopes,
            List<UpdateAccepted> accepted,
            AggregatePublished aggregate,
            List<Hash> updateHashes) {}

    /**
     * Simulates the clients and the aggregator of one round with real ciphertexts; {@code corrupt} makes the
     * aggregate count client 0 twice.
     */
    static RoundRun simulateRound(String model, int round, Hash base, int clients, boolean corrupt) {
        return simulateRound(
                model, round, base, clients, corrupt, HE.encryptor(HE_KEYS.publicKey()), HeParameters.CKKS_8192);
    }

    /** As above, encrypting with {@code enc} under {@code params} (e.g. a threshold model's collective key). */
    static RoundRun simulateRound(
            String model,
            int round,
            Hash base,
            int clients,
            boolean corrupt,
            VectorEncryptor enc,
            HeParameters params) {
        List<UpdateEnvelope> envs = new ArrayList<>();
        List<UpdateAccepted> acc = new ArrayList<>();
        List<EncryptedVector> vecs = new ArrayList<>();
        List<Hash> hashes = new ArrayList<>();
        List<String> participants = new ArrayList<>();
        for (int k = 0; k < clients; k++) {
            String clientId = model + "-c" + k;
            SigningKeyPair ck = SigningKeyPair.generate();
            float[] delta = new float[PARAMS];
            for (int i = 0; i < PARAMS; i++) {
                delta[i] = (k + 1) * 0.01f * i;
            }
            EncryptedVector v = enc.encrypt(delta);
            vecs.add(v);
            UpdateChunk chunk = UpdateChunk.newBuilder()
                    .setClientId(clientId)
                    .setModelId(model)
                    .setRound(round)
                    .setUpdateId("u" + k)
                    .setChunkIndex(0)
                    .setCiphertexts(List.of(ByteBuffer.wrap(v.toBytes())))
                    .build();
            UpdateCommit commit = UpdateCommit.newBuilder()
                    .setClientId(clientId)
                    .setModelId(model)
                    .setRound(round)
                    .setUpdateId("u" + k)
                    .setHeParamsId(params.id())
                    .setBaseModelHash(base.toByteBuffer())
                    .setChunkCount(1)
                    .setChunkHashes(List.of(CanonicalHash.of(chunk).toByteBuffer()))
                    .setWeight(100 + k)
                    .setCreatedAtEpochMillis(System.currentTimeMillis())
                    .setSignature(ByteBuffer.allocate(0))
                    .build();
            commit = Signatures.sign(commit, ck.privateKey());
            envs.add(UpdateEnvelope.newBuilder().setPayload(chunk).build());
            envs.add(UpdateEnvelope.newBuilder().setPayload(commit).build());
            Hash h = CanonicalHash.of(commit);
            hashes.add(h);
            participants.add(clientId);
            acc.add(UpdateAccepted.newBuilder()
                    .setModelId(model)
                    .setRound(round)
                    .setClientId(clientId)
                    .setUpdateId("u" + k)
                    .setUpdateHash(h.toByteBuffer())
                    .setWeight(100 + k)
                    .setAcceptedAtEpochMillis(System.currentTimeMillis())
                    .build());
        }
        EncryptedVector sum = vecs.get(0).copy();
        for (int k = 1; k < vecs.size(); k++) {
            sum.addInPlace(vecs.get(k));
        }
        if (corrupt) {
            sum.addInPlace(vecs.get(0));
        }
        List<Hash> sorted = MerkleHashes.sortedUpdateHashes(hashes);
        AggregatePublished agg = AggregatePublished.newBuilder()
                .setModelId(model)
                .setRound(round)
                .setStatus(AggregateStatus.COMPLETED)
                .setChunkSums(List.of(ChunkSum.newBuilder()
                        .setChunkIndex(0)
                        .setCiphertexts(List.of(ByteBuffer.wrap(sum.toBytes())))
                        .build()))
                .setParticipants(participants)
                .setTotalWeight(clients * 100L)
                .setAcceptedUpdateHashes(sorted.stream().map(Hash::toByteBuffer).toList())
                .setAcceptedUpdateRoot(MerkleHashes.acceptedUpdateRoot(hashes).toByteBuffer())
                .setAcceptedCount(clients)
                .setRejectedCount(0)
                .setHeParamsId(params.id())
                .setAggregatorId("test-aggregator")
                .setClosedAtEpochMillis(System.currentTimeMillis())
                .setSignature(ByteBuffer.allocate(0))
                .build();
        agg = Signatures.sign(agg, AGGREGATOR.privateKey());
        sum.close();
        vecs.forEach(EncryptedVector::close);
        return new RoundRun(round, envs, acc, agg, hashes);
    }

    /** Feeds a simulated round into the server as its Kafka consumer would. */
    static void ingest(RegistryServer s, RoundRun run) {
        run.envelopes().forEach(e -> s.service().onUpdateEnvelope(e));
        run.accepted().forEach(a -> s.service().onAccepted(a));
        s.service().onAggregate(run.aggregate());
    }

    /** Builds and signs the next version after {@code run}. */
    static ModelVersionPublished nextVersion(
            String model, Hash parent, RoundRun run, byte[] weights, SigningKeyPair holder) {
        ModelVersionPublished v = ModelVersionPublished.newBuilder()
                .setModelId(model)
                .setVersionHash(ByteBuffer.allocate(0))
                .setParentHash(parent.toByteBuffer())
                .setAggregateHash(CanonicalHash.of(run.aggregate()).toByteBuffer())
                .setAcceptedUpdateRoot(run.aggregate().getAcceptedUpdateRoot())
                .setRound(run.round())
                .setWeightsHash(Hash.sha256(weights).toByteBuffer())
                .setPublishedAtEpochMillis(System.currentTimeMillis())
                .setSignature(ByteBuffer.allocate(0))
                .build();
        v.setVersionHash(CanonicalHash.versionHash(v).toByteBuffer());
        return Signatures.sign(v, holder.privateKey());
    }

    /** A full round: open, simulate, ingest, publish a version with {@code accuracy}. Returns the run. */
    static RoundRun fullRound(
            RegistryServer s, RegistryClient c, String model, SigningKeyPair holder, double accuracy) {
        RoundInfo r = c.openRound(model, 2, Duration.ofMinutes(10), 1, 6);
        Hash base = Hash.fromHex(r.baseModelHash());
        RoundRun run = simulateRound(model, r.round(), base, 2, false);
        ingest(s, run);
        byte[] w = RegistryClient.floatsToBytes(new float[] {r.round(), 1, 2, 3, 4, 5, 6, 7, 8, 9});
        c.publishVersion(nextVersion(model, base, run, w, holder), model + "-holder", w, accuracy);
        return run;
    }

    /** Output and exit code of one CLI run. */
    record Cli(int code, String out) {}

    static Cli cli(RegistryServer s, String... args) {
        StringWriter sw = new StringWriter();
        PrintWriter pw = new PrintWriter(sw, true);
        picocli.CommandLine cl = FedsealCli.newCommandLine();
        cl.setOut(pw);
        cl.setErr(pw);
        List<String> all = new ArrayList<>(List.of("--registry", s.uri().toString(), "--token", s.adminToken()));
        all.addAll(List.of(args));
        int code = cl.execute(all.toArray(String[]::new));
        return new Cli(code, sw.toString());
    }
}
