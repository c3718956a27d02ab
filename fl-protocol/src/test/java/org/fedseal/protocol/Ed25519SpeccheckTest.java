package org.fedseal.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.fedseal.protocol.internal.Ed25519Points;
import org.fedseal.protocol.internal.Ed25519Points.Verdict;
import org.junit.jupiter.api.Test;

/**
 * FedSeal's Ed25519 verdicts on the 12 edge-case vectors of Chalkias, Garillot, Nikolaenko, "Taming
 * the many EdDSAs" (SSR 2020), from github.com/novifinancial/ed25519-speccheck {@code cases.json}
 * (a copy is the test resource {@code ed25519-speccheck/cases.json}; see the README there).
 *
 * <p>FedSeal takes the strictest column of the paper: small-order or non-canonical A refused when the
 * key is made, small-order or non-canonical R and S &gt;= L refused by verification, and the JDK's
 * cofactorless equation {@code [S]B = R + [k]A} (it recomputes R and compares encodings). Only case 3
 * verifies, as with libsodium and "Dalek strict" in the paper's table.
 */
class Ed25519SpeccheckTest {
    enum Outcome {
        KEY_REFUSED,
        SIGNATURE_REFUSED,
        ACCEPTED
    }

    /**
     * Expected outcome per case; {@code detail} is the key's error message (KEY_REFUSED) or our
     * verdict on R (otherwise), which shows whether our check or the JDK refuses the signature.
     */
    record Expected(Outcome outcome, String detail, String why) {}

    private static final String SMALL_A = "small-order Ed25519 public key";
    private static final String NON_CANONICAL_A = "non-canonical Ed25519 public key encoding";

    private static final List<Expected> EXPECTED = List.of(
            new Expected(Outcome.KEY_REFUSED, SMALL_A, "0: S = 0, A and R small order; the JDK alone accepts"),
            new Expected(Outcome.KEY_REFUSED, SMALL_A, "1: A small order (R mixed); the JDK alone accepts"),
            new Expected(
                    Outcome.SIGNATURE_REFUSED,
                    "SMALL_ORDER",
                    "2: R small order (A mixed); the JDK alone accepts, our R check refuses"),
            new Expected(
                    Outcome.ACCEPTED,
                    "VALID",
                    "3: A and R of mixed order (neither small): both equations hold, and we do not"
                            + " check prime-order subgroup membership; accepted by every library in the paper"),
            new Expected(
                    Outcome.SIGNATURE_REFUSED,
                    "VALID",
                    "4: holds only cofactored ([8]R + [8k]A = [8S]B); the JDK is cofactorless"),
            new Expected(
                    Outcome.SIGNATURE_REFUSED,
                    "VALID",
                    "5: holds only cofactored without pre-reducing 8k; the JDK is cofactorless"),
            new Expected(Outcome.SIGNATURE_REFUSED, "VALID", "6: S > L; the JDK refuses S >= L (\"s is too large\")"),
            new Expected(Outcome.SIGNATURE_REFUSED, "VALID", "7: S >> L (bit 255 set); the JDK refuses S >= L"),
            new Expected(
                    Outcome.SIGNATURE_REFUSED,
                    "NON_CANONICAL",
                    "8: R non-canonical (x = 0 with the sign bit), hashed reduced;"
                            + " refused by our R check (and by the JDK's decoding)"),
            new Expected(Outcome.SIGNATURE_REFUSED, "NON_CANONICAL", "9: R non-canonical, hashed as sent; as case 8"),
            new Expected(
                    Outcome.KEY_REFUSED,
                    NON_CANONICAL_A,
                    "10: A non-canonical (x = 0 with the sign bit, small order), hashed reduced"),
            new Expected(Outcome.KEY_REFUSED, NON_CANONICAL_A, "11: A non-canonical, hashed as sent"));

    /** One vector; all fields are hex in the file. */
    record Case(byte[] message, String publicKey, byte[] signature) {}

    @Test
    void tamingTheManyEdDsasVectors() throws IOException {
        List<Case> cases = cases();
        assertEquals(EXPECTED.size(), cases.size());
        for (int i = 0; i < cases.size(); i++) {
            Case c = cases.get(i);
            Expected want = EXPECTED.get(i);
            SigningPublicKey key;
            try {
                key = SigningPublicKey.fromX509(SigningKeySmallOrderTest.x509(c.publicKey()));
            } catch (IllegalArgumentException e) {
                assertEquals(want, new Expected(Outcome.KEY_REFUSED, e.getMessage(), want.why()), want.why());
                continue;
            }
            Outcome got = key.verify(c.message(), c.signature()) ? Outcome.ACCEPTED : Outcome.SIGNATURE_REFUSED;
            String rVerdict = Ed25519Points.check(c.signature(), 0).name();
            assertEquals(want, new Expected(got, rVerdict, want.why()), want.why());
        }
    }

    @Test
    void theEightSmallOrderPointsAreFlagged() {
        // Canonical encodings of the 8-torsion: identity, order 2, the two of order 4, the four of order 8
        // (the last four as in cases 0 and 1 of the vectors, and their y negated).
        String[] torsion = {
            "01" + "00".repeat(31),
            "ec" + "ff".repeat(30) + "7f",
            "00".repeat(32),
            "00".repeat(31) + "80",
            "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
            "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
            "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
            "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
        };
        for (String t : torsion) {
            assertEquals(Verdict.SMALL_ORDER, Ed25519Points.check(HexFormat.of().parseHex(t), 0), t);
        }
        // The base point (RFC 8032 §5.1) has prime order L; a mixed-order point (case 2's A) is not small either.
        assertEquals(Verdict.VALID, Ed25519Points.check(HexFormat.of().parseHex("58" + "66".repeat(31)), 0));
        assertEquals(
                Verdict.VALID,
                Ed25519Points.check(
                        HexFormat.of().parseHex("f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43"),
                        0));
    }

    private static List<Case> cases() throws IOException {
        String json;
        try (InputStream in = Ed25519SpeccheckTest.class.getResourceAsStream("/ed25519-speccheck/cases.json")) {
            assertNotNull(in, "test resource ed25519-speccheck/cases.json");
            json = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        }
        // A flat JSON array of objects whose values are hex strings: no JSON library needed.
        List<Case> out = new ArrayList<>();
        Matcher object = Pattern.compile("\\{([^{}]*)\\}").matcher(json);
        while (object.find()) {
            Map<String, String> f = new HashMap<>();
            Matcher field =
                    Pattern.compile("\"(\\w+)\"\\s*:\\s*\"([0-9a-fA-F]*)\"").matcher(object.group(1));
            while (field.find()) {
                f.put(field.group(1), field.group(2));
            }
            out.add(new Case(
                    HexFormat.of().parseHex(f.get("message")),
                    f.get("pub_key"),
                    HexFormat.of().parseHex(f.get("signature"))));
        }
        return out;
    }
}
