package org.fedseal.protocol;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A server {@link Strategy}'s state between versions (e.g. FedAdam's first and second moments),
 * immutable, with one canonical byte encoding. {@code ModelVersionPublished.optimizerStateHash} is
 * the SHA-256 of {@link #encode()} (empty for a stateless strategy, whose state is {@link #EMPTY});
 * the registry stores the bytes under that hash, like weights, so an auditor fetches a parent's
 * state and re-derives the child bit for bit.
 *
 * <p>Encoding (all integers unsigned little-endian): {@link #EMPTY} is the empty byte string;
 * otherwise {@code "FSOS"} (4 ASCII bytes), format {@code 1} (1 byte), the strategy name's length
 * (2 bytes) and UTF-8 bytes, the number of vectors (4 bytes), then per vector its length (4 bytes)
 * and its values as IEEE-754 float64 little-endian. Values are finite; {@code -0.0} is kept bit for
 * bit. The name makes a state self-describing: a strategy resumes only its own state
 * ({@link Strategy#resume}).
 */
public final class StrategyState {
    /** The state of a stateless strategy (FedAvg, FedProx); encodes to no bytes. */
    public static final StrategyState EMPTY = new StrategyState("", List.of());

    private static final byte[] MAGIC = {'F', 'S', 'O', 'S'};
    private static final int FORMAT = 1;
    private final String strategy;
    private final List<double[]> vectors;

    private StrategyState(String strategy, List<double[]> vectors) {
        this.strategy = strategy;
        this.vectors = vectors;
    }

    /**
     * A state of {@code strategy} holding copies of {@code vectors} (in order).
     *
     * @throws IllegalArgumentException if the name is empty or longer than 65535 UTF-8 bytes, there
     *     are no vectors, or a value is not finite
     */
    public static StrategyState of(String strategy, List<double[]> vectors) {
        Objects.requireNonNull(strategy, "strategy");
        Objects.requireNonNull(vectors, "vectors");
        if (strategy.isEmpty() || strategy.getBytes(StandardCharsets.UTF_8).length > 0xFFFF) {
            throw new IllegalArgumentException("a strategy state names its strategy (1..65535 UTF-8 bytes)");
        }
        if (vectors.isEmpty()) {
            throw new IllegalArgumentException(
                    "a non-empty strategy state holds at least one vector; use StrategyState.EMPTY");
        }
        List<double[]> copy = new ArrayList<>(vectors.size());
        for (int v = 0; v < vectors.size(); v++) {
            double[] values = vectors.get(v).clone();
            for (int i = 0; i < values.length; i++) {
                if (!Double.isFinite(values[i])) {
                    throw new IllegalArgumentException(strategy + " state vector " + v
                            + " has a non-finite value at index " + i + ": " + values[i]);
                }
            }
            copy.add(values);
        }
        return new StrategyState(strategy, List.copyOf(copy));
    }

    /**
     * Parses {@link #encode()} output (strictly: every byte accounted for).
     *
     * @throws IllegalArgumentException if the bytes are not a canonical encoding
     */
    public static StrategyState decode(byte[] bytes) {
        Objects.requireNonNull(bytes, "bytes");
        if (bytes.length == 0) {
            return EMPTY;
        }
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        try {
            byte[] magic = new byte[MAGIC.length];
            b.get(magic);
            if (!java.util.Arrays.equals(magic, MAGIC) || b.get() != FORMAT) {
                throw new IllegalArgumentException("not a strategy state (format FSOS 1)");
            }
            byte[] name = new byte[Short.toUnsignedInt(b.getShort())];
            b.get(name);
            long count = Integer.toUnsignedLong(b.getInt());
            List<double[]> vectors = new ArrayList<>();
            for (long v = 0; v < count; v++) {
                long length = Integer.toUnsignedLong(b.getInt());
                if (length * 8 > b.remaining()) {
                    throw new IllegalArgumentException("strategy state vector " + v + " declares " + length
                            + " values, " + b.remaining() + " bytes remain");
                }
                double[] values = new double[(int) length];
                b.asDoubleBuffer().get(values);
                b.position(b.position() + 8 * values.length);
                vectors.add(values);
            }
            if (b.hasRemaining()) {
                throw new IllegalArgumentException("strategy state has " + b.remaining() + " trailing bytes");
            }
            StrategyState s = of(new String(name, StandardCharsets.UTF_8), vectors);
            if (!java.util.Arrays.equals(s.encode(), bytes)) {
                throw new IllegalArgumentException("strategy state is not canonically encoded");
            }
            return s;
        } catch (java.nio.BufferUnderflowException e) {
            throw new IllegalArgumentException("strategy state is truncated (" + bytes.length + " bytes)");
        }
    }

    /** The canonical encoding (see the class comment); empty for {@link #EMPTY}. */
    public byte[] encode() {
        if (isEmpty()) {
            return new byte[0];
        }
        byte[] name = strategy.getBytes(StandardCharsets.UTF_8);
        long size = MAGIC.length + 1 + 2 + name.length + 4;
        for (double[] v : vectors) {
            size += 4 + 8L * v.length;
        }
        ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(size)).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).put((byte) FORMAT).putShort((short) name.length).put(name).putInt(vectors.size());
        for (double[] v : vectors) {
            b.putInt(v.length);
            b.asDoubleBuffer().put(v);
            b.position(b.position() + 8 * v.length);
        }
        return b.array();
    }

    /** True for {@link #EMPTY} (a stateless strategy). */
    public boolean isEmpty() {
        return vectors.isEmpty();
    }

    /** The strategy this state belongs to ({@code ""} for {@link #EMPTY}). */
    public String strategy() {
        return strategy;
    }

    /** Number of vectors. */
    public int size() {
        return vectors.size();
    }

    /** A copy of vector {@code i}. */
    public double[] vector(int i) {
        return vectors.get(i).clone();
    }

    /** SHA-256 of {@link #encode()}. */
    public Hash hash() {
        return Hash.sha256(encode());
    }

    /**
     * The value of {@code ModelVersionPublished.optimizerStateHash} for this state: empty for
     * {@link #EMPTY}, else {@link #hash()}.
     */
    public ByteBuffer hashField() {
        return isEmpty() ? ByteBuffer.allocate(0) : hash().toByteBuffer();
    }

    /** True if {@code field} (a version's {@code optimizerStateHash}) names this state. */
    public boolean matches(ByteBuffer field) {
        return hashField().equals(field == null ? ByteBuffer.allocate(0) : field.duplicate());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof StrategyState s && java.util.Arrays.equals(encode(), s.encode());
    }

    @Override
    public int hashCode() {
        return java.util.Arrays.hashCode(encode());
    }

    @Override
    public String toString() {
        return isEmpty()
                ? "StrategyState[empty]"
                : "StrategyState[" + strategy + ", " + vectors.size() + " vectors, " + hash() + "]";
    }
}
