package org.fedseal.aggregator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Properties;
import org.fedseal.protocol.SigningKeyPair;
import org.junit.jupiter.api.Test;

class AggregatorConfigTest {
    final SigningKeyPair key = SigningKeyPair.generate();

    @Test
    void defaultsAndOverrides() {
        Properties p = new Properties();
        p.setProperty("bootstrap.servers", "127.0.0.1:9092");
        p.setProperty("topic.updates", "u");
        AggregatorConfig c = AggregatorConfig.builder()
                .putAll(p)
                .signingKey(key.privateKey())
                .build();
        assertEquals("u", c.updatesTopic());
        assertEquals("fedseal.rounds", c.roundsTopic());
        assertEquals("ckks-8192-v1", c.heParamsId());
        assertEquals(60000, c.transactionTimeoutMs());
        assertFalse(c.toString().contains(c.get(AggregatorConfig.SIGNING_KEY)), "signing key redacted");
    }

    @Test
    void badValuesNameTheKey() {
        var b = AggregatorConfig.builder().bootstrapServers("x:1").signingKey(key.privateKey());
        assertTrue(assertThrows(
                        IllegalArgumentException.class,
                        () -> b.set("no.such.key", "1").build())
                .getMessage()
                .contains("no.such.key"));
        var b2 = AggregatorConfig.builder().bootstrapServers("x:1").signingKey(key.privateKey());
        assertTrue(assertThrows(
                        IllegalArgumentException.class,
                        () -> b2.set(AggregatorConfig.HE_PARAMS_ID, "rot13").build())
                .getMessage()
                .contains(AggregatorConfig.HE_PARAMS_ID));
        assertTrue(assertThrows(
                        IllegalArgumentException.class,
                        () -> AggregatorConfig.builder().bootstrapServers("x:1").build())
                .getMessage()
                .contains("signing"));
        assertTrue(assertThrows(
                        IllegalArgumentException.class,
                        () -> AggregatorConfig.builder()
                                .signingKey(key.privateKey())
                                .build())
                .getMessage()
                .contains("bootstrap.servers"));
    }

    @Test
    void environmentVariables() {
        Properties p = AggregatorConfig.fromEnvironment(
                Map.of("FEDSEAL_AGG_BOOTSTRAP_SERVERS", "h:1", "FEDSEAL_AGG_TOPIC_REJECTS", "r", "OTHER", "x"));
        assertEquals("h:1", p.getProperty("bootstrap.servers"));
        assertEquals("r", p.getProperty("topic.rejects"));
        assertEquals(2, p.size());
    }
}
