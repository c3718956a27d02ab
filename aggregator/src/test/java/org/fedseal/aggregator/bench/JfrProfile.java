package org.fedseal.aggregator.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.text.ParseException;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import jdk.jfr.Configuration;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordedThread;
import jdk.jfr.consumer.RecordingFile;

/**
 * A JDK Flight Recorder profile of the job under the bench ({@code --jfr FILE}), and its summary.
 *
 * <p>The recording uses JFR's {@code profile} settings with method sampling every
 * {@link #SAMPLE_PERIOD}, CPU load every {@link #CPU_LOAD_PERIOD} and waits from
 * {@link #WAIT_THRESHOLD} on. The summary counts only events inside a time window (the bench
 * passes the job's measurement window, first to last {@code UpdateAccepted} of round 2, so
 * start-up and shut-down are left out) and prints:
 * <ul>
 *   <li>the machine's and this JVM's CPU use ({@code jdk.CPULoad}; the rest is other processes,
 *       e.g. the Kafka broker) and the GC pauses ({@code jdk.GarbageCollection}) in the window;
 *   <li>threads: CPU use (% of one core, from {@code jdk.ThreadCPULoad}) and sample counts;
 *   <li>top self frames: the top-of-stack method of every {@code jdk.ExecutionSample}, i.e. Java
 *       code on the CPU;
 *   <li>he-native frames: {@code jdk.NativeMethodSample}s whose top frame is one of our JNI
 *       methods, i.e. time inside SEAL. JFR takes those samples separately (on JDK 17 one thread
 *       in native code per period, picked in turn among all threads in native code, most of which
 *       wait for I/O), so their counts rank SEAL calls against each other but are not comparable
 *       to Java sample counts; a thread's CPU % minus its Java samples' share shows its native time;
 *   <li>top inclusive {@code org.fedseal} frames: samples with that method anywhere on the stack,
 *       Java and he-native separately;
 *   <li>where the sampled threads wait ({@code jdk.ThreadPark}, {@code jdk.JavaMonitorWait},
 *       {@code jdk.JavaMonitorEnter}), by the first frame outside the JDK: an operator that waits
 *       for input, for output buffers (back-pressure) or for a lock.
 * </ul>
 * The same file opens in JDK Mission Control, or with {@code jfr summary FILE} and
 * {@code jfr print --events jdk.ExecutionSample FILE}. {@link #main} summarises any recording.
 */
final class JfrProfile implements AutoCloseable {
    static final Duration SAMPLE_PERIOD = Duration.ofMillis(1);
    static final Duration CPU_LOAD_PERIOD = Duration.ofMillis(100);
    static final Duration WAIT_THRESHOLD = Duration.ofMillis(1);
    private static final List<String> WAIT_EVENTS =
            List.of("jdk.ThreadPark", "jdk.JavaMonitorWait", "jdk.JavaMonitorEnter");
    /** Rows per frame table. */
    static final int TOP = 15;

    private static final String OURS = "org.fedseal.";

    private final Recording recording;
    private final Path file;

    private JfrProfile(Recording recording, Path file) {
        this.recording = recording;
        this.file = file;
    }

    /** Starts recording this JVM; {@link #stop()} writes {@code file}. */
    static JfrProfile start(Path file) throws IOException, ParseException {
        Recording r = new Recording(Configuration.getConfiguration("profile").getSettings());
        r.setName("fedseal-aggregator-bench");
        r.enable("jdk.ExecutionSample").withPeriod(SAMPLE_PERIOD);
        r.enable("jdk.NativeMethodSample").withPeriod(SAMPLE_PERIOD);
        r.enable("jdk.ThreadCPULoad").withPeriod(CPU_LOAD_PERIOD);
        r.enable("jdk.CPULoad").withPeriod(CPU_LOAD_PERIOD);
        WAIT_EVENTS.forEach(e -> r.enable(e).withThreshold(WAIT_THRESHOLD).withStackTrace());
        r.start();
        return new JfrProfile(r, file);
    }

    /** Stops recording and writes the file. */
    void stop() throws IOException {
        recording.stop();
        recording.dump(file);
    }

    @Override
    public void close() {
        recording.close();
    }

    /**
     * Prints the summary of the events of {@code file} within [{@code from}, {@code to}].
     *
     * @param cores the recording machine's core count (JFR's thread CPU load is a share of all cores)
     */
    static void summarise(Path file, Instant from, Instant to, int cores, PrintStream out) throws IOException {
        Summary summary = new Summary(from, to, cores);
        try (RecordingFile rf = new RecordingFile(file)) {
            while (rf.hasMoreEvents()) {
                summary.accept(rf.readEvent());
            }
        }
        summary.print(file, out);
    }

    /** A thread (by id) and the first frame outside the JDK where it waited. */
    private record WaitSite(long thread, String site) {}

    /** Per-thread counts. */
    private static final class ThreadStats {
        final long id;
        final String name;
        long javaSamples;
        long jniSamples;
        double cpuLoadSum;
        long cpuLoadCount;

        ThreadStats(long id, String name) {
            this.id = id;
            this.name = name;
        }

        double cpuLoad() {
            return cpuLoadCount == 0 ? 0 : cpuLoadSum / cpuLoadCount;
        }

        /** Busy enough for its waits to matter: at least 2 % of the samples. */
        boolean busy(long samples) {
            return javaSamples + jniSamples >= Math.max(1, 0.02 * samples);
        }
    }

    /** The counts of one window, filled event by event. */
    private static final class Summary {
        private final Instant from;
        private final Instant to;
        private final int cores;
        /** By thread id: names repeat (every Flink task has its own "AsyncOperations-thread-1"). */
        private final Map<Long, ThreadStats> threads = new HashMap<>();

        private final Map<String, Long> selfJava = new HashMap<>();
        private final Map<String, Long> selfJni = new HashMap<>();
        private final Map<String, Long> inclusiveJava = new HashMap<>();
        private final Map<String, Long> inclusiveJni = new HashMap<>();
        /** Milliseconds within the window. */
        private final Map<WaitSite, Double> waitMillis = new HashMap<>();

        private final Map<String, Long> gcCauses = new HashMap<>();
        private double gcPauseMillis;
        private double jvmLoad;
        private double machineLoad;
        private long loadSamples;
        private long java;
        private long jni;
        private long otherNative;

        Summary(Instant from, Instant to, int cores) {
            this.from = from;
            this.to = to;
            this.cores = cores;
        }

        void accept(RecordedEvent e) {
            String type = e.getEventType().getName();
            if (WAIT_EVENTS.contains(type)) { // may start before the window: count the part inside
                Instant start = e.getStartTime().isBefore(from) ? from : e.getStartTime();
                Instant end = e.getEndTime().isAfter(to) ? to : e.getEndTime();
                if (end.isAfter(start)) {
                    waitMillis.merge(
                            new WaitSite(stats(e.getThread()).id, waitSite(e.getStackTrace())),
                            Duration.between(start, end).toNanos() / 1e6,
                            Double::sum);
                }
                return;
            }
            if (e.getStartTime().isBefore(from) || e.getStartTime().isAfter(to)) {
                return;
            }
            switch (type) {
                case "jdk.ExecutionSample" -> {
                    RecordedStackTrace st = e.getStackTrace();
                    if (st != null && !st.getFrames().isEmpty()) {
                        java++;
                        stats(e.getThread("sampledThread")).javaSamples++;
                        increment(selfJava, name(st.getFrames().get(0)));
                        ourFrames(st).forEach(f -> increment(inclusiveJava, f));
                    }
                }
                case "jdk.NativeMethodSample" -> {
                    RecordedStackTrace st = e.getStackTrace();
                    if (st == null
                            || st.getFrames().isEmpty()
                            || !name(st.getFrames().get(0)).startsWith(OURS)) {
                        otherNative++;
                    } else {
                        jni++;
                        stats(e.getThread("sampledThread")).jniSamples++;
                        increment(selfJni, name(st.getFrames().get(0)));
                        ourFrames(st).forEach(f -> increment(inclusiveJni, f));
                    }
                }
                case "jdk.CPULoad" -> {
                    jvmLoad += e.getFloat("jvmUser") + e.getFloat("jvmSystem");
                    machineLoad += e.getFloat("machineTotal");
                    loadSamples++;
                }
                case "jdk.GarbageCollection" -> {
                    gcPauseMillis += e.getDuration("sumOfPauses").toNanos() / 1e6;
                    increment(gcCauses, e.getString("cause"));
                }
                case "jdk.ThreadCPULoad" -> {
                    ThreadStats t = stats(e.getThread());
                    t.cpuLoadSum += (e.getFloat("user") + e.getFloat("system")) * cores;
                    t.cpuLoadCount++;
                }
                default -> {}
            }
        }

        void print(Path file, PrintStream out) {
            double seconds = Duration.between(from, to).toMillis() / 1000.0;
            long loads = Math.max(1, loadSamples);
            out.printf(
                    "%nJFR profile %s: %.2f s window, %d Java samples (jdk.ExecutionSample every %d ms), "
                            + "%d he-native samples and %d other native samples (jdk.NativeMethodSample every %d ms)%n",
                    file, seconds, java, SAMPLE_PERIOD.toMillis(), jni, otherNative, SAMPLE_PERIOD.toMillis());
            out.printf(
                    "  CPU: the machine %.0f %% busy (of %d cores), this JVM %.0f %%, other processes (the broker, ...) %.0f %%%n",
                    100 * machineLoad / loads, cores, 100 * jvmLoad / loads, 100 * (machineLoad - jvmLoad) / loads);
            out.printf(
                    "  GC: %d collections, %.0f ms of pauses (%.1f %% of the window); causes: %s%n",
                    gcCauses.values().stream().mapToLong(Long::longValue).sum(),
                    gcPauseMillis,
                    100 * gcPauseMillis / 1000 / seconds,
                    gcCauses);

            TextTable t = new TextTable("thread (busiest 8)", "CPU, % of a core", "Java samples", "he-native samples");
            threads.values().stream()
                    .sorted(Comparator.comparingDouble((ThreadStats x) -> -x.cpuLoad())
                            .thenComparingLong(x -> -x.javaSamples))
                    .limit(8)
                    .forEach(x -> t.row(
                            x.name,
                            String.format("%.0f", 100 * x.cpuLoad()),
                            Long.toString(x.javaSamples),
                            Long.toString(x.jniSamples)));
            out.println();
            t.print(out, "  ");
            printTop(out, "top " + TOP + " self frames (Java on the CPU)", selfJava, java);
            printTop(out, "he-native frames (inside SEAL)", selfJni, jni);

            TextTable inc = new TextTable(
                    "top inclusive org.fedseal frames",
                    "Java samples",
                    "% of Java",
                    "he-native samples",
                    "% of he-native");
            Set<String> names = new HashSet<>(inclusiveJava.keySet());
            names.addAll(inclusiveJni.keySet());
            names.stream()
                    .sorted(Comparator.comparingDouble(
                            (String n) -> -(share(inclusiveJava.get(n), java) + share(inclusiveJni.get(n), jni))))
                    .limit(TOP)
                    .forEach(n -> inc.row(
                            n,
                            count(inclusiveJava.get(n)),
                            TextTable.percent(share(inclusiveJava.get(n), java)),
                            count(inclusiveJni.get(n)),
                            TextTable.percent(share(inclusiveJni.get(n), jni))));
            out.println();
            inc.print(out, "  ");

            TextTable w = new TextTable(
                    "busy threads, where they wait (parks, monitors >= " + WAIT_THRESHOLD.toMillis() + " ms)",
                    "ms",
                    "% of window");
            waitMillis.entrySet().stream()
                    .filter(x -> threads.get(x.getKey().thread()).busy(java + jni))
                    .sorted(Map.Entry.<WaitSite, Double>comparingByValue().reversed())
                    .limit(TOP)
                    .forEach(x -> w.row(
                            threads.get(x.getKey().thread()).name + ": "
                                    + x.getKey().site(),
                            String.format("%.0f", x.getValue()),
                            TextTable.percent(x.getValue() / 1000 / seconds)));
            out.println();
            w.print(out, "  ");
        }

        private ThreadStats stats(RecordedThread t) {
            long id = t == null ? -1 : t.getJavaThreadId() >= 0 ? t.getJavaThreadId() : -2 - t.getOSThreadId();
            return threads.computeIfAbsent(id, k -> new ThreadStats(k, threadName(t)));
        }
    }

    /** The first frame outside the JDK: who waits. */
    private static String waitSite(RecordedStackTrace st) {
        if (st == null || st.getFrames().isEmpty()) {
            return "?";
        }
        for (RecordedFrame f : st.getFrames()) {
            String n = name(f);
            if (!n.startsWith("java.") && !n.startsWith("jdk.") && !n.startsWith("sun.")) {
                return n;
            }
        }
        return name(st.getFrames().get(0));
    }

    private static void printTop(PrintStream out, String title, Map<String, Long> counts, long total) {
        TextTable t = new TextTable(title, "samples", "%");
        counts.entrySet().stream()
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .limit(TOP)
                .forEach(x ->
                        t.row(x.getKey(), Long.toString(x.getValue()), TextTable.percent(share(x.getValue(), total))));
        out.println();
        t.print(out, "  ");
    }

    /** Our methods on the stack, each once, innermost first. */
    private static Set<String> ourFrames(RecordedStackTrace st) {
        Set<String> s = new LinkedHashSet<>();
        for (RecordedFrame f : st.getFrames()) {
            String n = name(f);
            if (n.startsWith(OURS)) {
                s.add(n);
            }
        }
        return s;
    }

    private static String name(RecordedFrame f) {
        return f.getMethod().getType().getName() + "." + f.getMethod().getName();
    }

    private static String threadName(RecordedThread t) {
        return t == null ? "?" : t.getJavaName() != null ? t.getJavaName() : t.getOSName();
    }

    private static void increment(Map<String, Long> m, String key) {
        m.merge(key, 1L, Long::sum);
    }

    private static double share(Long n, long total) {
        return n == null || total == 0 ? 0 : (double) n / total;
    }

    private static String count(Long n) {
        return n == null ? "0" : n.toString();
    }

    /**
     * Summarises a whole recording: {@code JfrProfile FILE}. Thread CPU % assumes the recording
     * was made on a machine with this one's core count.
     */
    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: JfrProfile FILE.jfr");
            System.exit(2);
        }
        List<Instant> bounds = bounds(Path.of(args[0]));
        summarise(
                Path.of(args[0]),
                bounds.get(0),
                bounds.get(1),
                Runtime.getRuntime().availableProcessors(),
                System.out);
    }

    private static List<Instant> bounds(Path file) throws IOException {
        Instant first = Instant.MAX;
        Instant last = Instant.MIN;
        try (RecordingFile rf = new RecordingFile(file)) {
            while (rf.hasMoreEvents()) {
                Instant t = rf.readEvent().getStartTime();
                first = t.isBefore(first) ? t : first;
                last = t.isAfter(last) ? t : last;
            }
        }
        return List.of(first, last);
    }
}
