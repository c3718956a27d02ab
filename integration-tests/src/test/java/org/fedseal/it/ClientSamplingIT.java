package org.fedseal.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.fedseal.client.BaseModel;
import org.fedseal.client.ClientConfig;
import org.fedseal.client.FederatedClient;
import org.fedseal.client.LocalUpdate;
import org.fedseal.client.SubmissionException;
import org.fedseal.coordinator.RegistryModelSource;
import org.fedseal.protocol.ClientSampling;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.SigningKeyPair;
import org.fedseal.protocol.Topics;
import org.fedseal.protocol.wire.AggregatePublished;
import org.fedseal.protocol.wire.AggregateStatus;
import org.fedseal.protocol.wire.ReasonCode;
import org.fedseal.protocol.wire.RoundOpened;
import org.fedseal.protocol.wire.UpdateRejected;
import org.fedseal.registry.Auditor;
import org.fedseal.registry.RegistryClient;
import org.fedseal.registry.RoundInfo;
import org.fedseal.registry.RoundOptions;
import org.junit.jupiter.api.Test;

/**
 * Client sampling end to end (real broker, Flink job, SEAL): 20 clients enrolled, a round opened
 * for a fraction 0.25. The registry's 5 sampled clients are exactly {@code ClientSampling}'s over
 * the 20 (not the key holder); an unsampled client's own SDK refuses to train, and when it sends
 * anyway the aggregator rejects it NOT_SAMPLED; the round completes with the 5 sampled updates;
 * {@code audit verify}, which re-derives the sample from the log, passes.
 */
class ClientSamplingIT {
    @Test
    void aQuarterOfTwentyIsSampledOthersAreRejectedAndTheAuditorAgrees() throws Exception {
        float[] initial = new float[1000];
        try (Scenario s = new Scenario(SharedDeployment.get(), "it-sampling", initial)) {
            List<String> ids = IntStream.range(0, 20)
                    .mapToObj(i -> String.format("smp-%02d", i))
                    .toList();
            Map<String, SigningKeyPair> keys = new HashMap<>();
            for (String id : ids) {
                SigningKeyPair k = SigningKeyPair.generate();
                keys.put(id, k);
                s.admin.enrollClient(id, k.publicKey(), List.of(s.modelId));
            }
            RoundInfo info = s.admin.openRound(
                    s.modelId,
                    5,
                    Duration.ofMinutes(3),
                    1,
                    6,
                    10,
                    2000,
                    2000,
                    RoundOptions.DEFAULT
                            .withSampling(0.25, 0)
                            .withLearningRate(0.05)
                            .withProximalMu(0.01));
            RoundOpened round = s.await(
                            Topics.ROUNDS,
                            RoundOpened.class,
                            o -> o.getModelId().equals(s.modelId) && o.getRound() == info.round(),
                            Duration.ofSeconds(30))
                    .get(0);
            List<String> sampled = round.getSampledClients();
            assertEquals(5, sampled.size(), sampled.toString());
            assertEquals(
                    ClientSampling.sample(round, ids),
                    sampled,
                    "the registry's sample is ClientSampling's over the 20 enrolled clients");
            assertEquals(info.sampledClients(), sampled);
            assertFalse(sampled.contains(s.keyHolderId()));
            assertEquals(0.05, round.getLearningRate());
            assertEquals(0.01, round.getProximalMu());

            String outsider =
                    ids.stream().filter(id -> !sampled.contains(id)).findFirst().orElseThrow();
            List<FederatedClient> clients = new ArrayList<>();
            for (String id : sampled) {
                clients.add(client(s, id, keys.get(id)));
            }
            FederatedClient unsampled = client(s, outsider, keys.get(outsider));
            SubmissionException refused = assertThrows(SubmissionException.class, () -> unsampled.participate(round));
            assertEquals(SubmissionException.Reason.NOT_SAMPLED, refused.reason());
            // a client that ignores the sample: trains against a copy of the round without one, sends under the real
            // round's key
            RoundOpened pretend =
                    RoundOpened.newBuilder(round).setSampledClients(List.of()).build();
            BaseModel base = new RegistryModelSource(
                            RegistryClient.create(s.deployment.registry().uri()))
                    .baseModel(s.modelId, Hash.of(round.getBaseModelHash()));
            LocalUpdate u = unsampled.trainOnce(pretend, base);
            unsampled.submit(pretend, u); // sent while the round is open (before the quorum closes it)
            List<UpdateRejected> rejects = s.rejects(round.getRound(), 2, Duration.ofSeconds(60));
            assertTrue(
                    rejects.stream()
                            .anyMatch(r -> r.getReason() == ReasonCode.NOT_SAMPLED && outsider.equals(r.getClientId())),
                    rejects.toString());

            for (FederatedClient c : clients) {
                c.participate(round);
            }
            AggregatePublished agg = s.aggregate(round.getRound(), Duration.ofMinutes(2));
            assertEquals(AggregateStatus.COMPLETED, agg.getStatus());
            assertEquals(sampled, agg.getParticipants().stream().sorted().toList());
            assertEquals(5, agg.getAcceptedCount());
            s.publishVersion(agg);

            Auditor.Result audit = new Auditor(s.admin).verify(null, null);
            assertTrue(audit.ok(), audit.message() + " " + audit.notes());
            assertTrue(
                    audit.notes().stream().anyMatch(n -> n.startsWith("client samples of")),
                    audit.notes().toString());
            System.out.printf(
                    "sampled %s of 20; %s rejected NOT_SAMPLED; audit: %s%n", sampled, outsider, audit.notes());
        }
    }

    /** A real client (Kafka producer) for an identity enrolled already. */
    private static FederatedClient client(Scenario s, String id, SigningKeyPair identity) {
        FederatedClient c = FederatedClient.builder(Map.of(
                        ClientConfig.BOOTSTRAP_SERVERS,
                        s.deployment.bootstrapServers(),
                        ClientConfig.CLIENT_ID,
                        id,
                        ClientConfig.MODEL_IDS,
                        s.modelId))
                .trainer(new FixedDeltaTrainer(delta(id), 10))
                .modelSource(new RegistryModelSource(
                        RegistryClient.create(s.deployment.registry().uri())))
                .signingKey(identity.privateKey())
                .build();
        s.clients.add(c);
        return c;
    }

    private static float[] delta(String id) {
        float[] d = new float[1000];
        for (int i = 0; i < d.length; i++) {
            d[i] = 0.001f * ((i + id.hashCode()) % 5 - 2);
        }
        return d;
    }
}
