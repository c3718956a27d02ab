package org.fedseal.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.fedseal.protocol.SigningKeyPair;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The web page rendered by headless Chromium lists the rounds and plots accuracy; skipped without /usr/bin/chromium. */
class WebPageTest {
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");

    @TempDir
    Path dir;

    @Test
    void pageListsRoundsAndPlotsAccuracy() throws Exception {
        assumeTrue(Files.isExecutable(CHROMIUM), "headless Chromium not installed at " + CHROMIUM + " (Debian package 'chromium'); skipping the web page test");
        try (RegistryServer s = Fixture.server(dir.resolve("data"))) {
            RegistryClient c = Fixture.client(s);
            SigningKeyPair holder = Fixture.setUpModel(c, "webmodel");
            Fixture.fullRound(s, c, "webmodel", holder, 0.72);
            Fixture.fullRound(s, c, "webmodel", holder, 0.81);
            c.openRound("webmodel", 3, java.time.Duration.ofMinutes(5), 1, 6);
            Path profile = Files.createDirectories(dir.resolve("chromium-profile"));
            Process p = new ProcessBuilder(List.of(CHROMIUM.toString(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--user-data-dir=" + profile, "--virtual-time-budget=5000", "--dump-dom", s.uri() + "/"))
                    .redirectError(dir.resolve("chromium.log").toFile()).start();
            byte[] out = p.getInputStream().readAllBytes();
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "chromium finished");
            String dom = new String(out, StandardCharsets.UTF_8);
            assertTrue(dom.contains("data-loaded=\"true\""), "page finished loading:\n" + dom);
            Matcher rounds = Pattern.compile("<tr class=\"round (open|closed|failed)\">").matcher(dom);
            int n = 0;
            while (rounds.find()) {
                n++;
            }
            assertEquals(3, n, dom);
            assertTrue(dom.contains("webmodel-c0, webmodel-c1"), "participants listed");
            Matcher points = Pattern.compile("<circle[^>]*class=\"point\"").matcher(dom);
            int pts = 0;
            while (points.find()) {
                pts++;
            }
            assertEquals(2, pts, "one SVG point per version with accuracy:\n" + dom);
            assertTrue(dom.contains("AGGREGATE_PUBLISHED"), "provenance log listed");
        }
    }
}
