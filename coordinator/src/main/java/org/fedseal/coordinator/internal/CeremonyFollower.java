package org.fedseal.coordinator.internal;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.fedseal.coordinator.KeyCeremonyParticipant;
import org.fedseal.coordinator.TopicFeed;
import org.fedseal.protocol.KeyCeremonyTranscript;
import org.fedseal.protocol.SigningPublicKey;
import org.fedseal.protocol.Topics;
import org.fedseal.protocol.WireCodec;
import org.fedseal.protocol.wire.KeyCeremonyEnvelope;
import org.fedseal.protocol.wire.KeyCeremonyMessage;
import org.fedseal.protocol.wire.KeyCeremonyOpened;
import org.fedseal.registry.RegistryClient;

/**
 * Follows one key ceremony on the key-ceremony topic until every holder has revealed its
 * committed key share: the registry-signed opening and every holder message go through a
 * {@link KeyCeremonyTranscript}, so this process reaches the same verdicts as the registry and
 * every other reader. A key holder passes its {@link KeyCeremonyParticipant} and producer, and
 * sends its next message whenever the transcript allows; an observer (the combiner) passes none.
 */
public final class CeremonyFollower {
    private CeremonyFollower() {}

    /** A key holder's side: who speaks, and where. */
    public record Speaker(KeyCeremonyParticipant participant, KafkaProducer<byte[], byte[]> producer) {}

    /**
     * The completed transcript of {@code ceremonyId}.
     *
     * @param speaker this process's holder, or null to only observe
     * @param log where to report rejected messages
     * @throws IllegalStateException if the ceremony does not complete within {@code timeout}
     */
    public static KeyCeremonyTranscript follow(
            String bootstrapServers,
            RegistryClient registry,
            String ceremonyId,
            Speaker speaker,
            Duration timeout,
            java.util.function.Consumer<String> log)
            throws Exception {
        long end = System.nanoTime() + timeout.toNanos();
        try (TopicFeed<KeyCeremonyEnvelope> feed =
                new TopicFeed<>(bootstrapServers, Topics.KEY_CEREMONY, KeyCeremonyEnvelope.class)) {
            KeyCeremonyTranscript t = null;
            while (t == null || !t.isComplete()) {
                if (System.nanoTime() > end) {
                    throw new IllegalStateException("key ceremony " + ceremonyId + " did not complete within " + timeout
                            + ": " + (t == null ? "its opening was not seen" : t.toString()));
                }
                for (KeyCeremonyEnvelope e : feed.poll(Duration.ofMillis(200))) {
                    if (e.getPayload() instanceof KeyCeremonyOpened o
                            && o.getCeremonyId().equals(ceremonyId)
                            && t == null) {
                        Map<String, SigningPublicKey> keys = new HashMap<>();
                        o.getHolderIds().forEach(h -> keys.put(h, registry.clientKey(h)));
                        t = KeyCeremonyTranscript.open(o, registry.logPublicKey(), keys);
                    } else if (e.getPayload() instanceof KeyCeremonyMessage m
                            && t != null
                            && m.getCeremonyId().equals(ceremonyId)) {
                        try {
                            t.accept(m);
                        } catch (KeyCeremonyTranscript.RejectedException ex) {
                            log.accept("ceremony " + ceremonyId + ": ignoring " + m.getPhase() + " of "
                                    + m.getHolderId() + ": " + ex.getMessage());
                        }
                    }
                }
                if (t != null && speaker != null) {
                    var next = speaker.participant().nextMessage(t);
                    if (next.isPresent()) {
                        speaker.producer()
                                .send(new ProducerRecord<>(
                                        Topics.KEY_CEREMONY,
                                        ceremonyId.getBytes(StandardCharsets.UTF_8),
                                        WireCodec.DEFAULT.encode(KeyCeremonyEnvelope.newBuilder()
                                                .setPayload(next.get())
                                                .build())))
                                .get();
                        t.accept(next.get()); // its echo from the topic is then a harmless duplicate
                    }
                }
            }
            return t;
        }
    }
}
