package org.fedseal.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.fedseal.protocol.CanonicalHash;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.ModelWeights;
import org.fedseal.protocol.Signatures;
import org.fedseal.protocol.SigningKeyPair;
import org.fedseal.protocol.Strategy;
import org.fedseal.protocol.StrategyState;
import org.fedseal.protocol.wire.ModelVersionPublished;
import org.fedseal.protocol.wire.StrategySpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 18: a version records its server strategy and the hash of its optimizer state; the registry
 * stores the state under that hash and serves it, and refuses a version whose uploaded state does
 * not hash to the recorded one, or that names a strategy or hyperparameter it does not know.
 */
class OptimizerStateTest {
    @TempDir
    Path dir;

    private static ModelVersionPublished version(
            Hash base, Fixture.RoundRun run, byte[] w, SigningKeyPair holder, StrategySpec spec, ByteBuffer stateHash) {
        ModelVersionPublished v = ModelVersionPublished.newBuilder(Fixture.nextVersion("os", base, run, w, holder))
                .setStrategy(spec)
                .setOptimizerStateHash(stateHash)
                .setVersionHash(ByteBuffer.allocate(0))
                .build();
        v.setVersionHash(CanonicalHash.versionHash(v).toByteBuffer());
        return Signatures.sign(v, holder.privateKey());
    }

    @Test
    void theStateIsStoredUnderItsHashAndAMismatchIsRefused() {
        try (RegistryServer s = Fixture.server(dir)) {
            RegistryClient c = Fixture.client(s);
            SigningKeyPair holder = Fixture.setUpModel(c, "os");
            RoundInfo r = c.openRound("os", 2, Duration.ofMinutes(10), 1, 6);
            Hash base = Hash.fromHex(r.baseModelHash());
            Fixture.RoundRun run = Fixture.simulateRound("os", r.round(), base, 2, false);
            Fixture.ingest(s, run);
            Strategy adam = Strategy.fedAdam(0.01);
            double[] mean = new double[Fixture.PARAMS];
            java.util.Arrays.fill(mean, 0.02);
            Strategy.Step step = adam.step(c.weightsAsFloats(base), mean, adam.initialState(Fixture.PARAMS));
            byte[] w = ModelWeights.encode(step.weights());
            byte[] state = step.state().encode();

            RegistryException other = assertThrows(
                    RegistryException.class,
                    () -> c.publishVersion(
                            version(
                                    base,
                                    run,
                                    w,
                                    holder,
                                    adam.toSpec(),
                                    step.state().hashField()),
                            "os-holder",
                            w,
                            adam.initialState(Fixture.PARAMS).encode(),
                            null));
            assertEquals(409, other.status());
            assertTrue(other.getMessage().contains("optimizer_state_mismatch"), other.getMessage());
            RegistryException missing = assertThrows(
                    RegistryException.class,
                    () -> c.publishVersion(
                            version(
                                    base,
                                    run,
                                    w,
                                    holder,
                                    adam.toSpec(),
                                    step.state().hashField()),
                            "os-holder",
                            w,
                            null));
            assertEquals(409, missing.status());
            RegistryException unnamed = assertThrows(
                    RegistryException.class,
                    () -> c.publishVersion(
                            version(base, run, w, holder, adam.toSpec(), ByteBuffer.allocate(0)),
                            "os-holder",
                            w,
                            state,
                            null));
            assertEquals(409, unnamed.status(), "state bytes without a recorded hash");
            StrategySpec unknown = StrategySpec.newBuilder()
                    .setName("FedLion")
                    .setHyperparameters(List.of())
                    .build();
            RegistryException bad = assertThrows(
                    RegistryException.class,
                    () -> c.publishVersion(
                            version(base, run, w, holder, unknown, step.state().hashField()),
                            "os-holder",
                            w,
                            state,
                            null));
            assertEquals(400, bad.status());
            assertTrue(bad.getMessage().contains("FedLion"), bad.getMessage());

            VersionInfo v = c.publishVersion(
                    version(base, run, w, holder, adam.toSpec(), step.state().hashField()),
                    "os-holder",
                    w,
                    state,
                    null);
            ModelVersionPublished rec = c.versionRecord(Hash.fromHex(v.versionHash()));
            assertEquals(adam.toSpec(), rec.getStrategy());
            StrategyState served = c.optimizerState(rec);
            assertEquals(step.state(), served);
            assertTrue(served.matches(rec.getOptimizerStateHash()));
            Fixture.Cli audit = Fixture.cli(s, "audit", "verify");
            assertEquals(0, audit.code(), audit.out());
        }
    }
}
