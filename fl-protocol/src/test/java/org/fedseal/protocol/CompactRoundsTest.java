package org.fedseal.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.util.Arrays;
import org.fedseal.protocol.wire.ChunkLayout;
import org.fedseal.protocol.wire.RoundOpened;
import org.junit.jupiter.api.Test;

class CompactRoundsTest {
    private static final int N = CompactRounds.BLOCK_VALUES;

    /** A compact round of 20,000 values: clip norm 1, 100 updates of weight 1 at scale 2^22. */
    private static RoundOpened compact(long q, int scaleBits, ChunkLayout layout) {
        return new RoundBounds(1.0, 1, 100, 1e9)
                .applyTo(RoundOpened.newBuilder(Fixtures.round("m", 3)))
                .setChunkLayout(layout)
                .setMaskModulus(q)
                .setMaskScaleBits(scaleBits)
                .build();
    }

    @Test
    void theModulusIsTheSmallestNttPrimeThatHoldsTheSum() {
        long q = CompactRounds.modulusFor(100, 22, 100);
        assertTrue(BigInteger.valueOf(q).isProbablePrime(64));
        assertEquals(1, q % (2L * N));
        assertTrue(CompactRounds.coefficientBound(q, 22, 100) >= 100);
        // no smaller prime of the form fits
        for (long p = q - 2L * N; p > 2L * N; p -= 2L * N) {
            if (BigInteger.valueOf(p).isProbablePrime(64)) {
                assertTrue(CompactRounds.coefficientBound(p, 22, 100) < 100, "smaller prime " + p + " fits");
                break;
            }
        }
        assertEquals(30, 64 - Long.numberOfLeadingZeros(q), "100 x 2^22 < 2^29 needs a 30-bit modulus");
    }

    @Test
    void boundsThatNeedMoreThan61BitsAreRefused() {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> CompactRounds.modulusFor(1e12, 40, 100));
        assertTrue(e.getMessage().contains("61 bits"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> CompactRounds.modulusFor(Double.NaN, 22, 100));
        assertThrows(IllegalArgumentException.class, () -> CompactRounds.modulusFor(1, 0, 100));
    }

    @Test
    void aConsistentRoundHasNoProblemAndEveryInconsistencyIsNamed() {
        ChunkLayout layout = Chunker.layout(20_000, N, 2, 1);
        long q = CompactRounds.modulusFor(100, 22, 100);
        assertTrue(CompactRounds.problem(compact(q, 22, layout)).isEmpty());
        assertTrue(CompactRounds.isCompact(compact(q, 22, layout)));

        // the modulus too small for valueBound x maxTotalWeight
        long small = CompactRounds.modulusFor(10, 22, 100);
        assertTrue(
                CompactRounds.problem(compact(small, 22, layout)).orElseThrow().contains("could wrap"));
        // not = 1 mod 2N
        assertTrue(
                CompactRounds.problem(compact(q + 2, 22, layout)).orElseThrow().contains("not a prime"));
        // no key ciphertext in the layout
        assertTrue(CompactRounds.problem(compact(q, 22, Chunker.layout(20_000, N, 2)))
                .orElseThrow()
                .contains("key ciphertext"));
        // noise is not supported yet
        assertTrue(CompactRounds.problem(RoundOpened.newBuilder(compact(q, 22, layout))
                        .setNoiseMultiplier(0.5)
                        .build())
                .orElseThrow()
                .contains("noise"));
        // a round that is not compact may carry none of the fields
        RoundOpened plain = Fixtures.round("m", 3);
        assertTrue(CompactRounds.problem(plain).isEmpty());
        assertFalse(CompactRounds.isCompact(plain));
        assertTrue(CompactRounds.problem(RoundOpened.newBuilder(plain)
                        .setChunkLayout(Chunker.layout(20_000, N, 2, 1))
                        .build())
                .isPresent());
    }

    @Test
    void aClipValueTightensTheValueBound() {
        RoundOpened r = compact(CompactRounds.modulusFor(100, 22, 100), 22, Chunker.layout(20_000, N, 2, 1));
        assertEquals(1.0, CompactRounds.valueBound(r));
        RoundOpened wide =
                RoundOpened.newBuilder(r).setClipNorm(50).setClipValue(0.25).build();
        assertEquals(0.25, CompactRounds.valueBound(wide));
    }

    @Test
    void theSeedDiffersPerRoundAndModelAndIsStable() {
        RoundOpened r3 = Fixtures.round("m", 3);
        RoundOpened r4 = Fixtures.round("m", 4);
        RoundOpened other = Fixtures.round("n", 3);
        assertEquals(32, CompactRounds.roundSeed(r3).length);
        assertTrue(Arrays.equals(CompactRounds.roundSeed(r3), CompactRounds.roundSeed(Fixtures.round("m", 3))));
        assertFalse(Arrays.equals(CompactRounds.roundSeed(r3), CompactRounds.roundSeed(r4)));
        assertFalse(Arrays.equals(CompactRounds.roundSeed(r3), CompactRounds.roundSeed(other)));
    }

    @Test
    void aLayoutSaysHowManyKeyCiphertextsFollowTheValues() {
        ChunkLayout l = Chunker.layout(20_000, N, 2, 1);
        assertEquals(3, Chunker.valueCiphertexts(l));
        assertEquals(1, Chunker.keyCiphertexts(l));
        assertEquals(4, l.getCiphertextCount());
        assertEquals(2, l.getChunkCount());
        assertTrue(Chunker.isConsistent(l));
        assertFalse(Chunker.isConsistent(
                ChunkLayout.newBuilder(l).setCiphertextCount(5).build()));
        assertThrows(IllegalArgumentException.class, () -> Chunker.layout(20_000, N, 2, 2));
        assertEquals(0, Chunker.keyCiphertexts(Chunker.layout(20_000, N, 2)));
    }
}
