package org.fedseal.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Base64;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.Signatures;
import org.fedseal.protocol.SigningKeyPair;
import org.fedseal.protocol.wire.AggregatePublished;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** With the aggregator's key configured, a forged aggregate is refused and nothing is stored or logged. */
class AggregatorSignatureTest {
    @TempDir
    Path dir;

    @Test
    void aggregateNotSignedByTheConfiguredAggregatorIsRefused() {
        String key = Base64.getEncoder()
                .encodeToString(Fixture.AGGREGATOR.publicKey().toX509());
        try (RegistryServer s = RegistryServer.builder()
                .dataDir(dir)
                .port(0)
                .adminToken("test-token")
                .set(RegistryConfig.AGGREGATOR_PUBLIC_KEY, key)
                .build()
                .start()) {
            RegistryClient c = Fixture.client(s);
            Fixture.setUpModel(c, "signed");
            Hash base = Hash.fromHex(c.model("signed").latestVersionHash());
            c.openRound("signed", 2, java.time.Duration.ofMinutes(5), 1, 6);
            Fixture.RoundRun run = Fixture.simulateRound("signed", 1, base, 2, false);
            long logBefore = c.signedTreeHead().getTreeSize();

            AggregatePublished forged =
                    Signatures.sign(run.aggregate(), SigningKeyPair.generate().privateKey());
            assertFalse(s.service().onAggregate(forged), "a foreign signature is refused");
            assertEquals("open", c.roundStatus("signed", 1).status());
            assertEquals(logBefore, c.signedTreeHead().getTreeSize(), "nothing logged");

            assertTrue(s.service().onAggregate(run.aggregate()), "the aggregator's own signature is accepted");
            assertEquals("closed", c.roundStatus("signed", 1).status());
        }
    }
}
