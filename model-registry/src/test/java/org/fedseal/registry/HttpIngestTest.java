package org.fedseal.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.fedseal.client.HttpParticipant;
import org.fedseal.client.HttpRegistrySource;
import org.fedseal.client.HttpUpdateTransport;
import org.fedseal.client.JavaMlpTrainer;
import org.fedseal.client.LocalDataset;
import org.fedseal.client.LocalUpdate;
import org.fedseal.client.SubmissionReceipt;
import org.fedseal.client.UpdatePolicy;
import org.fedseal.client.UpdateSigner;
import org.fedseal.he.EncryptedVector;
import org.fedseal.he.HeDecryptor;
import org.fedseal.he.HeParameters;
import org.fedseal.kafkalocal.LocalKafkaBroker;
import org.fedseal.kafkalocal.junit.SharedKafkaBroker;
import org.fedseal.protocol.Chunker;
import org.fedseal.protocol.HttpIngest;
import org.fedseal.protocol.Signatures;
import org.fedseal.protocol.SigningKeyPair;
import org.fedseal.protocol.WireCodec;
import org.fedseal.protocol.wire.RoundOpened;
import org.fedseal.protocol.wire.UpdateChunk;
import org.fedseal.protocol.wire.UpdateCommit;
import org.fedseal.protocol.wire.UpdateEnvelope;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * POST /api/ingest/updates against a real broker: a phone-style client (pure-Java trainer and
 * encryptor, HTTP transport) submits; the records land on the updates topic with the Kafka SDK's
 * key, the commit verifies, and the ciphertexts decrypt with SEAL to the weighted delta. Bad
 * requests get JSON errors and write nothing.
 */
@ExtendWith(SharedKafkaBroker.class)
class HttpIngestTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void phoneSubmitsOverHttpAndRecordsLandOnTheUpdatesTopic(LocalKafkaBroker kafka) throws Exception {
        String p = "ingesttest.";
        Map<String, String> topics = Fixture.kafkaTopics(kafka, p);
        try (RegistryServer s = RegistryServer.builder()
                .dataDir(dir)
                .port(0)
                .adminToken("t")
                .kafkaBootstrapServers(kafka.bootstrapServers())
                .set(RegistryConfig.KAFKA_GROUP, "ingesttest-registry")
                .setAll(topics)
                .build()
                .start()) {
            RegistryClient c = Fixture.client(s);
            // softmax regression, 4 features x 2 classes = 10 parameters
            LocalDataset data = syntheticData(40, 4, 11);
            JavaMlpTrainer trainer = JavaMlpTrainer.softmax(data, 2, 5);
            float[] initial = trainer.initialParameters(0);
            c.registerModel("phone", "softmax 4x2", HeParameters.CKKS_8192.id(), initial);
            c.putHePublicKey("phone", Fixture.HE_KEYS.publicKey().toBytes());
            SigningKeyPair phoneKey = SigningKeyPair.generate();
            assertTrue(c.enrollClient("phone-1", phoneKey.publicKey(), List.of("phone")));
            c.enrollClient("other-1", SigningKeyPair.generate().publicKey(), List.of());
            HttpRegistrySource source = new HttpRegistrySource(s.uri());
            assertEquals(null, source.currentRound("phone"));
            c.openRound("phone", 1, Duration.ofMinutes(10), 2, 6);
            RoundOpened round = source.currentRound("phone");
            assertEquals(1, round.getRound());
            assertEquals(round, source.round("phone", 1));

            UpdateSigner signer = UpdateSigner.of(phoneKey.privateKey());
            HttpUpdateTransport transport = new HttpUpdateTransport(s.uri(), "phone-1", signer);
            UpdatePolicy policy = UpdatePolicy.of(10.0);
            HttpParticipant phone = new HttpParticipant("phone-1", trainer, policy, source, transport, signer);
            List<String> steps = new ArrayList<>();
            SubmissionReceipt receipt = phone.participate(round, steps::add);
            assertEquals(1, receipt.chunkCount());
            assertTrue(steps.stream().anyMatch(m -> m.startsWith("uploading")), steps.toString());

            // what the phone should have sent: weight * clip(delta), deterministic trainer, no noise
            LocalUpdate expectedUpdate = JavaMlpTrainer.softmax(data, 2, 5).fit(initial, 2);
            float[] expected = policy.prepare(expectedUpdate.delta(), expectedUpdate.weight(), round, new Random(0));

            List<ConsumerRecord<byte[], byte[]>> recs = consume(kafka, p + "updates", 2);
            List<UpdateChunk> chunks = new ArrayList<>();
            UpdateCommit commit = null;
            for (ConsumerRecord<byte[], byte[]> r : recs) {
                assertEquals("phone/1/phone-1", new String(r.key(), StandardCharsets.UTF_8));
                Object payload = WireCodec.DEFAULT
                        .decode(r.value(), UpdateEnvelope.class)
                        .getPayload();
                if (payload instanceof UpdateChunk ch) {
                    chunks.add(ch);
                } else {
                    commit = (UpdateCommit) payload;
                }
            }
            assertEquals(1, chunks.size());
            assertEquals(receipt.commit(), commit);
            assertTrue(Signatures.verify(commit, phoneKey.publicKey()));
            assertEquals(40, commit.getWeight());
            List<byte[]> cts = Chunker.reassemble(chunks);
            try (HeDecryptor dec = Fixture.HE.decryptor(Fixture.HE_KEYS.secretKey());
                    EncryptedVector v = Fixture.HE.loadVector(cts.get(0))) {
                double[] plain = dec.decrypt(v);
                assertEquals(expected.length, plain.length);
                for (int i = 0; i < expected.length; i++) {
                    assertEquals(expected[i], plain[i], 1e-4, "value " + i);
                }
            }

            // rejections: JSON errors, nothing written
            byte[] chunkBody = WireCodec.UNBOUNDED.encode(new UpdateEnvelope(chunks.get(0)));
            byte[] commitBody = WireCodec.UNBOUNDED.encode(new UpdateEnvelope(commit));
            assertError(post(s, chunkBody, null, null, null), 401, "unauthenticated");
            assertError(post(s, chunkBody, "nobody", sign(phoneKey, "nobody", chunkBody), null), 403, "unknown_client");
            assertError(
                    post(s, chunkBody, "phone-1", sign(SigningKeyPair.generate(), "phone-1", chunkBody), null),
                    401,
                    "bad_signature");
            assertError(
                    post(s, chunkBody, "phone-1", sign(phoneKey, "phone-1", commitBody), null), 401, "bad_signature");
            UpdateCommit forged =
                    UpdateCommit.newBuilder(commit).setWeight(4000).build();
            assertError(
                    post(s, WireCodec.UNBOUNDED.encode(new UpdateEnvelope(forged)), null, null, null),
                    401,
                    "bad_signature");
            assertError(
                    post(s, new byte[] {1, 2, 3}, "phone-1", sign(phoneKey, "phone-1", new byte[] {1, 2, 3}), null),
                    400,
                    "malformed_record");
            assertError(
                    post(s, chunkBody, "phone-1", sign(phoneKey, "phone-1", chunkBody), "text/plain"),
                    415,
                    "unsupported_media_type");
            byte[] huge = new byte[5 << 20];
            assertError(post(s, huge, "phone-1", sign(phoneKey, "phone-1", huge), null), 413, "too_large");
            UpdateChunk otherModel = UpdateChunk.newBuilder(chunks.get(0))
                    .setClientId("other-1")
                    .setModelId("phone")
                    .setRound(7)
                    .build();
            byte[] om = WireCodec.UNBOUNDED.encode(new UpdateEnvelope(otherModel));
            assertError(post(s, om, "phone-1", sign(phoneKey, "phone-1", om), null), 403, "client_mismatch");
            UpdateChunk wrongRound =
                    UpdateChunk.newBuilder(chunks.get(0)).setRound(7).build();
            byte[] wr = WireCodec.UNBOUNDED.encode(new UpdateEnvelope(wrongRound));
            assertError(post(s, wr, "phone-1", sign(phoneKey, "phone-1", wr), null), 409, "round_not_open");

            // a batch (commit + chunk again: duplicates, which the aggregator drops) is accepted
            java.io.ByteArrayOutputStream batch = new java.io.ByteArrayOutputStream();
            for (byte[] b : List.of(chunkBody, commitBody)) {
                batch.write(java.nio.ByteBuffer.allocate(4).putInt(b.length).array());
                batch.write(b);
            }
            byte[] bb = batch.toByteArray();
            HttpResponse<String> ok =
                    post(s, bb, "phone-1", sign(phoneKey, "phone-1", bb), HttpIngest.BATCH_CONTENT_TYPE);
            assertEquals(202, ok.statusCode(), ok.body());
            assertEquals(2, JSON.readTree(ok.body()).get("accepted").asInt());
            assertEquals(4, consume(kafka, p + "updates", 4).size());

            String openapi = HttpClient.newHttpClient()
                    .send(
                            HttpRequest.newBuilder(URI.create(s.uri() + "/openapi.json"))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString())
                    .body();
            assertTrue(openapi.contains("\"/api/ingest/updates\""));
            assertTrue(openapi.contains("\"/api/models/{modelId}/rounds/current/record\""));
        }
    }

    private static LocalDataset syntheticData(int n, int d, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n * d];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = i % 2;
            for (int j = 0; j < d; j++) {
                x[i * d + j] = (float) (r.nextGaussian() * 0.5 + (y[i] == 1 ? 1 : -1) * (j + 1) * 0.3);
            }
        }
        return new LocalDataset(x, d, y);
    }

    private static String sign(SigningKeyPair key, String clientId, byte[] body) {
        return Base64.getEncoder()
                .encodeToString(key.privateKey().sign(HttpUpdateTransport.signedMessage(clientId, body)));
    }

    private static HttpResponse<String> post(RegistryServer s, byte[] body, String client, String sig, String type)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(s.uri() + HttpIngest.PATH))
                .header("Content-Type", type == null ? HttpIngest.CONTENT_TYPE : type)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (client != null) {
            b.header(HttpIngest.HEADER_CLIENT, client);
        }
        if (sig != null) {
            b.header(HttpIngest.HEADER_SIGNATURE, sig);
        }
        return HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static void assertError(HttpResponse<String> r, int status, String code) throws Exception {
        assertEquals(status, r.statusCode(), r.body());
        JsonNode n = JSON.readTree(r.body());
        assertEquals(code, n.get("code").asText(), r.body());
        assertTrue(n.hasNonNull("message"));
    }

    private static List<ConsumerRecord<byte[], byte[]>> consume(LocalKafkaBroker kafka, String topic, int n) {
        Properties cp = new Properties();
        cp.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        cp.put(ConsumerConfig.GROUP_ID_CONFIG, "ingesttest-reader-" + System.nanoTime());
        cp.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        cp.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Integer.toString(8 << 20));
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> cons =
                new KafkaConsumer<>(cp, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            cons.subscribe(List.of(topic));
            long deadline = System.currentTimeMillis() + 30_000;
            while (out.size() < n && System.currentTimeMillis() < deadline) {
                cons.poll(Duration.ofMillis(200)).forEach(out::add);
            }
        }
        assertEquals(n, out.size(), "records on " + topic);
        return out;
    }
}
