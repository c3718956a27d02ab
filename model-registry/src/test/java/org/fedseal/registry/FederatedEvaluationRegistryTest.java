package org.fedseal.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.fedseal.protocol.CanonicalHash;
import org.fedseal.protocol.FederatedEvaluation;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.SigningKeyPair;
import org.fedseal.protocol.wire.RoundOpened;
import org.fedseal.protocol.wire.RoundTask;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Evaluation rounds in the registry: opened with the evaluation layout and bounds, never turned into versions, metrics stored and shown. */
class FederatedEvaluationRegistryTest {
    @TempDir
    Path dir;

    @Test
    void evaluationRoundRecordsMetricsAndIsNeverAVersion() throws Exception {
        try (RegistryServer s = Fixture.server(dir.resolve("data"))) {
            RegistryClient c = Fixture.client(s);
            SigningKeyPair holder = Fixture.setUpModel(c, "evm");
            Fixture.fullRound(s, c, "evm", holder, 0.72);
            Hash v1 = Hash.fromHex(c.model("evm").latestVersionHash());

            RoundInfo r = c.openEvaluationRound("evm", null, 2, Duration.ofMinutes(5), 0, 0, 0);
            assertEquals(2, r.round());
            assertEquals(v1.toHex(), r.baseModelHash());
            RoundOpened rec = c.roundRecord("evm", 2);
            assertEquals(RoundTask.EVALUATE, rec.getTask());
            assertEquals(FederatedEvaluation.LENGTH, rec.getChunkLayout().getTotalValues());
            assertEquals(
                    FederatedEvaluation.clipNormFor(FederatedEvaluation.DEFAULT_LOSS_BOUND), rec.getClipNorm(), 0.0);
            assertEquals(rec.getMaxTotalWeight(), rec.getMaxUpdateWeight(), "one client may bring every example");
            assertTrue(rec.getClipNorm() * rec.getMaxTotalWeight() <= rec.getSumNormBound());

            Fixture.RoundRun run = Fixture.simulateRound("evm", 2, v1, 2, false);
            Fixture.ingest(s, run);
            Hash agg = CanonicalHash.of(run.aggregate());

            // the aggregate of an evaluation round is not an update: no version comes out of it
            byte[] w = RegistryClient.floatsToBytes(new float[] {9, 1, 2, 3, 4, 5, 6, 7, 8, 9});
            RegistryException refused = assertThrows(
                    RegistryException.class,
                    () -> c.publishVersion(Fixture.nextVersion("evm", v1, run, w, holder), "evm-holder", w, null));
            assertEquals(409, refused.status());
            assertTrue(refused.getMessage().contains("evaluation_round"), refused.getMessage());

            // metrics must name the stored aggregate and its total weight (200 examples)
            assertEquals(
                    409,
                    assertThrows(
                                    RegistryException.class,
                                    () -> c.recordEvaluation("evm", 2, agg, 199, 0.5, 0.7, "evm-holder"))
                            .status());
            assertEquals(
                    409,
                    assertThrows(
                                    RegistryException.class,
                                    () -> c.recordEvaluation(
                                            "evm", 2, Hash.sha256(new byte[1]), 200, 0.5, 0.7, "evm-holder"))
                            .status());
            assertEquals(
                    409,
                    assertThrows(
                                    RegistryException.class,
                                    () -> c.recordEvaluation("evm", 1, agg, 200, 0.5, 0.7, "evm-holder"))
                            .status(),
                    "round 1 is a training round");
            assertEquals(
                    400,
                    assertThrows(
                                    RegistryException.class,
                                    () -> c.recordEvaluation("evm", 2, agg, 200, 1.5, 0.7, "evm-holder"))
                            .status());

            FederatedEvaluationInfo e = c.recordEvaluation("evm", 2, agg, 200, 0.655, 0.93, "evm-holder");
            assertEquals(List.of("evm-c0", "evm-c1"), e.participants());
            assertEquals(v1.toHex(), e.versionHash());
            assertEquals(agg.toHex(), e.aggregateHash());
            assertEquals(
                    e,
                    c.recordEvaluation("evm", 2, agg, 200, 0.655, 0.93, "evm-holder"),
                    "the same metrics again are idempotent");
            assertEquals(
                    409,
                    assertThrows(
                                    RegistryException.class,
                                    () -> c.recordEvaluation("evm", 2, agg, 200, 0.6, 0.93, "evm-holder"))
                            .status());

            VersionInfo v = c.version(v1);
            assertEquals(0.72, v.accuracy());
            assertEquals(0.655, v.federated().accuracy());
            assertEquals(0.93, v.federated().loss());
            assertEquals(List.of(e), c.evaluations(v1));
            List<VersionInfo> all = c.versions("evm");
            assertNull(all.get(0).federated());
            assertEquals(e, all.get(1).federated());
            assertEquals(List.of(e), c.modelEvaluations("evm"));

            // the next training round still starts from the latest version
            assertEquals(
                    v1.toHex(),
                    c.openRound("evm", 1, Duration.ofMinutes(5), 1, 6).baseModelHash());

            Fixture.Cli versions = Fixture.cli(s, "model", "versions", "evm");
            assertEquals(0, versions.code(), versions.out());
            assertTrue(
                    versions.out().contains("72.00%")
                            && versions.out().contains("65.50%")
                            && versions.out().contains("0.9300"),
                    versions.out());
        }
    }

    @Test
    void cliOpensAnEvaluationRoundOfANamedVersion() throws Exception {
        try (RegistryServer s = Fixture.server(dir.resolve("data2"))) {
            RegistryClient c = Fixture.client(s);
            SigningKeyPair holder = Fixture.setUpModel(c, "evc");
            Hash v0 = Hash.fromHex(c.model("evc").latestVersionHash());
            Fixture.fullRound(s, c, "evc", holder, 0.5);
            Fixture.Cli help = Fixture.cli(s, "round", "evaluate", "--help");
            assertTrue(help.out().contains("--loss-bound") && help.out().contains("federated evaluation"), help.out());
            Fixture.Cli bad = Fixture.cli(
                    s,
                    "round",
                    "evaluate",
                    "evc",
                    "--quorum",
                    "1",
                    "--version",
                    Hash.sha256(new byte[2]).toHex());
            assertTrue(bad.code() != 0 && bad.out().contains("not a version of evc"), bad.out());
            Fixture.Cli ok = Fixture.cli(
                    s, "round", "evaluate", "evc", "--quorum", "1", "--version", v0.toHex(), "--loss-bound", "4");
            assertEquals(0, ok.code(), ok.out());
            assertTrue(
                    ok.out().contains("opened evaluation round 2 of evc")
                            && ok.out().contains(v0.toHex()),
                    ok.out());
            RoundOpened rec = c.roundRecord("evc", 2);
            assertEquals(Math.sqrt(19), rec.getClipNorm(), 1e-12);
            assertEquals(4, FederatedEvaluation.lossBound(rec), 1e-12);
        }
    }
}
