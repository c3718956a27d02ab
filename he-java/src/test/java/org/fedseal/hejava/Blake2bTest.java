package org.fedseal.hejava;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class Blake2bTest {
    private static String hex(byte[] b) {
        StringBuilder s = new StringBuilder();
        for (byte x : b) {
            s.append(String.format("%02x", x & 0xFF));
        }
        return s.toString();
    }

    @Test
    void rfc7693Abc() {
        // RFC 7693, Appendix A: BLAKE2b-512("abc").
        assertEquals(
                "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
                        + "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923",
                hex(Blake2b.hash("abc".getBytes(StandardCharsets.US_ASCII), 64)));
        assertEquals(
                "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319",
                hex(Blake2b.hash("abc".getBytes(StandardCharsets.US_ASCII), 32)));
    }

    /** Block-boundary lengths; expected values from Python's hashlib.blake2b. */
    @Test
    void blockBoundaries() {
        String[][] vectors = {
            {
                "0",
                "786a02f742015903c6c6fd852552d272912f4740e15847618a86e217f71f5419d25e1031afee585313896444934eb04b903a685b1448b755d56f701afe9be2ce",
                "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8"
            },
            {
                "127",
                "d073fb3259c723b20a64ecf77083891a157c81c1882da42060222dfc7ebbda6da1b8ed55197aabd0ab17cf935499d8e4f6d93a4bb83a1aa5670a1612c70df1bb",
                "3b03a73c3c02e3eef11be3e2e16c12ccf6090dea00aa861ded320910892e13ac"
            },
            {
                "128",
                "c6d375fd4421510489194b8ccd9b1fc9e96dd25eab56f33bd698266fb38d8fbde447b617cdb5779c5fbeafe53fae640c85c457f6449ce307a11d88d18788d7f0",
                "6b89237e0a469a721c700b8bbcb51b6231c48e71ff023e0e3444ec84882ae32e"
            },
            {
                "129",
                "7cb95d837c7ccea0f9137c7bcdca4cd71152aa6ca7bf16d399d261191bd7f919c5c7699d0fd0c6ad98d98eae7ee3f0f0fa1e9fc35d84410886343ffc79624765",
                "524a9dc9d008a9ce1d9d2a111bcd10d2461a02dadf30ec5a47225501608a87eb"
            },
            {
                "256",
                "add2f992dacfe7e31e9fc9f0a0b7b2740e95691ac93f9888ed292517a5d2db501aa2383e8b1a3685a628a1f06456debac9dd0fd9a3603f12f285a238b2771f72",
                "e7001e3026924e6650fcd5b274bc3ddf556a6c7fedfe038383c0f4ad5f26cfc9"
            },
            {
                "1000",
                "4b224da8bd3bfeeca3969a38269efce82ea8100d95a2b9c42e286203259c934dd2ac7ec381af4bc71013eed10ab5221d56691712a66f3f1ad2fb30c470b3da33",
                "1d16566788d72e44f7c8ca9aaf73edc64bb03fc69322cb735f49974d7c9ce383"
            },
        };
        for (String[] v : vectors) {
            int n = Integer.parseInt(v[0]);
            byte[] data = new byte[n];
            for (int i = 0; i < n; i++) {
                data[i] = (byte) (i * 7 + 1);
            }
            assertEquals(v[1], hex(Blake2b.hash(data, 64)), "BLAKE2b-512 of " + n + " bytes");
            assertEquals(v[2], hex(Blake2b.hash(data, 32)), "BLAKE2b-256 of " + n + " bytes");
        }
    }
}
