package org.fedseal.flinklocal;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.fedseal.flinklocal.internal.FlinkProcessMain;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A stock Apache Flink standalone session cluster on 127.0.0.1: one JobManager and N TaskManagers,
 * each its own JVM, started from a Flink distribution directory ({@code lib/}, {@code
 * bin/bash-java-utils.jar}) exactly as Flink's {@code jobmanager.sh}/{@code taskmanager.sh} start
 * them; jobs are submitted with Flink's CLI front end ({@code CliFrontend run}, what {@code bin/flink
 * run} runs).
 *
 * <p>The cluster's {@code config.yaml} is written to {@code <workDir>/conf} (also the configuration
 * the CLI front end reads, so job defaults set there apply to submitted jobs); logs go to {@code
 * <workDir>/log}. Ports are free ports on 127.0.0.1, never hard-coded.
 *
 * <p>{@link #close()} stops every process (SIGTERM, then SIGKILL) and is idempotent; a JVM shutdown
 * hook closes clusters that were not closed, and each Flink JVM halts itself when the JVM that
 * started it dies. Instances are thread-safe.
 */
public final class LocalFlinkCluster implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(LocalFlinkCluster.class);

    /** Flink's usual JVM options on Java 17 ({@code env.java.opts.all} of Flink's default config). */
    public static final List<String> JAVA17_OPTIONS = List.of(
            "--add-exports=java.base/sun.net.util=ALL-UNNAMED",
            "--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED",
            "--add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED",
            "--add-opens=java.base/java.lang=ALL-UNNAMED",
            "--add-opens=java.base/java.net=ALL-UNNAMED",
            "--add-opens=java.base/java.io=ALL-UNNAMED",
            "--add-opens=java.base/java.nio=ALL-UNNAMED",
            "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
            "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
            "--add-opens=java.base/java.text=ALL-UNNAMED",
            "--add-opens=java.base/java.time=ALL-UNNAMED",
            "--add-opens=java.base/java.util=ALL-UNNAMED",
            "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
            "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED",
            "--add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED");

    private static final String JOB_MANAGER = "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint";
    private static final String TASK_MANAGER = "org.apache.flink.runtime.taskexecutor.TaskManagerRunner";
    private static final String CLI = "org.apache.flink.client.cli.CliFrontend";
    private static final String BASH_JAVA_UTILS = "org.apache.flink.runtime.util.bash.BashJavaUtils";
    private static final String EXEC_RESULT = "BASH_JAVA_UTILS_EXEC_RESULT:";
    private static final Pattern JOB_ID = Pattern.compile("JobID ([0-9a-f]{32})");

    private final Builder config;
    private final Path workDir;
    private final Path confDir;
    private final Path logDir;
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final Object lock = new Object();
    private final List<Process> taskManagers = new ArrayList<>();

    private int restPort;
    private Process jobManager;
    private List<String> tmJvmOptions;
    private List<String> tmDynamicProperties;
    private Thread shutdownHook;
    private boolean closed;

    private LocalFlinkCluster(Builder config) {
        this.config = config;
        this.workDir = config.workDir.toAbsolutePath();
        this.confDir = workDir.resolve("conf");
        this.logDir = workDir.resolve("log");
    }

    /**
     * Returns a builder; {@link Builder#flinkHome(Path)} is required.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Returns {@code http://127.0.0.1:<port>}, the JobManager's REST endpoint (also the web UI).
     *
     * @return the REST address
     */
    public String restAddress() {
        return "http://127.0.0.1:" + restPort;
    }

    /**
     * Returns the directory holding the cluster's {@code config.yaml}.
     *
     * @return the configuration directory
     */
    public Path confDir() {
        return confDir;
    }

    /**
     * Returns the directory of the processes' logs.
     *
     * @return the log directory
     */
    public Path logDir() {
        return logDir;
    }

    /**
     * Returns the pids of the TaskManager processes that are alive, in start order.
     *
     * @return live TaskManager pids
     */
    public List<Long> taskManagerPids() {
        synchronized (lock) {
            return taskManagers.stream()
                    .filter(Process::isAlive)
                    .map(Process::pid)
                    .toList();
        }
    }

    /**
     * Returns the pid of the JobManager process.
     *
     * @return the JobManager's pid
     */
    public long jobManagerPid() {
        synchronized (lock) {
            return jobManager.pid();
        }
    }

    // ------------------------------------------------------------------------------------------ processes

    private void doStart() throws IOException {
        Files.createDirectories(confDir);
        Files.createDirectories(logDir);
        int[] ports = freePorts(2);
        restPort = ports[1];
        Map<String, String> conf = new LinkedHashMap<>();
        conf.put("jobmanager.rpc.address", "127.0.0.1");
        conf.put("jobmanager.rpc.port", Integer.toString(ports[0]));
        conf.put("jobmanager.bind-host", "127.0.0.1");
        conf.put("taskmanager.bind-host", "127.0.0.1");
        conf.put("taskmanager.host", "127.0.0.1");
        conf.put("rest.address", "127.0.0.1");
        conf.put("rest.bind-address", "127.0.0.1");
        conf.put("rest.port", Integer.toString(restPort));
        conf.put("jobmanager.memory.process.size", config.jobManagerMemory);
        conf.put("taskmanager.memory.process.size", config.taskManagerMemory);
        conf.put("taskmanager.numberOfTaskSlots", Integer.toString(config.slotsPerTaskManager));
        conf.put("parallelism.default", Integer.toString(config.taskManagers * config.slotsPerTaskManager));
        // A killed TaskManager is noticed within seconds (RPC failures), not the default 50 s.
        conf.put("heartbeat.interval", "1000");
        conf.put("heartbeat.timeout", "10000");
        conf.put("env.java.opts.all", String.join(" ", JAVA17_OPTIONS));
        conf.putAll(config.settings);
        writeConfig(conf);
        writeLog4jConfig();

        synchronized (lock) {
            if (shutdownHook == null) {
                shutdownHook = new Thread(this::stopAll, "flink-local-shutdown-" + restPort);
                Runtime.getRuntime().addShutdownHook(shutdownHook);
            }
        }
        long deadline = System.nanoTime() + config.startupTimeout.toNanos();
        List<List<String>> jmParams = resourceParams("GET_JM_RESOURCE_PARAMS");
        List<String> jm = new ArrayList<>(jmParams.get(0));
        jm.add(JOB_MANAGER);
        jm.addAll(List.of("--configDir", confDir.toString()));
        jm.addAll(jmParams.get(1));
        synchronized (lock) {
            jobManager = launch(flinkJvm(jm, "jobmanager"), "jobmanager");
        }
        List<List<String>> tm = resourceParams("GET_TM_RESOURCE_PARAMS");
        tmJvmOptions = tm.get(0);
        tmDynamicProperties = tm.get(1);
        for (int i = 0; i < config.taskManagers; i++) {
            startTaskManagerProcess();
        }
        awaitTaskManagers(config.taskManagers, deadline);
        LOG.info(
                "Flink cluster ready at {} (JobManager pid {}, TaskManagers {}, logs {})",
                restAddress(),
                jobManagerPid(),
                taskManagerPids(),
                logDir);
    }

    /**
     * Starts one more TaskManager (e.g. after {@link #killTaskManager(int)}) and waits until the
     * JobManager counts {@code live TaskManagers} registered.
     *
     * @return the new TaskManager's pid
     */
    public long startTaskManager() {
        long pid = startTaskManagerProcess();
        awaitTaskManagers(taskManagerPids().size(), System.nanoTime() + config.startupTimeout.toNanos());
        return pid;
    }

    private long startTaskManagerProcess() {
        synchronized (lock) {
            if (closed) {
                throw new IllegalStateException("cluster is closed");
            }
            String name = "taskmanager-" + taskManagers.size();
            List<String> args = new ArrayList<>(tmJvmOptions);
            args.add(TASK_MANAGER);
            args.addAll(List.of("--configDir", confDir.toString()));
            args.addAll(tmDynamicProperties);
            Process p = launch(flinkJvm(args, name), name);
            taskManagers.add(p);
            return p.pid();
        }
    }

    /**
     * Kills the {@code index}-th live TaskManager with SIGKILL ({@code kill -9}): no shutdown, as a
     * crash or a lost host.
     *
     * @param index among {@link #taskManagerPids()}
     * @return the killed pid
     */
    public long killTaskManager(int index) {
        long pid = taskManagerPids().get(index);
        ProcessHandle.of(pid).ifPresent(h -> {
            h.destroyForcibly();
            h.onExit().join();
        });
        LOG.info("killed TaskManager pid {} (SIGKILL)", pid);
        return pid;
    }

    private List<String> flinkJvm(List<String> jvmOptionsThenMain, String name) {
        List<String> cmd = new ArrayList<>();
        cmd.add(javaBinary());
        cmd.addAll(JAVA17_OPTIONS);
        cmd.add("-Dlog.file=" + logDir.resolve(name + ".log"));
        cmd.add("-Dlog4j.configurationFile="
                + confDir.resolve("log4j.properties").toUri());
        cmd.add("-D" + FlinkProcessMain.PARENT_PID_PROPERTY + "="
                + ProcessHandle.current().pid());
        int main = indexOfMain(jvmOptionsThenMain);
        cmd.addAll(jvmOptionsThenMain.subList(0, main));
        cmd.add("-cp");
        cmd.add(flinkClasspath() + ownCodeSource());
        cmd.add(FlinkProcessMain.class.getName());
        cmd.addAll(jvmOptionsThenMain.subList(main, jvmOptionsThenMain.size()));
        return cmd;
    }

    private static int indexOfMain(List<String> args) {
        for (int i = 0; i < args.size(); i++) {
            if (args.get(i).startsWith("org.apache.flink.")) {
                return i;
            }
        }
        throw new IllegalArgumentException("no Flink main class in " + args);
    }

    private Process launch(List<String> cmd, String name) {
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .directory(workDir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(
                        logDir.resolve(name + ".out").toFile()));
        pb.environment().put("FLINK_CONF_DIR", confDir.toString());
        pb.environment().put("FLINK_LOG_DIR", logDir.toString());
        try {
            Process p = pb.start();
            LOG.debug("started {} pid {}: {}", name, p.pid(), cmd);
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + name, e);
        }
    }

    /** Runs {@code BashJavaUtils <command> --configDir conf} as the scripts do: its two result lines, split. */
    private List<List<String>> resourceParams(String command) {
        List<String> cmd = new ArrayList<>(List.of(
                javaBinary(),
                "-cp",
                config.flinkHome.resolve("bin/bash-java-utils.jar") + File.pathSeparator + flinkClasspath(),
                BASH_JAVA_UTILS,
                command,
                "--configDir",
                confDir.toString()));
        String out = run(cmd, Duration.ofSeconds(60), "BashJavaUtils " + command);
        List<List<String>> results = new ArrayList<>();
        for (String line : out.split("\\R")) {
            if (line.startsWith(EXEC_RESULT)) {
                String value = line.substring(EXEC_RESULT.length()).trim();
                results.add(value.isEmpty() ? List.of() : List.of(value.split("\\s+")));
            }
        }
        if (results.size() < 2) {
            throw new IllegalStateException("BashJavaUtils " + command + " printed no results:\n" + out);
        }
        return results;
    }

    /**
     * Submits a job jar detached with Flink's CLI front end ({@code flink run -d -p N jar args}) and
     * returns the job id it printed.
     *
     * @param jobJar      the job's (shaded) jar
     * @param parallelism the job's default parallelism
     * @param args        the job's program arguments
     * @return the 32-hex-digit job id
     * @throws IllegalStateException if the CLI fails; the message carries its output
     */
    public String submit(Path jobJar, int parallelism, String... args) {
        return submit(jobJar, parallelism, null, args);
    }

    /**
     * Like {@link #submit(Path, int, String...)}, restoring the job's state from a retained
     * checkpoint or savepoint ({@code flink run -s PATH}); {@code null} starts it fresh.
     *
     * @param jobJar      the job's (shaded) jar
     * @param parallelism the job's default parallelism
     * @param restoreFrom a checkpoint ({@code .../chk-N}) or savepoint directory, or null
     * @param args        the job's program arguments
     * @return the 32-hex-digit job id
     */
    public String submit(Path jobJar, int parallelism, Path restoreFrom, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(javaBinary());
        cmd.addAll(JAVA17_OPTIONS);
        cmd.add("-Dlog.file=" + logDir.resolve("client.log"));
        cmd.add("-Dlog4j.configurationFile="
                + confDir.resolve("log4j.properties").toUri());
        cmd.addAll(List.of(
                "-cp",
                flinkClasspath(),
                CLI,
                "run",
                "-d",
                "-m",
                "127.0.0.1:" + restPort,
                "-p",
                Integer.toString(parallelism)));
        if (restoreFrom != null) {
            cmd.addAll(List.of("-s", restoreFrom.toUri().toString()));
        }
        cmd.add(jobJar.toAbsolutePath().toString());
        cmd.addAll(List.of(args));
        String out = run(cmd, Duration.ofMinutes(2), "flink run " + jobJar.getFileName());
        Matcher m = JOB_ID.matcher(out);
        if (!m.find()) {
            throw new IllegalStateException("flink run printed no job id:\n" + out);
        }
        LOG.info("submitted {} as job {}", jobJar.getFileName(), m.group(1));
        return m.group(1);
    }

    private String run(List<String> cmd, Duration timeout, String what) {
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(workDir.toFile()).redirectErrorStream(true);
        pb.environment().put("FLINK_CONF_DIR", confDir.toString());
        try {
            Path out = Files.createTempFile(logDir, "cmd-", ".out");
            pb.redirectOutput(out.toFile());
            Process p = pb.start();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(what + " timed out after " + timeout + ":\n" + Files.readString(out));
            }
            String text = Files.readString(out);
            if (p.exitValue() != 0) {
                throw new IllegalStateException(what + " failed (exit " + p.exitValue() + "):\n" + text);
            }
            return text;
        } catch (IOException e) {
            throw new UncheckedIOException(what, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted: " + what, e);
        }
    }

    // ------------------------------------------------------------------------------------------ REST

    /**
     * Returns the body of {@code GET <rest address><path>} (JSON), e.g. {@code /overview}.
     *
     * @param path the REST path
     * @return the response body
     * @throws IllegalStateException on a non-2xx status or when the JobManager does not answer
     */
    public String get(String path) {
        return send(HttpRequest.newBuilder(URI.create(restAddress() + path)).GET());
    }

    private String send(HttpRequest.Builder request) {
        try {
            HttpResponse<String> r = http.send(
                    request.timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            if (r.statusCode() / 100 != 2) {
                throw new IllegalStateException(
                        r.request().method() + " " + r.request().uri() + ": HTTP " + r.statusCode() + " " + r.body());
            }
            return r.body();
        } catch (IOException e) {
            throw new IllegalStateException("Flink REST " + restAddress() + " does not answer: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /**
     * Returns the job's state ({@code RUNNING}, {@code RESTARTING}, {@code FAILED}, ...).
     *
     * @param jobId the job id
     * @return its state
     */
    public String jobState(String jobId) {
        return field(get("/jobs/" + jobId), "state");
    }

    /**
     * Tells whether the job is {@code RUNNING} with every task of every vertex running.
     *
     * @param jobId the job id
     * @return {@code true} when fully running
     */
    public boolean isFullyRunning(String jobId) {
        String job = get("/jobs/" + jobId);
        if (!"RUNNING".equals(field(job, "state"))) {
            return false;
        }
        Matcher counts = Pattern.compile("\"tasks\":\\{([^}]*)\\}").matcher(job);
        while (counts.find()) {
            for (String entry : counts.group(1).split(",")) {
                String[] kv = entry.split(":");
                if (!kv[0].equals("\"RUNNING\"") && Long.parseLong(kv[1].trim()) != 0) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * Waits until the job {@link #isFullyRunning(String) runs fully}.
     *
     * @param jobId   the job id
     * @param timeout how long to wait
     * @throws IllegalStateException on timeout or when the job reaches a terminal state
     */
    public void awaitJobRunning(String jobId, Duration timeout) {
        long end = System.nanoTime() + timeout.toNanos();
        String state = "?";
        while (System.nanoTime() < end) {
            try {
                if (isFullyRunning(jobId)) {
                    return;
                }
                state = jobState(jobId);
                if (state.equals("FAILED") || state.equals("CANCELED") || state.equals("FINISHED")) {
                    break;
                }
            } catch (IllegalStateException notYet) {
                state = notYet.getMessage();
            }
            sleep(200);
        }
        throw new IllegalStateException("job " + jobId + " not running after " + timeout + " (state " + state
                + "); exceptions: " + safeGet("/jobs/" + jobId + "/exceptions") + "; logs in " + logDir);
    }

    /**
     * Returns how many failures the job's exception history holds ({@code /jobs/<id>/exceptions}): one
     * entry per failure that made it restart or fail, served from the JobManager's current execution
     * graph (unlike the {@code numRestarts} metric, which the REST endpoint serves from a cache that can
     * lag behind). Grows by at least one when a TaskManager running the job dies.
     *
     * @param jobId the job id
     * @return failures so far
     */
    public int failures(String jobId) {
        String json = get("/jobs/" + jobId + "/exceptions?maxExceptions=1000");
        int at = json.indexOf("\"exceptionHistory\"");
        if (at < 0) {
            return 0;
        }
        Matcher m = Pattern.compile("\"exceptionName\"").matcher(json.substring(at));
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }

    /**
     * Returns how often the job has restarted ({@code numRestarts}), as far as the REST endpoint's
     * metric cache knows (it may lag; {@link #failures(String)} does not).
     *
     * @param jobId the job id
     * @return the number of restarts
     */
    public long restarts(String jobId) {
        Matcher m = Pattern.compile("\"value\":\"(\\d+)\"").matcher(get("/jobs/" + jobId + "/metrics?get=numRestarts"));
        return m.find() ? Long.parseLong(m.group(1)) : 0;
    }

    /**
     * Returns the number of completed checkpoints of the job.
     *
     * @param jobId the job id
     * @return completed checkpoints so far
     */
    public long completedCheckpoints(String jobId) {
        Matcher m = Pattern.compile("\"completed\":(\\d+)").matcher(get("/jobs/" + jobId + "/checkpoints"));
        return m.find() ? Long.parseLong(m.group(1)) : 0;
    }

    /**
     * Cancels the job ({@code PATCH /jobs/<id>?mode=cancel}) and waits until it is canceled.
     *
     * @param jobId the job id
     */
    public void cancel(String jobId) {
        send(HttpRequest.newBuilder(URI.create(restAddress() + "/jobs/" + jobId + "?mode=cancel"))
                .method("PATCH", HttpRequest.BodyPublishers.noBody()));
        long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < end && !jobState(jobId).equals("CANCELED")) {
            sleep(200);
        }
    }

    private String safeGet(String path) {
        try {
            String body = get(path);
            return body.length() > 4000 ? body.substring(0, 4000) + "..." : body;
        } catch (RuntimeException e) {
            return e.getMessage();
        }
    }

    private void awaitTaskManagers(int n, long deadline) {
        while (true) {
            Process jm;
            synchronized (lock) {
                jm = jobManager;
            }
            if (!jm.isAlive()) {
                throw new IllegalStateException("Flink JobManager exited with code " + jm.exitValue() + "; see "
                        + logDir.resolve("jobmanager.log") + " and jobmanager.out");
            }
            try {
                String overview = get("/overview");
                Matcher tms = Pattern.compile("\"taskmanagers\":(\\d+)").matcher(overview);
                if (tms.find() && Integer.parseInt(tms.group(1)) >= n) {
                    return;
                }
            } catch (IllegalStateException notYet) {
                // REST endpoint not up yet
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("Flink cluster: fewer than " + n + " TaskManagers registered within "
                        + config.startupTimeout + "; logs in " + logDir);
            }
            sleep(200);
        }
    }

    private static String field(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\":\"([^\"]*)\"").matcher(json);
        if (!m.find()) {
            throw new IllegalStateException("no \"" + name + "\" in " + json);
        }
        return m.group(1);
    }

    // ------------------------------------------------------------------------------------------ stop

    /**
     * Stops the TaskManagers and the JobManager (SIGTERM, then SIGKILL after a grace period).
     * Idempotent. The work directory (configuration, checkpoints if configured there, logs) stays.
     */
    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
        }
        stopAll();
        synchronized (lock) {
            if (shutdownHook != null && Thread.currentThread() != shutdownHook) {
                try {
                    Runtime.getRuntime().removeShutdownHook(shutdownHook);
                } catch (IllegalStateException alreadyShuttingDown) {
                    // the hook runs stopAll(), which is idempotent
                }
            }
        }
    }

    private void stopAll() {
        List<Process> all = new ArrayList<>();
        synchronized (lock) {
            all.addAll(taskManagers);
            if (jobManager != null) {
                all.add(jobManager);
            }
        }
        for (Process p : all) {
            p.destroy();
        }
        long end = System.nanoTime() + config.shutdownTimeout.toNanos();
        for (Process p : all) {
            try {
                if (!p.waitFor(
                        Math.max(1, TimeUnit.NANOSECONDS.toMillis(end - System.nanoTime())), TimeUnit.MILLISECONDS)) {
                    p.destroyForcibly();
                    p.waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public String toString() {
        return "LocalFlinkCluster[" + restAddress() + ", workDir=" + workDir + "]";
    }

    // ------------------------------------------------------------------------------------------ helpers

    private String flinkClasspath() {
        return config.flinkHome.resolve("lib").toAbsolutePath() + File.separator + "*";
    }

    private static String ownCodeSource() {
        try {
            return File.pathSeparator
                    + Path.of(FlinkProcessMain.class
                            .getProtectionDomain()
                            .getCodeSource()
                            .getLocation()
                            .toURI());
        } catch (URISyntaxException | RuntimeException e) {
            throw new IllegalStateException("cannot locate flink-local's own classes", e);
        }
    }

    private static String javaBinary() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private void writeConfig(Map<String, String> conf) throws IOException {
        StringBuilder yaml = new StringBuilder("# written by flink-local's LocalFlinkCluster\n");
        conf.forEach((k, v) -> yaml.append(k)
                .append(": \"")
                .append(v.replace("\\", "\\\\").replace("\"", "\\\""))
                .append("\"\n"));
        Files.writeString(confDir.resolve("config.yaml"), yaml.toString(), StandardCharsets.UTF_8);
    }

    private void writeLog4jConfig() throws IOException {
        Files.writeString(
                confDir.resolve("log4j.properties"),
                String.join(
                        "\n",
                        "rootLogger.level = INFO",
                        "rootLogger.appenderRef.file.ref = MainAppender",
                        "logger.kafka.name = org.apache.kafka",
                        "logger.kafka.level = WARN",
                        "appender.main.name = MainAppender",
                        "appender.main.type = File",
                        "appender.main.append = true",
                        "appender.main.fileName = ${sys:log.file}",
                        "appender.main.layout.type = PatternLayout",
                        "appender.main.layout.pattern = %d{HH:mm:ss,SSS} %-5p %-60c %x - %m%n",
                        ""),
                StandardCharsets.UTF_8);
    }

    private static int[] freePorts(int n) {
        List<ServerSocket> sockets = new ArrayList<>();
        try {
            int[] ports = new int[n];
            for (int i = 0; i < n; i++) {
                ServerSocket s = new ServerSocket();
                s.setReuseAddress(true);
                s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                sockets.add(s);
                ports[i] = s.getLocalPort();
            }
            return ports;
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot find free ports", e);
        } finally {
            for (ServerSocket s : sockets) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // best effort
                }
            }
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** Options for a {@link LocalFlinkCluster}; {@link #start()} starts it. */
    public static final class Builder {
        private Path flinkHome;
        private Path workDir;
        private int taskManagers = 2;
        private int slotsPerTaskManager = 1;
        private String jobManagerMemory = "1024m";
        private String taskManagerMemory = "1280m";
        private Duration startupTimeout = Duration.ofSeconds(120);
        private Duration shutdownTimeout = Duration.ofSeconds(15);
        private final Map<String, String> settings = new LinkedHashMap<>();

        private Builder() {}

        /**
         * Sets the Flink distribution: a directory with {@code lib/flink-dist-*.jar} and {@code
         * bin/bash-java-utils.jar} (what {@code scripts/flink-dist.sh} prints). Required.
         *
         * @param flinkHome the distribution directory
         * @return this builder
         */
        public Builder flinkHome(Path flinkHome) {
            this.flinkHome = Objects.requireNonNull(flinkHome, "flinkHome").toAbsolutePath();
            return this;
        }

        /**
         * Sets the work directory ({@code conf/}, {@code log/}). Default: a new temporary directory.
         *
         * @param workDir the work directory
         * @return this builder
         */
        public Builder workDir(Path workDir) {
            this.workDir = Objects.requireNonNull(workDir, "workDir");
            return this;
        }

        /**
         * Sets the number of TaskManagers started at first. Default 2.
         *
         * @param n TaskManagers
         * @return this builder
         */
        public Builder taskManagers(int n) {
            this.taskManagers = n;
            return this;
        }

        /**
         * Sets {@code taskmanager.numberOfTaskSlots}. Default 1.
         *
         * @param n slots per TaskManager
         * @return this builder
         */
        public Builder slotsPerTaskManager(int n) {
            this.slotsPerTaskManager = n;
            return this;
        }

        /**
         * Sets {@code taskmanager.memory.process.size} (Flink's memory syntax). Default {@code 1280m}.
         *
         * @param size e.g. {@code "1g"}
         * @return this builder
         */
        public Builder taskManagerMemory(String size) {
            this.taskManagerMemory = Objects.requireNonNull(size, "size");
            return this;
        }

        /**
         * Sets {@code jobmanager.memory.process.size}. Default {@code 1024m}.
         *
         * @param size e.g. {@code "1g"}
         * @return this builder
         */
        public Builder jobManagerMemory(String size) {
            this.jobManagerMemory = Objects.requireNonNull(size, "size");
            return this;
        }

        /**
         * Sets (or overrides) a {@code config.yaml} entry, e.g. {@code execution.checkpointing.dir};
         * the cluster's and, through the CLI front end, the submitted jobs' defaults.
         *
         * @param key   Flink configuration key
         * @param value its value
         * @return this builder
         */
        public Builder set(String key, String value) {
            settings.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
            return this;
        }

        /**
         * Sets how long the start may take until every TaskManager is registered. Default 120 s.
         *
         * @param timeout the startup timeout
         * @return this builder
         */
        public Builder startupTimeout(Duration timeout) {
            this.startupTimeout = Objects.requireNonNull(timeout, "timeout");
            return this;
        }

        /**
         * Starts the JobManager and the TaskManagers and waits until all are registered.
         *
         * @return the running cluster
         * @throws IllegalStateException if it does not come up; the message names the log directory
         */
        public LocalFlinkCluster start() {
            Objects.requireNonNull(flinkHome, "flinkHome");
            if (!Files.isDirectory(flinkHome.resolve("lib"))
                    || !Files.isRegularFile(flinkHome.resolve("bin/bash-java-utils.jar"))) {
                throw new IllegalStateException(
                        flinkHome + " is not a Flink distribution (lib/, bin/bash-java-utils.jar);"
                                + " scripts/flink-dist.sh fetches one");
            }
            Builder b = copy();
            try {
                if (b.workDir == null) {
                    b.workDir = Files.createTempDirectory("flink-local-");
                }
                LocalFlinkCluster cluster = new LocalFlinkCluster(b);
                try {
                    cluster.doStart();
                } catch (RuntimeException | IOException e) {
                    cluster.close();
                    throw e;
                }
                return cluster;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot start the Flink cluster", e);
            }
        }

        private Builder copy() {
            Builder b = new Builder();
            b.flinkHome = flinkHome;
            b.workDir = workDir;
            b.taskManagers = taskManagers;
            b.slotsPerTaskManager = slotsPerTaskManager;
            b.jobManagerMemory = jobManagerMemory;
            b.taskManagerMemory = taskManagerMemory;
            b.startupTimeout = startupTimeout;
            b.shutdownTimeout = shutdownTimeout;
            b.settings.putAll(settings);
            return b;
        }
    }
}
