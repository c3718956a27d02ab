package org.fedseal.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.fedseal.he.HeParameters;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.PrivacyAccountant;
import org.fedseal.protocol.SigningKeyPair;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A model registered with a privacy budget: every version records the ε spent (the accountant
 * over the model's noised rounds, at the model's δ), a round without noise is refused, and the
 * round that would pass the budget is refused with the model, the ε it would reach and the budget.
 */
class PrivacyBudgetTest {
    private static final double DELTA = 1e-5;
    private static final double Z = 2.0;

    @TempDir
    Path dir;

    @Test
    void versionsRecordEpsilonAndTheRoundPastTheBudgetIsRefused() throws Exception {
        double eps2 = spent(2);
        double eps3 = spent(3);
        double budget = (eps2 + eps3) / 2; // two rounds fit, the third does not
        try (RegistryServer s = Fixture.server(dir)) {
            RegistryClient c = Fixture.client(s);
            ModelInfo m = c.registerModel(
                    "dp",
                    "mlp 10",
                    HeParameters.CKKS_8192.id(),
                    RegistryClient.floatsToBytes(new float[Fixture.PARAMS]),
                    null,
                    null,
                    budget,
                    DELTA);
            assertEquals(budget, m.epsilonBudget());
            assertEquals(DELTA, m.delta());
            assertEquals(0.0, m.epsilonSpent(), "version 0 has spent nothing");
            c.putHePublicKey("dp", Fixture.HE_KEYS.publicKey().toBytes());
            SigningKeyPair holder = SigningKeyPair.generate();
            c.enrollClient("dp-holder", holder.publicKey(), List.of("dp"));

            RegistryException noNoise =
                    assertThrows(RegistryException.class, () -> c.openRound("dp", 2, Duration.ofMinutes(10), 1, 6));
            assertEquals(400, noNoise.status(), noNoise.getMessage());
            assertEquals("noise_required", noNoise.code());
            assertTrue(noNoise.getMessage().contains("model dp"), noNoise.getMessage());
            RegistryException evaluation = assertThrows(
                    RegistryException.class,
                    () -> c.openEvaluationRound("dp", null, 2, Duration.ofMinutes(10), 0, 0, 0));
            assertEquals(
                    "noise_required",
                    evaluation.code(),
                    "an evaluation round releases unnoised sums: " + evaluation.getMessage());

            for (int k = 1; k <= 2; k++) {
                VersionInfo v = noisedRound(s, c, holder, Z);
                assertEquals(spent(k), v.epsilon(), 1e-9, "epsilon after round " + k);
                assertEquals(v.epsilon(), c.model("dp").epsilonSpent());
            }
            assertEquals(
                    List.of(0.0, spent(1), spent(2)),
                    c.versions("dp").stream().map(VersionInfo::epsilon).toList());

            RegistryException over = assertThrows(
                    RegistryException.class,
                    () -> c.openRound(
                            "dp",
                            2,
                            Duration.ofMinutes(10),
                            1,
                            6,
                            0,
                            0,
                            0,
                            RoundOptions.DEFAULT.withNoiseMultiplier(Z)));
            assertEquals(409, over.status(), over.getMessage());
            assertEquals("privacy_budget_exceeded", over.code());
            String msg = over.getMessage();
            assertTrue(
                    msg.contains("model dp")
                            && msg.contains(String.format(java.util.Locale.ROOT, "%.4f", eps3))
                            && msg.contains(String.valueOf(budget)),
                    msg);
            assertEquals(2, c.model("dp").roundCount(), "refused rounds are not recorded");

            // more noise fits: a round of z = 20 costs far less than what is left
            VersionInfo v3 = noisedRound(s, c, holder, 20.0);
            double expected = PrivacyAccountant.create()
                    .compose(1, Z, 2)
                    .compose(1, 20.0, 1)
                    .epsilon(DELTA)
                    .epsilon();
            assertEquals(expected, v3.epsilon(), 1e-9);
            assertTrue(v3.epsilon() <= budget);

            Auditor.Result audit = new Auditor(c).verify(null, null);
            assertTrue(audit.ok(), audit.message() + " " + audit.notes());
            assertTrue(
                    audit.notes().stream().anyMatch(n -> n.contains("epsilon of 4 versions re-derived")),
                    audit.notes().toString());

            // a registry that understates what a version spent fails the audit, naming the version
            String v2 = c.versions("dp").get(2).versionHash();
            try (java.sql.Connection db =
                            java.sql.DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("registry.db"));
                    java.sql.PreparedStatement ps =
                            db.prepareStatement("UPDATE versions SET dp_epsilon = ? WHERE version_hash = ?")) {
                ps.setDouble(1, spent(1));
                ps.setString(2, v2);
                assertEquals(1, ps.executeUpdate());
            }
            Auditor.Result tampered = new Auditor(c).verify(null, null);
            assertTrue(
                    !tampered.ok()
                            && tampered.message().contains(v2)
                            && tampered.message().contains("spend at least"),
                    tampered.message());
        }
    }

    @Test
    void budgetsAreCheckedBeforeAnythingIsStoredAndModelsWithoutOneAreNotAccounted() {
        try (RegistryServer s = Fixture.server(dir)) {
            RegistryClient c = Fixture.client(s);
            byte[] w = RegistryClient.floatsToBytes(new float[Fixture.PARAMS]);
            for (double[] bad : new double[][] {{0, 1e-5}, {Double.POSITIVE_INFINITY, 1e-5}, {1, 0}, {1, 1}}) {
                RegistryException e = assertThrows(
                        RegistryException.class,
                        () -> c.registerModel(
                                "bad", "mlp 10", HeParameters.CKKS_8192.id(), w, null, null, bad[0], bad[1]));
                assertEquals(400, e.status(), e.getMessage());
            }
            assertTrue(c.listModels().isEmpty(), "nothing registered");
            SigningKeyPair holder = Fixture.setUpModel(c, "plain");
            assertNull(c.model("plain").epsilonBudget());
            Fixture.fullRound(s, c, "plain", holder, 0.5);
            assertNull(c.versions("plain").get(1).epsilon(), "no budget, no accounting");
        }
    }

    @Test
    void theCliRegistersABudgetOpensNoisedRoundsAndShowsEpsilon() throws Exception {
        try (RegistryServer s = Fixture.server(dir)) {
            java.nio.file.Path pk = dir.resolve("pk.bin");
            java.nio.file.Files.write(pk, Fixture.HE_KEYS.publicKey().toBytes());
            Fixture.Cli reg = Fixture.cli(
                    s,
                    "model",
                    "register",
                    "--id",
                    "clidp",
                    "--architecture",
                    "linear 10",
                    "--zeros",
                    String.valueOf(Fixture.PARAMS),
                    "--he-public-key",
                    pk.toString(),
                    "--epsilon-budget",
                    "2.5",
                    "--delta",
                    "1e-5");
            assertEquals(0, reg.code(), reg.out());
            assertTrue(reg.out().contains("privacy budget: epsilon 2.5 at delta 1.0E-5"), reg.out());
            Fixture.Cli half = Fixture.cli(
                    s,
                    "model",
                    "register",
                    "--id",
                    "clihalf",
                    "--architecture",
                    "x",
                    "--zeros",
                    "4",
                    "--epsilon-budget",
                    "2.5");
            assertEquals(2, half.code(), half.out());
            Fixture.Cli list = Fixture.cli(s, "model", "list");
            assertTrue(list.out().contains("EPSILON/BUDGET") && list.out().contains("0.000/2.500"), list.out());
            Fixture.Cli plain = Fixture.cli(s, "round", "open", "--model", "clidp", "--quorum", "2");
            assertEquals(1, plain.code(), plain.out());
            assertTrue(plain.out().contains("noise_required"), plain.out());
            Fixture.Cli noised =
                    Fixture.cli(s, "round", "open", "--model", "clidp", "--quorum", "2", "--noise-multiplier", "3");
            assertEquals(0, noised.code(), noised.out());
            assertTrue(
                    noised.out().contains("distributed DP: the sum carries noise of std 3.0 x clip norm"),
                    noised.out());
            org.fedseal.protocol.wire.RoundOpened r = Fixture.client(s).roundRecord("clidp", 1);
            assertTrue(
                    org.fedseal.protocol.RoundBounds.of(r).fitsNoise(3 / Math.sqrt(2)),
                    "the default bounds leave headroom for the clients' noise: maxTotalWeight "
                            + r.getMaxTotalWeight());
            Fixture.Cli versions = Fixture.cli(s, "model", "versions", "clidp");
            assertTrue(versions.out().contains("EPSILON") && versions.out().contains("0.0000"), versions.out());
        }
    }

    private VersionInfo noisedRound(RegistryServer s, RegistryClient c, SigningKeyPair holder, double z) {
        RoundInfo r = c.openRound(
                "dp", 2, Duration.ofMinutes(10), 1, 6, 0, 0, 0, RoundOptions.DEFAULT.withNoiseMultiplier(z));
        assertEquals(z, c.roundRecord("dp", r.round()).getNoiseMultiplier());
        Hash base = Hash.fromHex(r.baseModelHash());
        Fixture.RoundRun run = Fixture.simulateRound("dp", r.round(), base, 2, false);
        Fixture.ingest(s, run);
        byte[] w = RegistryClient.floatsToBytes(new float[] {r.round(), 1, 2, 3, 4, 5, 6, 7, 8, 9});
        return c.publishVersion(Fixture.nextVersion("dp", base, run, w, holder), "dp-holder", w, null);
    }

    private static double spent(int rounds) {
        return PrivacyAccountant.create().compose(1, Z, rounds).epsilon(DELTA).epsilon();
    }
}
