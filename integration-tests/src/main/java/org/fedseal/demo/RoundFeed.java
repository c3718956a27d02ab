package org.fedseal.demo;

import java.time.Duration;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.fedseal.protocol.Topics;
import org.fedseal.protocol.WireCodec;
import org.fedseal.protocol.WireFormatException;
import org.fedseal.protocol.wire.RoundOpened;

/** Reads RoundOpened announcements from the rounds topic, as clients learn of rounds. */
final class RoundFeed implements AutoCloseable {
  private final KafkaConsumer<byte[], byte[]> consumer;

  RoundFeed(String bootstrapServers) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.GROUP_ID_CONFIG, "fedseal-demo-rounds-" + System.nanoTime());
    consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    consumer.subscribe(List.of(Topics.ROUNDS));
  }

  RoundOpened await(String modelId, int round, Duration timeout) {
    long end = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < end) {
      for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
        try {
          RoundOpened o = WireCodec.DEFAULT.decode(r.value(), RoundOpened.class);
          if (o.getModelId().equals(modelId) && o.getRound() == round) {
            return o;
          }
        } catch (WireFormatException e) {
          // not ours to judge here; the aggregator rejects and reports it
        }
      }
    }
    throw new IllegalStateException("no RoundOpened for " + modelId + "/" + round + " on " + Topics.ROUNDS + " within " + timeout);
  }

  @Override
  public void close() {
    consumer.close(Duration.ofSeconds(2));
  }
}
