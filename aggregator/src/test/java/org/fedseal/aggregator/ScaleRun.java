package org.fedseal.aggregator;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.fedseal.kafkalocal.LocalKafkaBroker;
import org.fedseal.protocol.WireCodec;
import org.fedseal.protocol.wire.AggregatePublished;
import org.fedseal.protocol.wire.AggregateStatus;
import org.fedseal.protocol.wire.ChunkLayout;
import org.fedseal.protocol.wire.RoundOpened;
import org.fedseal.protocol.wire.UpdateAccepted;

/**
 * One round at scale on this machine: {@code clients} updates of {@code parameters} values each
 * (default 1,000 × 100,000: ~1.7 GB of ciphertext) through the job on a real local broker.
 * {@code distinct} updates are encrypted and replayed under every client's identity (each re-signed
 * as its own update), all produced before the job starts; the job then runs at the given
 * parallelism. Prints the round time (job start to the signed manifest), the job's rate between
 * the first and last UpdateAccepted, its peak heap (sum of the heap pools' peaks in this JVM, which
 * runs the MiniCluster) and the decryption error. Not a test: {@code ./fedseal bench scale}.
 */
public final class ScaleRun {
    private ScaleRun() {}

    public static void main(String[] args) throws Exception {
        int clients = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        int parameters = args.length > 1 ? Integer.parseInt(args[1]) : 100_000;
        int parallelism = args.length > 2 ? Integer.parseInt(args[2]) : 2;
        int distinct = Math.min(clients, 20);
        Path work = Files.createTempDirectory("fedseal-scale");
        try {
            run(clients, parameters, parallelism, distinct, work);
        } finally {
            org.apache.flink.util.FileUtils.deleteDirectoryQuietly(work.toFile()); // the broker's logs: GBs
        }
    }

    private static void run(int clients, int parameters, int parallelism, int distinct, Path work) throws Exception {
        String p = "scale";
        try (LocalKafkaBroker kafka = LocalKafkaBroker.builder()
                        .workDir(work.resolve("kafka"))
                        .start();
                Fleet fleet = new Fleet(kafka.bootstrapServers())) {
            kafka.createTopics(Fleet.topics(p, 2));
            ChunkLayout layout = Fleet.layout(parameters, 6);
            String[] ids = new String[clients];
            for (int i = 0; i < clients; i++) {
                ids[i] = "c" + i;
            }
            fleet.enrol(p, ids);
            RoundOpened round = fleet.round("scale-model", 1, clients, System.currentTimeMillis() + 3_600_000, layout);
            fleet.openRound(p, round);
            long t = System.nanoTime();
            List<double[]> plains = new ArrayList<>();
            List<List<byte[]>> encrypted = new ArrayList<>();
            for (int i = 0; i < distinct; i++) {
                double[] v = fleet.randomValues((int) layout.getTotalValues());
                plains.add(v);
                encrypted.add(fleet.encrypt(v, layout));
            }
            long bytes = 0;
            List<double[]> summed = new ArrayList<>();
            for (int i = 0; i < clients; i++) {
                Fleet.Update u = fleet.update(
                        ids[i], round, ids[i] + "-u", 1, plains.get(i % distinct), encrypted.get(i % distinct));
                fleet.sendUpdate(p, u);
                summed.add(u.plain());
                bytes += encrypted.get(i % distinct).stream()
                        .mapToLong(b -> b.length)
                        .sum();
                if ((i + 1) % 100 == 0) {
                    System.err.printf(
                            "  produced %d/%d updates (%.0f MB) in %.0f s%n",
                            i + 1, clients, bytes / 1e6, (System.nanoTime() - t) / 1e9);
                }
            }
            System.err.printf(
                    "%d updates x %d parameters (%d ciphertexts, %.2f GB) produced in %.0f s; starting the job at parallelism %d%n",
                    clients,
                    parameters,
                    layout.getCiphertextCount(),
                    bytes / 1e9,
                    (System.nanoTime() - t) / 1e9,
                    parallelism);

            AggregatorConfig config = fleet.config(p)
                    .set(AggregatorConfig.PARALLELISM, parallelism)
                    .set(AggregatorConfig.MAX_RECORD_BYTES, WireCodec.DEFAULT_MAX_RECORD_BYTES)
                    .set(AggregatorConfig.PENDING_GRACE_MS, 120_000) // 1,000 enrolments race the pre-produced updates
                    .build();
            ManagementFactory.getMemoryPoolMXBeans().forEach(MemoryPoolMXBean::resetPeakUsage);
            long start = System.nanoTime();
            try (LocalAggregator job = AggregatorJob.runLocal(config, work.resolve("ckpt"));
                    Fleet.Reader aggregates = fleet.reader(p + ".aggregates");
                    Fleet.Reader accepted = fleet.reader(p + ".accepted")) {
                AggregatePublished agg = aggregates
                        .await(AggregatePublished.class, v -> !v.isEmpty(), Duration.ofMinutes(30))
                        .get(0);
                double roundSeconds = (System.nanoTime() - start) / 1e9;
                long peakHeap = ManagementFactory.getMemoryPoolMXBeans().stream()
                        .filter(m -> m.getType() == MemoryType.HEAP)
                        .mapToLong(m -> m.getPeakUsage().getUsed())
                        .sum();
                List<UpdateAccepted> acc =
                        accepted.await(UpdateAccepted.class, v -> v.size() >= clients, Duration.ofMinutes(5));
                long first = acc.stream()
                        .mapToLong(UpdateAccepted::getAcceptedAtEpochMillis)
                        .min()
                        .orElseThrow();
                long last = acc.stream()
                        .mapToLong(UpdateAccepted::getAcceptedAtEpochMillis)
                        .max()
                        .orElseThrow();
                double err = Fleet.maxError(Fleet.sum(summed), fleet.decrypt(agg));
                System.out.printf(
                        "%s%n",
                        String.join(
                                "\n",
                                "scale run: " + clients + " clients x " + parameters + " parameters, "
                                        + layout.getCiphertextCount() + " ciphertexts ("
                                        + String.format("%.2f", bytes / 1e9) + " GB) per round, parallelism "
                                        + parallelism,
                                String.format("  round time (job start to signed manifest): %.1f s", roundSeconds),
                                String.format(
                                        "  job rate (first to last UpdateAccepted):    %.1f MB/s",
                                        bytes / 1e6 / Math.max(0.001, (last - first) / 1e3)),
                                String.format(
                                        "  peak heap of the job's JVM:                 %d MB (-Xmx %d MB)",
                                        peakHeap >> 20, Runtime.getRuntime().maxMemory() >> 20),
                                String.format(
                                        "  aggregate %s, %d accepted, max decryption error %.2e",
                                        agg.getStatus(), agg.getAcceptedCount(), err)));
                if (agg.getStatus() != AggregateStatus.COMPLETED || agg.getAcceptedCount() != clients || err > 1e-3) {
                    throw new IllegalStateException(
                            "the scale run's aggregate is wrong: " + agg.getStatus() + ", error " + err);
                }
            }
        }
    }
}
