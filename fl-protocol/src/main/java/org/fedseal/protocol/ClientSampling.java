package org.fedseal.protocol;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.TreeSet;
import org.apache.avro.specific.SpecificData;
import org.fedseal.protocol.wire.RoundOpened;

/**
 * Client sampling: which of a model's enrolled clients may train in a round, derived from public
 * randomness bound to the round, so that every party (registry, aggregator, clients, auditors)
 * re-derives the same sample from public data. The registry writes the sample into
 * {@link RoundOpened#getSampledClients()}; the {@link UpdateValidator} rejects updates of other
 * clients ({@code NOT_SAMPLED}); {@code fedseal audit verify} re-derives it from the log.
 *
 * <h2>Definition (version 1)</h2>
 * <ol>
 *   <li><b>Seed</b>: {@code SHA-256("FedSeal-ClientSampling-v1\n" || C)}, where {@code C} is the
 *       {@linkplain CanonicalHash#canonicalBytes canonical encoding} of the round's
 *       {@code RoundOpened} with {@code sampledClients} set to the empty list. The seed thereby
 *       binds the model, round number, base version hash, HE key hash, opening time, deadline,
 *       bounds, round configuration, sampling fraction and minimum.</li>
 *   <li><b>Eligible clients</b>: the distinct ids the caller passes (the registry: the clients
 *       enrolled for the model when the round opens, see the registry's documentation), sorted
 *       by {@link String#compareTo}.</li>
 *   <li><b>Size</b>: with {@code n} eligible clients, {@code k = min(n, max(minimum,
 *       ceil(fraction × n)))}; {@code fraction × n} is computed in IEEE-754 double precision and a
 *       product within {@code 1e-9·n} of an integer counts as that integer (so 0.1 × 30 gives 3,
 *       not the 4 that the rounding error 3.0000000000000004 would give).</li>
 *   <li><b>Rank</b>: each eligible id {@code c} gets the key {@code SHA-256(seed || UTF-8(c))}
 *       (32 + |c| bytes hashed; the seed has a fixed length, so the encoding is unambiguous); the
 *       {@code k} ids with the smallest keys (unsigned byte order, ties — which need a SHA-256
 *       collision — broken by id) are the sample, returned sorted by id.</li>
 * </ol>
 * A fraction of 1 (or more) means no sampling: the result is the empty list, which
 * {@code RoundOpened.sampledClients} reads as "every enrolled client may submit".
 *
 * <h2>What it does and does not guarantee</h2>
 * Anyone can check that a published sample follows from the round and the enrolment list.
 * The randomness is public and fixed once the round record is: a client cannot steer its
 * selection. The registry, which writes the record, could still grind (e.g. retry opening times)
 * until a sample it likes comes up; an unbiasable sample would need an external randomness beacon
 * or a commit-reveal among several parties, which FedSeal does not have.
 *
 * <p>Stateless and thread-safe.
 */
public final class ClientSampling {
    /** Domain-separation prefix of the seed (US-ASCII, newline included). */
    public static final String SEED_DOMAIN = "FedSeal-ClientSampling-v1\n";

    private static final double INTEGER_TOLERANCE = 1e-9;

    private ClientSampling() {}

    /**
     * The round's sampling seed: SHA-256 over {@link #SEED_DOMAIN} and the canonical encoding of
     * {@code round} with {@code sampledClients} emptied ({@code round} is not modified).
     */
    public static Hash seed(RoundOpened round) {
        Objects.requireNonNull(round, "round");
        RoundOpened unsampled = SpecificData.get().deepCopy(round.getSchema(), round);
        unsampled.setSampledClients(new ArrayList<>());
        return Hash.sha256(SEED_DOMAIN.getBytes(StandardCharsets.US_ASCII), CanonicalHash.canonicalBytes(unsampled));
    }

    /**
     * The sample size {@code min(n, max(minimum, ceil(fraction × n)))} (see the class
     * documentation for the rounding rule).
     *
     * @param eligible number of eligible clients n, {@code >= 0}
     * @param fraction in (0, 1]
     * @param minimum lower bound, {@code >= 0}
     * @throws IllegalArgumentException if an argument is out of range
     */
    public static int sampleSize(int eligible, double fraction, int minimum) {
        checkFraction(fraction);
        if (eligible < 0 || minimum < 0) {
            throw new IllegalArgumentException(
                    "eligible and minimum must be >= 0, got " + eligible + " and " + minimum);
        }
        double x = fraction * eligible;
        double nearest = Math.rint(x);
        long k = Math.abs(x - nearest) <= INTEGER_TOLERANCE * Math.max(1, eligible)
                ? (long) nearest
                : (long) Math.ceil(x);
        return (int) Math.min(eligible, Math.max(minimum, k));
    }

    /**
     * The sample of {@code round} over {@code eligible} with the round's
     * {@code samplingFraction} and {@code minSampledClients}: empty if the fraction is 1 or more
     * (no sampling), else {@link #sample(Hash, Collection, double, int)} with {@link #seed}.
     *
     * @throws IllegalArgumentException if the round's fraction is not positive or its minimum is negative
     */
    public static List<String> sample(RoundOpened round, Collection<String> eligible) {
        Objects.requireNonNull(round, "round");
        if (round.getSamplingFraction() >= 1.0) {
            return List.of();
        }
        return sample(seed(round), eligible, round.getSamplingFraction(), round.getMinSampledClients());
    }

    /**
     * The {@link #sampleSize} ids of {@code eligible} (duplicates ignored) whose keys
     * {@code SHA-256(seed || UTF-8(id))} are smallest, sorted by id.
     *
     * @throws IllegalArgumentException if the fraction or minimum is out of range, or an id is null or empty
     */
    public static List<String> sample(Hash seed, Collection<String> eligible, double fraction, int minimum) {
        Objects.requireNonNull(seed, "seed");
        Objects.requireNonNull(eligible, "eligible");
        TreeSet<String> ids = new TreeSet<>();
        for (String id : eligible) {
            if (id == null || id.isEmpty()) {
                throw new IllegalArgumentException("a client id is null or empty");
            }
            ids.add(id);
        }
        int k = sampleSize(ids.size(), fraction, minimum);
        record Ranked(Hash key, String id) {}
        List<Ranked> ranked = new ArrayList<>(ids.size());
        byte[] s = seed.raw();
        for (String id : ids) {
            MessageDigest md = Hash.newDigest();
            md.update(s);
            md.update(id.getBytes(StandardCharsets.UTF_8));
            ranked.add(new Ranked(Hash.of(md.digest()), id));
        }
        ranked.sort(Comparator.comparing(Ranked::key).thenComparing(Ranked::id));
        TreeSet<String> out = new TreeSet<>();
        for (int i = 0; i < k; i++) {
            out.add(ranked.get(i).id());
        }
        return List.copyOf(out);
    }

    /**
     * True if {@code clientId} may submit to {@code round}: the round names no sample, or the
     * sample contains it.
     */
    public static boolean admits(RoundOpened round, String clientId) {
        List<String> sampled = round.getSampledClients();
        return sampled == null || sampled.isEmpty() || sampled.contains(clientId);
    }

    private static void checkFraction(double fraction) {
        if (!(fraction > 0) || fraction > 1) {
            throw new IllegalArgumentException("the sampling fraction must be in (0, 1], got " + fraction);
        }
    }
}
