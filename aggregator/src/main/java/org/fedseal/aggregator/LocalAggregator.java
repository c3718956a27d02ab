package org.fedseal.aggregator;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.core.execution.JobClient;

/** A running in-process aggregator job ({@link AggregatorJob#runLocal}). {@link #close()} cancels it. */
public final class LocalAggregator implements AutoCloseable {
    private final JobClient client;
    private final Path checkpointDir;

    LocalAggregator(JobClient client, Path checkpointDir) {
        this.client = client;
        this.checkpointDir = checkpointDir;
    }

    /** The Flink job id. */
    public JobID jobId() {
        return client.getJobID();
    }

    /** Where checkpoints are written. */
    public Path checkpointDir() {
        return checkpointDir;
    }

    /** The job's status. */
    public JobStatus status() throws ExecutionException, InterruptedException, TimeoutException {
        return client.getJobStatus().get(10, TimeUnit.SECONDS);
    }

    /** Waits until the job's status is RUNNING. */
    public void awaitRunning(Duration timeout) throws Exception {
        long end = System.nanoTime() + timeout.toNanos();
        while (status() != JobStatus.RUNNING) {
            if (System.nanoTime() > end) {
                throw new IllegalStateException("job not running after " + timeout + ": " + status());
            }
            Thread.sleep(50);
        }
    }

    /** Blocks until the job ends (it normally never does). */
    public void awaitTermination() throws Exception {
        client.getJobExecutionResult().get();
    }

    /**
     * Cancels the job (waits up to 30 s). An interrupt ends the wait and is kept on the thread.
     *
     * @throws TimeoutException if the job did not answer or cancel within the wait
     */
    @Override
    public void close() throws TimeoutException {
        try {
            JobStatus s = status();
            if (!s.isGloballyTerminalState()) {
                client.cancel().get(30, TimeUnit.SECONDS);
            }
        } catch (ExecutionException e) {
            // already gone
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
