package org.fedseal.aggregator.internal;

/** One output record: which topic (one of the constants), key and Avro value. A Flink POJO. */
public class Outbound {
    public static final int AGGREGATE = 0;
    public static final int ACCEPTED = 1;
    public static final int REJECTED = 2;
    public static final int AGGREGATE_CHUNK = 3;

    public int topic;
    public byte[] key;
    public byte[] value;

    public Outbound() {}

    public Outbound(int topic, byte[] key, byte[] value) {
        this.topic = topic;
        this.key = key;
        this.value = value;
    }
}
