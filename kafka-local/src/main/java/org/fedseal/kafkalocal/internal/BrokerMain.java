package org.fedseal.kafkalocal.internal;

import java.lang.reflect.Method;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Entry point of the broker child process: a parent-death watchdog in front of {@code kafka.Kafka}.
 *
 * <p>Runs on the broker's classpath only and therefore uses nothing but the JDK. If the JVM that
 * started the broker disappears without running its shutdown hooks (for example {@code kill -9} of a
 * test JVM), this watchdog stops the broker, so no broker process is ever left behind. Not API.
 */
public final class BrokerMain {

    /** System property holding the pid of the JVM that owns this broker. */
    public static final String PARENT_PID_PROPERTY = "fedseal.kafkalocal.parentPid";

    private BrokerMain() {}

    /**
     * Starts the parent watchdog, then runs {@code kafka.Kafka.main(args)}.
     *
     * @param args passed unchanged to {@code kafka.Kafka}
     * @throws Exception if {@code kafka.Kafka} cannot be started
     */
    public static void main(String[] args) throws Exception {
        String parentPid = System.getProperty(PARENT_PID_PROPERTY);
        if (parentPid != null) {
            Optional<ProcessHandle> parent = ProcessHandle.of(Long.parseLong(parentPid));
            if (parent.isEmpty() || !parent.get().isAlive()) {
                System.err.println("kafka-local: owner process " + parentPid + " is gone; not starting");
                System.exit(3);
            }
            parent.get().onExit().thenRun(BrokerMain::ownerGone);
        }
        Class<?> kafka = Class.forName("kafka.Kafka");
        Method main = kafka.getMethod("main", String[].class);
        main.invoke(null, (Object) args);
    }

    private static void ownerGone() {
        System.err.println("kafka-local: owner process exited; stopping the broker");
        Thread halter = new Thread(
                () -> {
                    try {
                        TimeUnit.SECONDS.sleep(20);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    Runtime.getRuntime().halt(4);
                },
                "kafka-local-halter");
        halter.setDaemon(true);
        halter.start();
        System.exit(0); // runs Kafka's own shutdown hook (clean shutdown)
    }
}
