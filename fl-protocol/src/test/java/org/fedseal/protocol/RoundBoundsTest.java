package org.fedseal.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import java.util.Random;
import org.fedseal.protocol.wire.RoundOpened;
import org.junit.jupiter.api.Test;

class RoundBoundsTest {
    /** ckks-8192-t50-v1's headroom: √4096·(q0/2 − 2^44)/2^50. */
    static final double T50 = 64 * (1152921504606748673.0 / 2 - 0x1p44) / 0x1p50;

    @Test
    void issueCaseOneIsRefused() {
        // the demo's clip bound 10 and max.total.weight 20000 on the threshold set: sums could reach 200,000 > 32,767
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> new RoundBounds(10, 1500, 20_000, T50));
        assertTrue(e.getMessage().contains("sumNormBound") && e.getMessage().contains("3276"), e.getMessage());
        // the four clients of weight 1,500 (6,000 in all) do not fit either
        assertThrows(IllegalArgumentException.class, () -> new RoundBounds(10, 1500, 6_000, T50));
        RoundBounds fits = RoundBounds.withDefaults(T50, 10.0, null, null, 4);
        assertEquals(3276, fits.maxTotalWeight());
        assertEquals(819, fits.maxUpdateWeight());
        assertTrue(fits.weightProblem(1500).isPresent());
    }

    @Test
    void totalsAreOverflowCheckedAndBounded() {
        RoundBounds b = new RoundBounds(1, Long.MAX_VALUE / 2, Long.MAX_VALUE / 2, Double.MAX_VALUE / 4);
        // two declared weights of 2^62 wrapped to Long.MIN_VALUE before
        assertEquals(Optional.empty(), b.addWeight(1L << 62, 1L << 62));
        assertEquals(Optional.empty(), b.addWeight(Long.MAX_VALUE, 1));
        RoundBounds small = new RoundBounds(1, 10, 25, 100);
        assertEquals(Optional.of(20L), small.addWeight(10, 10));
        assertEquals(Optional.of(25L), small.addWeight(20, 5));
        assertEquals(Optional.empty(), small.addWeight(20, 6));
        assertTrue(small.weightProblem(0).isPresent());
        assertTrue(small.weightProblem(-5).isPresent());
        assertTrue(small.weightProblem(11).isPresent());
        assertFalse(small.weightProblem(10).isPresent());
    }

    @Test
    void nonsenseIsRefused() {
        for (double bad : new double[] {0, -1, Double.NaN, Double.POSITIVE_INFINITY}) {
            assertThrows(IllegalArgumentException.class, () -> new RoundBounds(bad, 1, 1, 100));
            assertThrows(IllegalArgumentException.class, () -> new RoundBounds(1, 1, 1, bad));
        }
        assertThrows(IllegalArgumentException.class, () -> new RoundBounds(1, 0, 1, 100));
        assertThrows(IllegalArgumentException.class, () -> new RoundBounds(1, 2, 1, 100));
        assertThrows(IllegalArgumentException.class, () -> new RoundBounds(1, 1, 0, 100));
        assertThrows(IllegalArgumentException.class, () -> RoundBounds.withDefaults(100, 1.0, null, null, 0));
        // a clip norm so large that not even weight 1 fits
        assertThrows(IllegalArgumentException.class, () -> RoundBounds.withDefaults(100, 101.0, null, null, 1));
    }

    /** Property: whatever the headroom, clip norm and quorum, the derived bounds keep the invariant and admit a full quorum. */
    @Test
    void derivedDefaultsAlwaysFit() {
        Random rnd = new Random(14);
        for (int i = 0; i < 10_000; i++) {
            double headroom = Math.exp(rnd.nextDouble() * 40);
            double clip = headroom * Math.exp(-rnd.nextDouble() * 30);
            int quorum = 1 + rnd.nextInt(1000);
            RoundBounds b;
            try {
                b = RoundBounds.withDefaults(headroom, clip, null, null, quorum);
            } catch (IllegalArgumentException e) {
                // only when not even weight 1 fits, or the quorum cannot fit at all
                assertTrue(clip > headroom || Math.floor(headroom / clip) < quorum, e.getMessage());
                continue;
            }
            assertTrue(b.clipNorm() * b.maxTotalWeight() <= headroom, b.toString());
            assertTrue(b.maxUpdateWeight() * Math.min(quorum, b.maxTotalWeight()) <= b.maxTotalWeight(), b.toString());
            assertTrue(b.fitsNoise(0));
            // one more unit of total weight is refused
            if (b.maxTotalWeight() < Long.MAX_VALUE && clip * (b.maxTotalWeight() + 1) > headroom) {
                long over = b.maxTotalWeight() + 1;
                assertThrows(IllegalArgumentException.class, () -> new RoundBounds(clip, 1, over, headroom));
            }
        }
    }

    @Test
    void impossibleRoundsAreRefusedWithTheBoundNamed() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> RoundBounds.withDefaults(T50, 10.0, null, null, 100_000));
        assertTrue(e.getMessage().contains("quorum 100000 can never be reached"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> RoundBounds.withDefaults(T50, 1e6, null, null, 1));
        assertTrue(e.getMessage().contains("clipNorm 1000000.0 alone exceeds"), e.getMessage());
        // the suggested clip norm is one that fits
        for (long w : new long[] {1, 7, 2000, 3276, 99_999}) {
            double suggested = Double.parseDouble(RoundBounds.largestClipNorm(T50, w));
            assertTrue(suggested * w <= T50, w + ": " + suggested);
            new RoundBounds(suggested, w, w, T50);
        }
    }

    @Test
    void noiseNeedsItsShareOfTheHeadroom() {
        RoundBounds b = new RoundBounds(10, 100, 1000, 10 * 1000 * 1.6);
        assertTrue(b.fitsNoise(0));
        assertTrue(b.fitsNoise(0.1));
        assertFalse(b.fitsNoise(0.11));
    }

    @Test
    void roundTripsThroughTheRecord() {
        RoundOpened r = Fixtures.round("m", 1);
        assertEquals(Fixtures.BOUNDS, RoundBounds.of(r));
        RoundOpened legacy = RoundOpened.newBuilder(r)
                .setClipNorm(0)
                .setMaxTotalWeight(0)
                .setMaxUpdateWeight(0)
                .setSumNormBound(0)
                .build();
        assertTrue(assertThrows(IllegalArgumentException.class, () -> RoundBounds.of(legacy))
                .getMessage()
                .contains("before 0.2"));
    }
}
