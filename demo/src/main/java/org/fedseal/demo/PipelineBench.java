package org.fedseal.demo;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import org.fedseal.client.BaseModel;
import org.fedseal.client.ClientConfig;
import org.fedseal.client.FederatedClient;
import org.fedseal.client.LocalTrainer;
import org.fedseal.client.LocalUpdate;
import org.fedseal.client.SubmissionReceipt;
import org.fedseal.coordinator.KeyHolder;
import org.fedseal.coordinator.RegistryModelSource;
import org.fedseal.coordinator.TopicFeed;
import org.fedseal.he.HeContext;
import org.fedseal.he.HeKeyPair;
import org.fedseal.he.HeParameters;
import org.fedseal.protocol.Aggregates;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.ModelWeights;
import org.fedseal.protocol.SigningKeyPair;
import org.fedseal.protocol.Topics;
import org.fedseal.protocol.wire.AggregateChunkSum;
import org.fedseal.protocol.wire.AggregatePublished;
import org.fedseal.protocol.wire.RoundOpened;
import org.fedseal.registry.RegistryClient;
import org.fedseal.registry.RoundInfo;
import org.fedseal.registry.RoundOptions;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code fedseal bench e2e}: rounds of K clients × P parameters through the real pipeline
 * (client encryption, Kafka, the Flink job, the published aggregate, its decryption), public-key
 * and compact updates side by side, next to plaintext FedAvg of the same updates measured in the
 * same run (the 1× baseline: float32 on the wire, a Java sum).
 */
@Command(
        name = "fedseal bench e2e",
        mixinStandardHelpOptions = true,
        description =
                "Round time, client encrypt time, bytes per parameter and aggregator throughput vs plaintext FedAvg.")
public final class PipelineBench implements Callable<Integer> {
    @Option(names = "--clients", defaultValue = "10", description = "Clients per round (default ${DEFAULT-VALUE}).")
    int clients;

    @Option(
            names = "--params",
            split = ",",
            defaultValue = "100000,1000000",
            description = "Model sizes to run (default ${DEFAULT-VALUE}).")
    int[] sizes;

    @Option(
            names = "--modes",
            split = ",",
            defaultValue = "pk,compact",
            description = "Update encodings to run side by side: pk (every value CKKS-encrypted under the public key),"
                    + " compact (one-polynomial RLWE masking, the key CKKS-encrypted once); default ${DEFAULT-VALUE}.")
    String[] modes;

    @Option(
            names = "--scale-bits",
            defaultValue = "22",
            description = "Compact mode: values travel as round(2^bits x value) (default ${DEFAULT-VALUE}).")
    int scaleBits;

    @Option(
            names = "--json",
            description = "Print the figures as one JSON object (the last line of stdout) after the table.")
    boolean json;

    public static void main(String[] args) {
        System.exit(new CommandLine(new PipelineBench()).execute(args));
    }

    /** A trainer whose update is a fixed delta of weight 1: training is not what is measured here. */
    record FixedTrainer(float[] delta) implements LocalTrainer {
        @Override
        public int parameterCount() {
            return delta.length;
        }

        @Override
        public long sampleCount() {
            return 1;
        }

        @Override
        public LocalUpdate fit(float[] base, int epochs) {
            return new LocalUpdate(delta.clone(), 1, Map.of());
        }
    }

    @Override
    public Integer call() throws Exception {
        for (String m : modes) {
            if (!m.equals("pk") && !m.equals("compact")) {
                throw new CommandLine.ParameterException(
                        new CommandLine(this), "--modes takes pk and compact, got " + m);
            }
        }
        if (clients < 1) {
            throw new CommandLine.ParameterException(new CommandLine(this), "--clients must be >= 1");
        }
        Path work = Files.createTempDirectory("fedseal-bench");
        List<String> rows = new ArrayList<>();
        List<Map<String, Object>> figures = new ArrayList<>();
        try (FederatedDeployment d = FederatedDeployment.start(work, Map.of(), 0);
                HeContext he = HeContext.create(HeParameters.CKKS_8192);
                HeKeyPair keys = he.generateKeys();
                KeyHolder keyHolder = KeyHolder.of(he, keys.secretKey())) {
            RegistryClient admin = d.adminClient();
            for (int p : sizes) {
                // every client's update: values uniform in [-1, 1], weight 1
                List<float[]> deltas = new ArrayList<>();
                Random rnd = new Random(p);
                for (int c = 0; c < clients; c++) {
                    float[] delta = new float[p];
                    for (int i = 0; i < p; i++) {
                        delta[i] = rnd.nextFloat() * 2 - 1;
                    }
                    deltas.add(delta);
                }
                // the 1x baseline: the same updates as plaintext FedAvg (float32 on the wire, a Java sum)
                long b0 = System.nanoTime();
                double[] mean = new double[p];
                for (float[] delta : deltas) {
                    float[] back = ModelWeights.decode(ModelWeights.encode(delta));
                    for (int i = 0; i < p; i++) {
                        mean[i] += back[i];
                    }
                }
                for (int i = 0; i < p; i++) {
                    mean[i] /= clients;
                }
                long plainNanos = System.nanoTime() - b0;
                for (String mode : modes) {
                    Map<String, Object> f = runRound(d, admin, keys, keyHolder, p, mode, deltas, mean);
                    f.put("plainFedAvgSeconds", plainNanos / 1e9);
                    figures.add(f);
                    rows.add(String.format(
                            "%-9d %-8s %-7d %9.2f %12.4f %16.2f %10.3f %12.2e %14.1f %14.3f",
                            p,
                            mode,
                            clients,
                            (double) f.get("roundSeconds"),
                            (double) f.get("clientEncryptUsPerParam"),
                            (double) f.get("bytesPerParam"),
                            4.0,
                            (double) f.get("maxAbsError"),
                            (double) f.get("aggregatorMBps"),
                            plainNanos / 1e9));
                }
            }
        }
        System.out.println();
        System.out.printf(
                "%-9s %-8s %-7s %9s %12s %16s %10s %12s %14s %14s%n",
                "params",
                "mode",
                "clients",
                "round s",
                "enc us/param",
                "B/param (sent)",
                "plain B/p",
                "max |err|",
                "agg MB/s",
                "plain FedAvg s");
        rows.forEach(System.out::println);
        System.out.println("enc us/param: one client's clip + encrypt + chunk + sign (Chunker.prepare), no Kafka;"
                + " B/param: every byte a client produced for one update (chunks, the masking key's ciphertext, the"
                + " signed commit, Avro framing) / parameters; max |err|: of the decrypted mean vs the plaintext mean"
                + " (values uniform in [-1, 1], weight 1); agg MB/s: the round's bytes / time from the last send to"
                + " the committed aggregate.");
        if (json) {
            System.out.println(
                    new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(Map.of("rounds", figures)));
        }
        return 0;
    }

    private Map<String, Object> runRound(
            FederatedDeployment d,
            RegistryClient admin,
            HeKeyPair keys,
            KeyHolder keyHolder,
            int p,
            String mode,
            List<float[]> deltas,
            double[] mean)
            throws Exception {
        String model = "bench-" + mode + "-" + p;
        admin.registerModel(model, "bench", HeParameters.CKKS_8192.id(), ModelWeights.encode(new float[p]), null);
        admin.putHePublicKey(model, keys.publicKey().toBytes());
        List<FederatedClient> fleet = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            SigningKeyPair id = SigningKeyPair.generate();
            admin.enrollClient(model + "-c" + c, id.publicKey(), List.of(model));
            fleet.add(FederatedClient.builder(Map.of(
                            ClientConfig.BOOTSTRAP_SERVERS,
                            d.bootstrapServers(),
                            ClientConfig.CLIENT_ID,
                            model + "-c" + c))
                    .trainer(new FixedTrainer(deltas.get(c)))
                    .modelSource(new RegistryModelSource(
                            RegistryClient.create(d.registry().uri())))
                    .signingKey(id.privateKey())
                    .build());
        }
        Map<String, Object> f = new java.util.LinkedHashMap<>();
        try (TopicFeed<RoundOpened> feed = new TopicFeed<>(d.bootstrapServers(), Topics.ROUNDS, RoundOpened.class)) {
            long t0 = System.nanoTime();
            // no L2 clipping of values in [-1, 1] (clip norm sqrt(p)), every value bounded by 1, weight 1 each
            RoundOptions options = RoundOptions.DEFAULT.withClipValue(1.0);
            if (mode.equals("compact")) {
                options = options.withCompactUpdates(scaleBits);
            }
            RoundInfo info = admin.openRound(
                    model, clients, Duration.ofMinutes(10), 1, 6, Math.ceil(Math.sqrt(p)), clients, 1, options);
            RoundOpened round = feed.await(
                    o -> o.getModelId().equals(model) && o.getRound() == info.round(), Duration.ofSeconds(60));
            // one client's encrypt + serialize, timed apart from Kafka and the registry
            BaseModel base = new RegistryModelSource(
                            RegistryClient.create(d.registry().uri()))
                    .baseModel(model, Hash.of(round.getBaseModelHash()));
            FederatedClient probe = fleet.get(0);
            LocalUpdate update = probe.trainOnce(round, base);
            for (int i = 0; i < 2; i++) {
                probe.prepare(round, update); // warm-up: the pure-Java masking runs compiled, like SEAL's native code
            }
            long e0 = System.nanoTime();
            int reps = 3;
            for (int i = 0; i < reps; i++) {
                probe.prepare(round, update);
            }
            double encryptUsPerParam = (System.nanoTime() - e0) / 1e3 / reps / p;
            long bytes = 0;
            for (FederatedClient c : fleet) {
                SubmissionReceipt r = c.participate(round);
                bytes += r.bytesSent();
            }
            long sent = System.nanoTime();
            AggregatePublished agg = awaitAggregate(d.bootstrapServers(), model, info.round());
            long done = System.nanoTime();
            List<AggregateChunkSum> sums;
            try (TopicFeed<AggregateChunkSum> chunkFeed =
                    new TopicFeed<>(d.bootstrapServers(), Topics.AGGREGATE_CHUNKS, AggregateChunkSum.class)) {
                sums = chunkFeed.await(
                        c -> c.getModelId().equals(model) && c.getRound() == info.round(),
                        Aggregates.chunkCount(agg),
                        Duration.ofMinutes(2));
            }
            double[] decrypted = keyHolder.decryptMean(agg, Aggregates.of(sums), round);
            double maxErr = 0;
            for (int i = 0; i < p; i++) {
                maxErr = Math.max(maxErr, Math.abs(decrypted[i] - mean[i]));
            }
            double roundS = (done - t0) / 1e9;
            double aggS = (done - sent) / 1e9;
            f.put("params", p);
            f.put("mode", mode);
            f.put("clients", clients);
            f.put("roundSeconds", roundS);
            f.put("clientEncryptUsPerParam", encryptUsPerParam);
            f.put("bytesPerParam", (double) bytes / clients / p);
            f.put("plainBytesPerParam", 4.0);
            f.put("maxAbsError", maxErr);
            f.put("aggregatorMBps", bytes / 1e6 / Math.max(aggS, 1e-9));
            if (mode.equals("compact")) {
                f.put("maskModulusBits", 64 - Long.numberOfLeadingZeros(round.getMaskModulus()));
            }
        } finally {
            for (FederatedClient c : fleet) {
                c.close(Duration.ofSeconds(5));
            }
        }
        return f;
    }

    private static AggregatePublished awaitAggregate(String bootstrap, String model, int round) {
        try (TopicFeed<AggregatePublished> aggregates =
                new TopicFeed<>(bootstrap, Topics.AGGREGATES, AggregatePublished.class)) {
            return aggregates.await(a -> a.getModelId().equals(model) && a.getRound() == round, Duration.ofMinutes(10));
        }
    }
}
