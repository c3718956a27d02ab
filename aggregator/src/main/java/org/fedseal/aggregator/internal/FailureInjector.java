package org.fedseal.aggregator.internal;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.state.CheckpointListener;

/**
 * TEST ONLY (enabled by {@code test.fail.after.records}): on the first execution attempt, throws
 * once it has seen the given number of update records and at least one checkpoint has completed,
 * so that the job restarts from a checkpoint in the middle of a round.
 */
public final class FailureInjector extends RichMapFunction<Inbound, Inbound> implements CheckpointListener {
    private static final long serialVersionUID = 1L;
    /** How many failures were injected in this JVM (tests with an in-process MiniCluster read it). */
    public static final java.util.concurrent.atomic.AtomicInteger INJECTED =
            new java.util.concurrent.atomic.AtomicInteger();

    private final long failAfter;
    private transient long seen;
    private transient long checkpoints;
    private transient boolean armed;

    public FailureInjector(long failAfter) {
        this.failAfter = failAfter;
    }

    @Override
    public void open(OpenContext openContext) {
        armed = failAfter > 0 && getRuntimeContext().getTaskInfo().getAttemptNumber() == 0;
    }

    @Override
    public Inbound map(Inbound value) {
        if (value.source == Inbound.UPDATE) {
            seen++;
            if (armed && seen > failAfter && checkpoints > 0) {
                armed = false;
                INJECTED.incrementAndGet();
                throw new IllegalStateException(
                        "injected failure after " + failAfter + " update records (test.fail.after.records)");
            }
        }
        return value;
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) {
        checkpoints++;
    }
}
