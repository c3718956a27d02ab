package org.fedseal.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import org.fedseal.he.HeParameters;
import org.fedseal.protocol.Chunker;
import org.fedseal.protocol.CompactRounds;
import org.fedseal.protocol.wire.RoundOpened;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 17 in the registry: a compact round gets the smallest modulus that holds its bounds, a
 * layout with one key ciphertext after the masked blocks, and the options in its record; what
 * cannot be masked safely is refused with a 400 that says why.
 */
class CompactRoundRegistryTest {
    @TempDir
    Path dir;

    @Test
    void aCompactRoundIsSizedFromItsBoundsAndWhatCannotFitIsRefused() {
        try (RegistryServer s = Fixture.server(dir)) {
            RegistryClient c = Fixture.client(s);
            c.registerModel("cmp", "mlp 10", HeParameters.CKKS_8192.id(), new float[Fixture.PARAMS]);
            c.putHePublicKey("cmp", Fixture.HE_KEYS.publicKey().toBytes());

            RegistryException noisy = assertThrows(
                    RegistryException.class,
                    () -> c.openRound(
                            "cmp",
                            2,
                            Duration.ofMinutes(5),
                            1,
                            6,
                            1.0,
                            100,
                            1,
                            RoundOptions.DEFAULT.withCompactUpdates(22).withNoiseMultiplier(0.5)));
            assertEquals(400, noisy.status(), noisy.getMessage());
            assertTrue(noisy.getMessage().contains("noise"), noisy.getMessage());

            RegistryException wide = assertThrows(
                    RegistryException.class,
                    () -> c.openRound(
                            "cmp",
                            2,
                            Duration.ofMinutes(5),
                            1,
                            6,
                            1000,
                            1000,
                            1,
                            RoundOptions.DEFAULT.withCompactUpdates(50)));
            assertEquals(400, wide.status(), wide.getMessage());
            assertTrue(wide.getMessage().contains("61 bits"), wide.getMessage());

            RoundInfo info = c.openRound(
                    "cmp",
                    2,
                    Duration.ofMinutes(5),
                    1,
                    6,
                    1.0,
                    100,
                    1,
                    RoundOptions.DEFAULT.withCompactUpdates(22).withClipValue(0.5));
            RoundOpened r = c.roundRecord("cmp", info.round());
            assertEquals(CompactRounds.modulusFor(0.5 * 100, 22, 100), r.getMaskModulus(), "the value clip sizes q");
            assertEquals(22, r.getMaskScaleBits());
            assertEquals(0.5, r.getClipValue());
            assertTrue(
                    CompactRounds.problem(r).isEmpty(), CompactRounds.problem(r).toString());
            assertEquals(CompactRounds.BLOCK_VALUES, r.getChunkLayout().getValuesPerCiphertext());
            assertEquals(1, Chunker.keyCiphertexts(r.getChunkLayout()));
            assertEquals(Fixture.PARAMS, r.getChunkLayout().getTotalValues());

            Auditor.Result audit = new Auditor(c).verify(null, null);
            assertTrue(audit.ok(), audit.message() + " " + audit.notes());
        }
    }
}
