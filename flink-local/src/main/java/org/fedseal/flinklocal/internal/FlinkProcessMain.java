package org.fedseal.flinklocal.internal;

import java.lang.reflect.Method;
import java.util.Arrays;
import java.util.Optional;

/**
 * Entry point of every Flink JVM that {@code LocalFlinkCluster} starts: a parent-death watchdog in
 * front of a Flink main class ({@code args[0]}; the rest are its arguments).
 *
 * <p>Runs on Flink's classpath and uses nothing but the JDK. If the JVM that started the cluster
 * disappears without running its shutdown hooks (e.g. {@code kill -9} of a test JVM), this halts the
 * Flink process, so no JobManager or TaskManager is ever left behind. Not API.
 */
public final class FlinkProcessMain {

    /** System property holding the pid of the JVM that owns this process. */
    public static final String PARENT_PID_PROPERTY = "fedseal.flinklocal.parentPid";

    private FlinkProcessMain() {}

    /**
     * Starts the parent watchdog, then runs {@code args[0].main(args[1..])}.
     *
     * @param args the Flink main class, then its arguments
     * @throws Exception if the main class cannot be run
     */
    public static void main(String[] args) throws Exception {
        String parentPid = System.getProperty(PARENT_PID_PROPERTY);
        if (parentPid != null) {
            Optional<ProcessHandle> parent = ProcessHandle.of(Long.parseLong(parentPid));
            if (parent.isEmpty() || !parent.get().isAlive()) {
                System.err.println("flink-local: owner process " + parentPid + " is gone; not starting");
                System.exit(3);
            }
            parent.get().onExit().thenRun(() -> {
                System.err.println("flink-local: owner process exited; stopping");
                Runtime.getRuntime().halt(4);
            });
        }
        Method main = Class.forName(args[0]).getMethod("main", String[].class);
        main.invoke(null, (Object) Arrays.copyOfRange(args, 1, args.length));
    }
}
