package org.fedseal.client.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.RetriableException;
import org.fedseal.client.SubmissionException;
import org.fedseal.protocol.UpdateKey;
import org.fedseal.protocol.WireCodec;
import org.fedseal.protocol.wire.UpdateChunk;
import org.fedseal.protocol.wire.UpdateCommit;
import org.fedseal.protocol.wire.UpdateEnvelope;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Produces one update (chunks, then the commit once every chunk is acknowledged) to the updates
 * topic, retrying the whole update after transient failures. Re-sending is safe: the update keeps
 * its id and the aggregator drops duplicates. Not public API.
 */
public final class UpdateSender {
    private static final Logger LOG = LoggerFactory.getLogger(UpdateSender.class);

    private final Producer<byte[], byte[]> producer;
    private final String topic;
    private final int retries;
    private final long backoffMs;
    private final long timeoutMs;

    /** Creates a sender; the producer stays owned by the caller. */
    public UpdateSender(Producer<byte[], byte[]> producer, String topic, int retries, long backoffMs, long timeoutMs) {
        this.producer = Objects.requireNonNull(producer, "producer");
        this.topic = Objects.requireNonNull(topic, "topic");
        this.retries = retries;
        this.backoffMs = backoffMs;
        this.timeoutMs = timeoutMs;
    }

    /**
     * Sends the chunks, waits for their acknowledgement, then sends and waits for the commit.
     *
     * @return bytes of record values written
     */
    public long send(UpdateKey key, List<UpdateChunk> chunks, UpdateCommit commit) throws SubmissionException {
        byte[] k = key.toBytes();
        List<byte[]> values = new ArrayList<>(chunks.size());
        long bytes = 0;
        for (UpdateChunk c : chunks) {
            byte[] v = WireCodec.UNBOUNDED.encode(new UpdateEnvelope(c));
            values.add(v);
            bytes += v.length;
        }
        byte[] commitValue = WireCodec.UNBOUNDED.encode(new UpdateEnvelope(commit));
        bytes += commitValue.length;
        for (int attempt = 0; ; attempt++) {
            try {
                List<Future<RecordMetadata>> acks = new ArrayList<>();
                for (byte[] v : values) {
                    acks.add(producer.send(new ProducerRecord<>(topic, k, v)));
                }
                producer.flush();
                await(acks);
                await(List.of(producer.send(new ProducerRecord<>(topic, k, commitValue))));
                return bytes;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SubmissionException(
                        SubmissionException.Reason.INTERRUPTED, "interrupted while sending " + key, e);
            } catch (ExecutionException | TimeoutException | RuntimeException e) {
                Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
                boolean transient_ = cause instanceof RetriableException || cause instanceof TimeoutException;
                if (!transient_ || attempt >= retries) {
                    throw new SubmissionException(
                            SubmissionException.Reason.TRANSPORT_FAILED,
                            (transient_
                                            ? "gave up after " + (attempt + 1) + " attempts: "
                                            : "permanent Kafka failure: ")
                                    + cause,
                            cause);
                }
                LOG.warn(
                        "transient failure sending update {} (attempt {}/{}): {}",
                        key,
                        attempt + 1,
                        retries + 1,
                        cause.toString());
                try {
                    Thread.sleep(backoffMs);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new SubmissionException(
                            SubmissionException.Reason.INTERRUPTED, "interrupted during retry", ie);
                }
            }
        }
    }

    private void await(List<Future<RecordMetadata>> acks)
            throws InterruptedException, ExecutionException, TimeoutException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        for (Future<RecordMetadata> f : acks) {
            f.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        }
    }
}
