package org.fedseal.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import org.fedseal.he.HeParameters;
import org.fedseal.protocol.ClientSampling;
import org.fedseal.protocol.SigningKeyPair;
import org.fedseal.protocol.wire.LogEntry;
import org.fedseal.protocol.wire.LogEntryKind;
import org.fedseal.protocol.wire.RoundOpened;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Round configuration and client sampling in the registry: the round record carries the options,
 * the sample is ClientSampling's over the clients enrolled for the model (not its key holder, not
 * clients of other models), a sample below the quorum is refused, and the auditor re-derives the
 * sample from the log — and names the round when a logged sample differs.
 */
class ClientSamplingRegistryTest {
    @TempDir
    Path dir;

    static final List<String> CLIENTS =
            IntStream.range(0, 20).mapToObj(i -> String.format("smp-c%02d", i)).toList();

    @Test
    void registrySamplesEnrolledClientsAndTheAuditorAgrees() {
        try (RegistryServer s = Fixture.server(dir)) {
            RegistryClient c = Fixture.client(s);
            c.registerModel(
                    "smp",
                    "mlp 10",
                    HeParameters.CKKS_8192.id(),
                    RegistryClient.floatsToBytes(new float[Fixture.PARAMS]),
                    "smp-keyholder");
            c.putHePublicKey("smp", Fixture.HE_KEYS.publicKey().toBytes());
            c.registerModel("other", "mlp 10", HeParameters.CKKS_8192.id(), new float[Fixture.PARAMS]);
            c.enrollClient("smp-keyholder", SigningKeyPair.generate().publicKey(), List.of("smp"));
            c.enrollClient("other-c", SigningKeyPair.generate().publicKey(), List.of("other"));
            for (String id : CLIENTS) {
                c.enrollClient(id, SigningKeyPair.generate().publicKey(), List.of("smp"));
            }
            RegistryException tooFew = assertThrows(
                    RegistryException.class,
                    () -> c.openRound(
                            "smp",
                            6,
                            Duration.ofMinutes(5),
                            1,
                            6,
                            0,
                            0,
                            0,
                            RoundOptions.DEFAULT.withSampling(0.25, 0)));
            assertEquals(400, tooFew.status(), tooFew.getMessage());
            assertTrue(tooFew.getMessage().contains("quorum"), tooFew.getMessage());

            RoundInfo info = c.openRound(
                    "smp",
                    5,
                    Duration.ofMinutes(5),
                    2,
                    6,
                    0,
                    0,
                    0,
                    RoundOptions.DEFAULT
                            .withSampling(0.25, 0)
                            .withLearningRate(0.05)
                            .withBatchSize(16)
                            .withProximalMu(0.01));
            RoundOpened r = c.roundRecord("smp", info.round());
            assertEquals(5, r.getSampledClients().size(), r.getSampledClients().toString());
            assertEquals(info.sampledClients(), r.getSampledClients());
            assertEquals(
                    ClientSampling.sample(r, CLIENTS),
                    r.getSampledClients(),
                    "exactly ClientSampling over the 20 clients");
            assertTrue(CLIENTS.containsAll(r.getSampledClients()), "neither the key holder nor another model's client");
            assertEquals(0.05, r.getLearningRate());
            assertEquals(16, r.getBatchSize());
            assertEquals(0.01, r.getProximalMu());
            assertEquals(0.25, r.getSamplingFraction());
            assertEquals(2, r.getLocalEpochs());
            assertEquals(0.05, info.learningRate());
            assertEquals(0.25, info.samplingFraction());

            Auditor.Result audit = new Auditor(c).verify(null, null);
            assertTrue(audit.ok(), audit.message() + " " + audit.notes());
            assertTrue(
                    audit.notes().stream().anyMatch(n -> n.contains("client samples of 1 rounds")),
                    audit.notes().toString());

            assertThrows(IllegalArgumentException.class, () -> RoundOptions.DEFAULT.withSampling(1.5, 0));
            c.registerModel("lonely", "mlp 10", HeParameters.CKKS_8192.id(), new float[Fixture.PARAMS]);
            c.putHePublicKey("lonely", Fixture.HE_KEYS.publicKey().toBytes());
            RegistryException none = assertThrows(
                    RegistryException.class,
                    () -> c.openRound(
                            "lonely",
                            1,
                            Duration.ofMinutes(5),
                            1,
                            6,
                            0,
                            0,
                            0,
                            RoundOptions.DEFAULT.withSampling(0.5, 0)));
            assertEquals(409, none.status(), none.getMessage());
            assertTrue(none.getMessage().contains("no client"), none.getMessage());
        }
    }

    @Test
    void roundWithoutSamplingNamesNoSample() {
        try (RegistryServer s = Fixture.server(dir)) {
            RegistryClient c = Fixture.client(s);
            Fixture.setUpModel(c, "plain");
            RoundInfo info = c.openRound("plain", 1, Duration.ofMinutes(5), 1, 6);
            assertEquals(List.of(), info.sampledClients());
            assertEquals(1.0, info.samplingFraction());
            assertEquals(0.0, c.roundRecord("plain", info.round()).getLearningRate());
        }
    }

    @Test
    void cliOpensAConfiguredSampledRound() {
        try (RegistryServer s = Fixture.server(dir)) {
            RegistryClient c = Fixture.client(s);
            c.registerModel(
                    "clis",
                    "mlp 10",
                    HeParameters.CKKS_8192.id(),
                    RegistryClient.floatsToBytes(new float[Fixture.PARAMS]),
                    "clis-keyholder");
            c.putHePublicKey("clis", Fixture.HE_KEYS.publicKey().toBytes());
            for (int i = 0; i < 8; i++) {
                c.enrollClient("clis-" + i, SigningKeyPair.generate().publicKey(), List.of("clis"));
            }
            Fixture.Cli bad = Fixture.cli(s, "round", "open", "--model", "clis", "--quorum", "2", "--fraction", "0");
            assertEquals(2, bad.code(), bad.out());
            assertTrue(bad.out().contains("samplingFraction"), bad.out());
            Fixture.Cli open = Fixture.cli(
                    s,
                    "round",
                    "open",
                    "--model",
                    "clis",
                    "--quorum",
                    "2",
                    "--fraction",
                    "0.5",
                    "--min-clients",
                    "5",
                    "--learning-rate",
                    "0.05",
                    "--batch-size",
                    "16",
                    "--proximal-mu",
                    "0.01");
            assertEquals(0, open.code(), open.out());
            assertTrue(open.out().contains("sampled 5 clients (fraction 0.5, minimum 5)"), open.out());
            assertTrue(
                    open.out().contains("client config: learning rate 0.05, batch size 16, proximal mu 0.01"),
                    open.out());
            RoundOpened r = c.roundRecord("clis", 1);
            assertEquals(
                    ClientSampling.sample(
                            r, IntStream.range(0, 8).mapToObj(i -> "clis-" + i).toList()),
                    r.getSampledClients());
            Fixture.Cli status = Fixture.cli(s, "round", "status", "--model", "clis");
            assertTrue(
                    status.out().contains("sampled (fraction 0.5): " + String.join(", ", r.getSampledClients())),
                    status.out());
            Fixture.Cli help = Fixture.cli(s, "round", "open", "--help");
            for (String option :
                    List.of("--learning-rate", "--batch-size", "--proximal-mu", "--fraction", "--min-clients")) {
                assertTrue(help.out().contains(option), option + " missing from\n" + help.out());
            }
        }
    }

    static LogEntry enrolled(String client, String models) {
        return LogEntry.newBuilder()
                .setKind(LogEntryKind.CLIENT_ENROLLED)
                .setModelId(models)
                .setRound(0)
                .setSubjectHash(java.nio.ByteBuffer.allocate(32))
                .setClientId(client)
                .setAtEpochMillis(1)
                .build();
    }

    static RoundOpened round(int number, List<String> sample) {
        return RoundOpened.newBuilder()
                .setModelId("m")
                .setRound(number)
                .setBaseModelHash(java.nio.ByteBuffer.allocate(32))
                .setHeParamsId("ckks-8192-v1")
                .setPublicKeyHash(java.nio.ByteBuffer.allocate(32))
                .setQuorum(1)
                .setDeadlineEpochMillis(10)
                .setChunkLayout(org.fedseal.protocol.Chunker.layout(10, 4096, 1))
                .setOpenedAtEpochMillis(number)
                .setSamplingFraction(0.25)
                .setSampledClients(new ArrayList<>(sample))
                .build();
    }

    @Test
    void auditorNamesTheRoundWhoseSampleDiffers() {
        SamplingAudit audit = new SamplingAudit(m -> "m-keyholder", m -> Set.of("m-holder"));
        audit.onEnrolled(enrolled("m-keyholder", "m"));
        audit.onEnrolled(enrolled("m-holder", "m"));
        audit.onEnrolled(enrolled("x-client", "x"));
        audit.onEnrolled(enrolled("any-client", "")); // enrolled for every model
        List<String> eligible = new ArrayList<>(CLIENTS);
        for (String id : CLIENTS) {
            audit.onEnrolled(enrolled(id, "x,m"));
        }
        eligible.add("any-client");
        RoundOpened r1 = round(1, List.of());
        List<String> right = ClientSampling.sample(r1, eligible);
        assertEquals(6, right.size(), "ceil(0.25 x 21)");
        assertNull(audit.onRound(round(1, right)));
        List<String> wrong = new ArrayList<>(right);
        wrong.set(
                0,
                CLIENTS.stream().filter(id -> !right.contains(id)).findFirst().orElseThrow());
        wrong.sort(null);
        String problem = audit.onRound(round(1, wrong));
        assertTrue(problem != null && problem.contains("round m/1") && problem.contains(right.toString()), problem);
        // a client enrolled later is eligible in later rounds: a sample that leaves it out of the draw fails
        audit.onEnrolled(enrolled("late", "m"));
        List<String> withLate = new ArrayList<>(eligible);
        withLate.add("late");
        int n = 4;
        while (ClientSampling.sample(round(n, List.of()), withLate)
                .equals(ClientSampling.sample(round(n, List.of()), eligible))) {
            n++;
        }
        assertNull(audit.onRound(round(n, ClientSampling.sample(round(n, List.of()), withLate))));
        String stale = audit.onRound(round(n, ClientSampling.sample(round(n, List.of()), eligible)));
        assertTrue(stale != null && stale.contains("round m/" + n), stale);
    }
}
