package org.fedseal.aggregator.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Who used the machine's CPU while the bench measured: this JVM, the Kafka broker's process, and
 * every other process (anything else running on the machine disturbs the figures). Samples
 * Linux's {@code /proc/stat} and {@code /proc/PID/stat} every {@link #PERIOD_MILLIS} ms on a
 * daemon thread; {@link #during} then splits any past interval. Where {@code /proc} is missing it
 * reports nothing ({@link Shares#UNKNOWN}).
 */
final class MachineCpu implements AutoCloseable {
    static final long PERIOD_MILLIS = 100;

    /** Shares of the whole machine (all cores) over an interval, each in [0, 1]; NaN if unknown. */
    record Shares(double busy, double self, double broker) {
        static final Shares UNKNOWN = new Shares(Double.NaN, Double.NaN, Double.NaN);

        /** What processes other than this JVM and the broker used. */
        double others() {
            return Math.max(0, busy - self - broker);
        }

        @Override
        public String toString() {
            return Double.isNaN(busy)
                    ? "unknown"
                    : String.format(
                            "this JVM %.0f %%, broker %.0f %%, other processes %.0f %%",
                            100 * self, 100 * broker, 100 * others());
        }
    }

    private record Sample(long millis, long totalTicks, long busyTicks, long selfTicks, long brokerTicks) {}

    private final long brokerPid;
    private final List<Sample> samples = new ArrayList<>();
    private final Thread sampler;
    private volatile boolean running = true;

    MachineCpu(long brokerPid) {
        this.brokerPid = brokerPid;
        sampler = new Thread(this::run, "bench-machine-cpu");
        sampler.setDaemon(true);
        sampler.start();
    }

    private void run() {
        long self = ProcessHandle.current().pid();
        try {
            while (running) {
                String[] cpu =
                        Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
                long total = 0;
                for (int i = 1; i <= 8 && i < cpu.length; i++) { // user .. steal (guest time is within user)
                    total += Long.parseLong(cpu[i]);
                }
                long idle = Long.parseLong(cpu[4]) + Long.parseLong(cpu[5]); // idle + iowait
                Sample s = new Sample(
                        System.currentTimeMillis(), total, total - idle, processTicks(self), processTicks(brokerPid));
                synchronized (samples) {
                    samples.add(s);
                }
                Thread.sleep(PERIOD_MILLIS);
            }
        } catch (IOException | RuntimeException | InterruptedException e) {
            // no /proc (not Linux) or the sampler was stopped: what was sampled stays usable
        }
    }

    /** User + system ticks of a process so far (0 once it is gone). */
    private static long processTicks(long pid) throws IOException {
        Path stat = Path.of("/proc", Long.toString(pid), "stat");
        if (!Files.exists(stat)) {
            return 0;
        }
        String s = Files.readString(stat);
        String[] f = s.substring(s.lastIndexOf(')') + 2).split(" "); // fields from the 3rd on
        return Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime: fields 14 and 15
    }

    /** The shares between the last sample at or before {@code fromMillis} and the first at or after {@code toMillis}. */
    Shares during(long fromMillis, long toMillis) {
        Sample a = null;
        Sample b = null;
        synchronized (samples) {
            for (Sample s : samples) {
                if (s.millis() <= fromMillis) {
                    a = s;
                }
                if (b == null && s.millis() >= toMillis) {
                    b = s;
                }
            }
        }
        if (a == null || b == null || b.totalTicks() == a.totalTicks()) {
            return Shares.UNKNOWN;
        }
        double total = b.totalTicks() - a.totalTicks();
        return new Shares(
                (b.busyTicks() - a.busyTicks()) / total,
                (b.selfTicks() - a.selfTicks()) / total,
                (b.brokerTicks() - a.brokerTicks()) / total);
    }

    @Override
    public void close() {
        running = false;
        sampler.interrupt();
    }
}
