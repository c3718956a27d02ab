package org.fedseal.demo;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import org.fedseal.client.ClientConfig;
import org.fedseal.client.FederatedClient;
import org.fedseal.client.LocalTrainer;
import org.fedseal.client.LocalUpdate;
import org.fedseal.client.SubmissionReceipt;
import org.fedseal.coordinator.RegistryModelSource;
import org.fedseal.coordinator.TopicFeed;
import org.fedseal.he.HeContext;
import org.fedseal.he.HeKeyPair;
import org.fedseal.he.HeParameters;
import org.fedseal.protocol.ModelWeights;
import org.fedseal.protocol.SigningKeyPair;
import org.fedseal.protocol.Topics;
import org.fedseal.protocol.wire.AggregatePublished;
import org.fedseal.protocol.wire.RoundOpened;
import org.fedseal.registry.RegistryClient;
import org.fedseal.registry.RoundInfo;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code fedseal bench e2e}: rounds of K clients × P parameters through the real pipeline
 * (client encryption, Kafka, the Flink job, the published aggregate), next to plaintext FedAvg of
 * the same updates measured in the same run (the 1× baseline: float32 on the wire, a Java sum).
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
            names = "--json",
            description = "Print the figures as one JSON object (the last line of stdout) after the table.")
    boolean json;

    public static void main(String[] args) {
        System.exit(new CommandLine(new PipelineBench()).execute(args));
    }

    /** A trainer whose update is a fixed random delta: training is not what is measured here. */
    record FixedTrainer(float[] delta) implements LocalTrainer {
        @Override
        public int parameterCount() {
            return delta.length;
        }

        @Override
        public long sampleCount() {
            return 100;
        }

        @Override
        public LocalUpdate fit(float[] base, int epochs) {
            return new LocalUpdate(delta.clone(), 100, Map.of());
        }
    }

    @Override
    public Integer call() throws Exception {
        Path work = Files.createTempDirectory("fedseal-bench");
        List<String> rows = new ArrayList<>();
        List<Map<String, Object>> figures = new ArrayList<>();
        try (FederatedDeployment d = FederatedDeployment.start(work, Map.of(), 0);
                HeContext he = HeContext.create(HeParameters.CKKS_8192);
                HeKeyPair keys = he.generateKeys()) {
            RegistryClient admin = d.adminClient();
            for (int p : sizes) {
                String model = "bench-" + p;
                admin.registerModel(
                        model, "bench", HeParameters.CKKS_8192.id(), ModelWeights.encode(new float[p]), null);
                admin.putHePublicKey(model, keys.publicKey().toBytes());
                List<FederatedClient> fleet = new ArrayList<>();
                List<float[]> deltas = new ArrayList<>();
                Random rnd = new Random(p);
                for (int c = 0; c < clients; c++) {
                    float[] delta = new float[p];
                    for (int i = 0; i < p; i++) {
                        delta[i] = (float) (rnd.nextGaussian() * 1e-3);
                    }
                    deltas.add(delta);
                    SigningKeyPair id = SigningKeyPair.generate();
                    admin.enrollClient(model + "-c" + c, id.publicKey(), List.of(model));
                    fleet.add(FederatedClient.builder(Map.of(
                                    ClientConfig.BOOTSTRAP_SERVERS,
                                    d.bootstrapServers(),
                                    ClientConfig.CLIENT_ID,
                                    model + "-c" + c))
                            .trainer(new FixedTrainer(delta))
                            .modelSource(new RegistryModelSource(
                                    RegistryClient.create(d.registry().uri())))
                            .signingKey(id.privateKey())
                            .build());
                }
                try (TopicFeed<RoundOpened> feed =
                        new TopicFeed<>(d.bootstrapServers(), Topics.ROUNDS, RoundOpened.class)) {
                    long t0 = System.nanoTime();
                    // clip norm 100, each client's weight (100) and their total: fits ckks-8192-v1's headroom up to
                    // 3,355 clients
                    RoundInfo info =
                            admin.openRound(model, clients, Duration.ofMinutes(10), 1, 6, 100, 100L * clients, 100);
                    RoundOpened round = feed.await(
                            o -> o.getModelId().equals(model) && o.getRound() == info.round(), Duration.ofSeconds(60));
                    long encryptNanos = 0;
                    long bytes = 0;
                    for (FederatedClient c : fleet) {
                        long s = System.nanoTime();
                        SubmissionReceipt r = c.participate(round);
                        encryptNanos += System.nanoTime() - s;
                        bytes += r.bytesSent();
                    }
                    long sent = System.nanoTime();
                    awaitAggregate(d.bootstrapServers(), model, info.round());
                    long done = System.nanoTime();

                    // The 1x baseline: the same updates as plaintext FedAvg (float32 on the wire, a Java sum).
                    long b0 = System.nanoTime();
                    double[] sum = new double[p];
                    for (float[] delta : deltas) {
                        byte[] wire = ModelWeights.encode(delta);
                        float[] back = ModelWeights.decode(wire);
                        for (int i = 0; i < p; i++) {
                            sum[i] += 100.0 * back[i];
                        }
                    }
                    long plainNanos = System.nanoTime() - b0;
                    double roundS = (done - t0) / 1e9;
                    double aggS = (done - sent) / 1e9;
                    rows.add(String.format(
                            "%-9d %-7d %10.2f %14.1f %12.2f %10.2f %16.1f %14.3f",
                            p,
                            clients,
                            roundS,
                            encryptNanos / 1e6 / clients,
                            (double) bytes / clients / p,
                            4.0,
                            bytes / 1e6 / Math.max(aggS, 1e-9),
                            plainNanos / 1e9));
                    Map<String, Object> f = new java.util.LinkedHashMap<>();
                    f.put("params", p);
                    f.put("clients", clients);
                    f.put("roundSeconds", roundS);
                    f.put("clientEncryptSendMs", encryptNanos / 1e6 / clients);
                    f.put("bytesPerParam", (double) bytes / clients / p);
                    f.put("plainBytesPerParam", 4.0);
                    f.put("aggregatorMBps", bytes / 1e6 / Math.max(aggS, 1e-9));
                    f.put("plainFedAvgSeconds", plainNanos / 1e9);
                    figures.add(f);
                }
                for (FederatedClient c : fleet) {
                    c.close(Duration.ofSeconds(5));
                }
            }
        }
        System.out.println();
        System.out.printf(
                "%-9s %-7s %10s %14s %12s %10s %16s %14s%n",
                "params",
                "clients",
                "round s",
                "client enc+send ms",
                "B/param",
                "plain B/p",
                "agg MB/s (after)",
                "plain FedAvg s");
        rows.forEach(System.out::println);
        System.out.println(
                "client enc+send: training is a fixed delta, so this is clip + encrypt + sign + produce per client;"
                        + " agg MB/s: ciphertext bytes of the round / time from the last send to the committed aggregate.");
        if (json) {
            System.out.println(
                    new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(Map.of("rounds", figures)));
        }
        return 0;
    }

    private static void awaitAggregate(String bootstrap, String model, int round) {
        try (TopicFeed<AggregatePublished> aggregates =
                new TopicFeed<>(bootstrap, Topics.AGGREGATES, AggregatePublished.class)) {
            aggregates.await(a -> a.getModelId().equals(model) && a.getRound() == round, Duration.ofMinutes(10));
        }
    }
}
