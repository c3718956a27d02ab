package org.fedseal.aggregator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.fedseal.he.EncryptedVector;
import org.fedseal.he.HeDecryptor;
import org.fedseal.kafkalocal.LocalKafkaBroker;
import org.fedseal.kafkalocal.junit.SharedKafkaBroker;
import org.fedseal.protocol.Aggregates;
import org.fedseal.protocol.CanonicalHash;
import org.fedseal.protocol.Signatures;
import org.fedseal.protocol.wire.AggregateChunkSum;
import org.fedseal.protocol.wire.AggregatePublished;
import org.fedseal.protocol.wire.AggregateStatus;
import org.fedseal.protocol.wire.ChunkLayout;
import org.fedseal.protocol.wire.RoundOpened;
import org.fedseal.protocol.wire.UpdateChunk;
import org.fedseal.protocol.wire.UpdateCommit;
import org.fedseal.protocol.wire.UpdateEnvelope;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.DisabledIfSystemProperty;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A model of 20 million parameters (2,442 ciphertexts, 407 chunks, ~320 MB of ciphertext per
 * update) aggregates through the job with RocksDB state, every record under the brokers' default
 * 1 MiB limit, and decrypts within tolerance: about 70 s on 2 cores (it prints its timings).
 * Clients stream chunk by chunk and expected sums are regenerated from seeds, so the test JVM holds
 * only the chunk sums it checks. {@code -Dfedseal.scale.skip=true} skips it on a small machine.
 */
@ExtendWith(SharedKafkaBroker.class)
@DisabledIfSystemProperty(named = "fedseal.scale.skip", matches = "true")
class TwentyMillionParametersTest {
    static final String P = "twenty";
    static final long PARAMETERS = 20_000_000L;
    static final String[] CLIENTS = {"big1", "big2"};

    static double[] plain(String client, int chunk, int n) {
        Random r = new Random(client.hashCode() * 31L + chunk);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = r.nextDouble() * 2 - 1;
        }
        return v;
    }

    @Test
    void twentyMillionParametersAggregateRecordByRecordUnderOneMebibyte(LocalKafkaBroker kafka, @TempDir Path tmp)
            throws Exception {
        kafka.createTopics(Fleet.topics(P, 2));
        try (Fleet fleet = new Fleet(kafka.bootstrapServers())) {
            AggregatorConfig config = fleet.config(P)
                    .set(AggregatorConfig.PARALLELISM, 2)
                    .set(AggregatorConfig.MAX_RECORD_BYTES, org.fedseal.protocol.WireCodec.DEFAULT_MAX_RECORD_BYTES)
                    .set(AggregatorConfig.STATE_BACKEND, "rocksdb")
                    .build();
            fleet.enrol(P, CLIENTS);
            int perCt = Fleet.PARAMS.valuesPerCiphertext(org.fedseal.he.Packing.COMPLEX);
            ChunkLayout layout = Fleet.layout((int) PARAMETERS, 6);
            RoundOpened round =
                    fleet.round("twenty-million", 1, CLIENTS.length, System.currentTimeMillis() + 1_800_000, layout);
            fleet.openRound(P, round);
            long t0 = System.nanoTime();
            try (LocalAggregator job = AggregatorJob.runLocal(config, tmp.resolve("ckpt"));
                    Fleet.Reader aggregates = fleet.reader(P + ".aggregates")) {
                for (String client : CLIENTS) {
                    List<ByteBuffer> hashes = new ArrayList<>();
                    for (int c = 0; c < layout.getChunkCount(); c++) {
                        List<ByteBuffer> cts = new ArrayList<>();
                        for (int j = 0; j < org.fedseal.protocol.Chunker.ciphertextsInChunk(layout, c); j++) {
                            long from = ((long) c * layout.getCiphertextsPerChunk() + j) * perCt;
                            int n = (int) Math.min(perCt, PARAMETERS - from);
                            double[] v = plain(client, c * 10 + j, n);
                            try (EncryptedVector e = fleet.encryptor.encrypt(v)) {
                                cts.add(ByteBuffer.wrap(e.toBytes()));
                            }
                        }
                        UpdateChunk chunk = UpdateChunk.newBuilder()
                                .setClientId(client)
                                .setModelId(round.getModelId())
                                .setRound(1)
                                .setUpdateId(client + "-u")
                                .setChunkIndex(c)
                                .setCiphertexts(cts)
                                .build();
                        hashes.add(CanonicalHash.of(chunk).toByteBuffer());
                        fleet.sendEnvelope(P, new UpdateEnvelope(chunk));
                    }
                    UpdateCommit commit = UpdateCommit.newBuilder()
                            .setClientId(client)
                            .setModelId(round.getModelId())
                            .setRound(1)
                            .setUpdateId(client + "-u")
                            .setHeParamsId(Fleet.PARAMS.id())
                            .setBaseModelHash(round.getBaseModelHash())
                            .setChunkCount(layout.getChunkCount())
                            .setChunkHashes(hashes)
                            .setWeight(1)
                            .setCreatedAtEpochMillis(System.currentTimeMillis())
                            .setSignature(ByteBuffer.allocate(0))
                            .build();
                    fleet.sendEnvelope(
                            P,
                            new UpdateEnvelope(Signatures.sign(
                                    commit, fleet.clientKeys.get(client).privateKey())));
                }
                double sent = (System.nanoTime() - t0) / 1e9;
                AggregatePublished agg = aggregates
                        .await(AggregatePublished.class, v -> !v.isEmpty(), Duration.ofMinutes(20))
                        .get(0);
                double aggregated = (System.nanoTime() - t0) / 1e9;
                assertEquals(AggregateStatus.COMPLETED, agg.getStatus());
                assertEquals(layout.getChunkCount(), Aggregates.chunkCount(agg));
                List<AggregateChunkSum> sums = fleet.chunkSums(agg);

                double maxError = 0;
                try (HeDecryptor d = fleet.he.decryptor(fleet.heKeys.secretKey())) {
                    for (int c = 0; c < sums.size(); c++) {
                        Aggregates.verifyChunk(agg, c, sums.get(c));
                        for (int j = 0; j < sums.get(c).getCiphertexts().size(); j++) {
                            byte[] ct = org.fedseal.protocol.Bytes.toArray(
                                    sums.get(c).getCiphertexts().get(j));
                            try (EncryptedVector v = fleet.he.loadVector(ct)) {
                                double[] got = d.decrypt(v);
                                for (String client : CLIENTS) {
                                    double[] p = plain(client, c * 10 + j, got.length);
                                    for (int i = 0; i < got.length; i++) {
                                        got[i] -= p[i];
                                    }
                                }
                                for (double x : got) {
                                    maxError = Math.max(maxError, Math.abs(x));
                                }
                            }
                        }
                    }
                }
                long largest = 0;
                List<ConsumerRecord<byte[], byte[]>> all = new ArrayList<>(fleet.chunkSumRecords());
                all.addAll(aggregates.records);
                for (ConsumerRecord<byte[], byte[]> r : all) {
                    largest = Math.max(largest, r.serializedValueSize());
                }
                System.out.printf(
                        "20M parameters, %d clients: sent in %.1f s, aggregated at %.1f s, decrypted at %.1f s; "
                                + "max error %.2e; largest output record %d bytes%n",
                        CLIENTS.length, sent, aggregated, (System.nanoTime() - t0) / 1e9, maxError, largest);
                assertTrue(maxError < 1e-4, "max error " + maxError);
                assertTrue(largest < 1_000_000, "largest record " + largest);
            }
        }
    }
}
