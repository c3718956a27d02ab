package org.fedseal.aggregator;

import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Metric;
import org.apache.flink.metrics.MetricConfig;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.reporter.MetricReporter;
import org.apache.flink.metrics.reporter.MetricReporterFactory;

/**
 * A Flink metric reporter for tests of in-process jobs: it keeps every counter of the JVM's
 * MiniCluster, by operator name, metric name and subtask index. Enable with
 * {@code flink.metrics.reporter.mem.factory.class=org.fedseal.aggregator.InMemoryMetricReporter}.
 */
public final class InMemoryMetricReporter implements MetricReporter, MetricReporterFactory {
    /** "operator/metric/subtask" → counter. */
    static final Map<String, Counter> COUNTERS = new ConcurrentHashMap<>();

    /** The counter {@code metric} of subtask {@code subtask} of the operator {@code operator}, or -1. */
    static long count(String operator, String metric, int subtask) {
        Counter c = COUNTERS.get(operator + "/" + metric + "/" + subtask);
        return c == null ? -1 : c.getCount();
    }

    @Override
    public MetricReporter createMetricReporter(Properties properties) {
        return new InMemoryMetricReporter();
    }

    @Override
    public void open(MetricConfig config) {}

    @Override
    public void close() {}

    @Override
    public void notifyOfAddedMetric(Metric metric, String name, MetricGroup group) {
        if (metric instanceof Counter c) {
            Map<String, String> v = group.getAllVariables();
            COUNTERS.put(v.get("<operator_name>") + "/" + name + "/" + v.get("<subtask_index>"), c);
        }
    }

    @Override
    public void notifyOfRemovedMetric(Metric metric, String name, MetricGroup group) {}
}
