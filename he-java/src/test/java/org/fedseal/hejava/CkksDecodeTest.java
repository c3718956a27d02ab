package org.fedseal.hejava;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The decoder inverts the encoder (pure Java, no SEAL). */
class CkksDecodeTest {
    @Test
    void decodeInvertsEncodeBothPackingsAndScales() {
        SplittableRandom r = new SplittableRandom(7);
        for (double scale : new double[] {0x1p40, 0x1p50}) {
            double[] re = new double[Ckks8192.SLOTS];
            double[] im = new double[Ckks8192.SLOTS];
            for (int i = 0; i < re.length; i++) {
                re[i] = r.nextDouble(-100, 100);
                im[i] = r.nextDouble(-100, 100);
            }
            long[] plain = new long[Ckks8192.N];
            CkksEncoder.encode(
                    re.clone(),
                    im.clone(),
                    scale,
                    new double[Ckks8192.N],
                    new double[Ckks8192.N],
                    plain,
                    Ckks8192.Tables.P0);
            Ckks8192.Tables.P0.forward(plain);
            double[] out = new double[Ckks8192.N];
            ThresholdSupport.decode(plain, scale, true, out, 0, out.length);
            double max = 0;
            for (int i = 0; i < re.length; i++) {
                max = Math.max(max, Math.max(Math.abs(out[2 * i] - re[i]), Math.abs(out[2 * i + 1] - im[i])));
            }
            assertTrue(max < 1e-8, "max error " + max + " at scale " + scale);
        }
    }
}
