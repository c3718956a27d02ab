package org.fedseal.it;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.fedseal.client.SealUpdateEncryptor;
import org.fedseal.protocol.Chunker;
import org.fedseal.protocol.SigningPrivateKey;
import org.fedseal.protocol.Topics;
import org.fedseal.protocol.UpdateKey;
import org.fedseal.protocol.WireCodec;
import org.fedseal.protocol.wire.RoundOpened;
import org.fedseal.protocol.wire.UpdateChunk;
import org.fedseal.protocol.wire.UpdateCommit;
import org.fedseal.protocol.wire.UpdateEnvelope;

/** Hand-made update records, for clients that misbehave in ways the SDK would never let them. */
final class Updates {
    private Updates() {}

    /** A correctly encrypted, chunked and signed update of {@code weight · delta}. */
    static Chunker.PreparedUpdate prepare(
            Scenario s, String clientId, RoundOpened round, float[] delta, long weight, SigningPrivateKey key)
            throws Exception {
        float[] weighted = new float[delta.length];
        for (int i = 0; i < delta.length; i++) {
            weighted[i] = delta[i] * weight;
        }
        try (SealUpdateEncryptor enc = SealUpdateEncryptor.of(s.he, s.keys.publicKey())) {
            List<byte[]> cts = enc.encrypt(weighted, round.getChunkLayout());
            return Chunker.prepare(
                    clientId,
                    round,
                    UUID.randomUUID().toString(),
                    cts,
                    weight,
                    System.currentTimeMillis(),
                    key,
                    Chunker.DEFAULT_MAX_RECORD_BYTES);
        }
    }

    static void sendChunks(KafkaProducer<byte[], byte[]> p, List<UpdateChunk> chunks) throws Exception {
        for (UpdateChunk c : chunks) {
            send(
                    p,
                    new UpdateKey(c.getModelId(), c.getRound(), c.getClientId()),
                    UpdateEnvelope.newBuilder().setPayload(c).build());
        }
    }

    static void sendCommit(KafkaProducer<byte[], byte[]> p, UpdateCommit commit) throws Exception {
        send(
                p,
                new UpdateKey(commit.getModelId(), commit.getRound(), commit.getClientId()),
                UpdateEnvelope.newBuilder().setPayload(commit).build());
    }

    static void send(Scenario s, Chunker.PreparedUpdate u) throws Exception {
        try (KafkaProducer<byte[], byte[]> p = s.rawProducer()) {
            sendChunks(p, u.chunks());
            sendCommit(p, u.commit());
            p.flush();
        }
    }

    static void send(KafkaProducer<byte[], byte[]> p, UpdateKey key, UpdateEnvelope envelope) throws Exception {
        p.send(new ProducerRecord<>(Topics.UPDATES, key.toBytes(), WireCodec.UNBOUNDED.encode(envelope)))
                .get();
    }

    /** A copy of a chunk with its first ciphertext cut short. */
    static UpdateChunk truncated(UpdateChunk c) {
        UpdateChunk copy = UpdateChunk.newBuilder(c).build();
        ByteBuffer first = copy.getCiphertexts().get(0).duplicate();
        byte[] cut = new byte[first.remaining() - 1000];
        first.get(cut);
        java.util.List<ByteBuffer> cts = new java.util.ArrayList<>(copy.getCiphertexts());
        cts.set(0, ByteBuffer.wrap(cut));
        copy.setCiphertexts(cts);
        return copy;
    }

    static float[] delta(int n, double scale, long seed) {
        java.util.Random r = new java.util.Random(seed);
        float[] d = new float[n];
        for (int i = 0; i < n; i++) {
            d[i] = (float) ((r.nextDouble() * 2 - 1) * scale);
        }
        return d;
    }
}
