package org.fedseal.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.SigningKeyPair;
import org.fedseal.protocol.wire.ReasonCode;
import org.fedseal.protocol.wire.RecordKind;
import org.fedseal.protocol.wire.UpdateRejected;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every view of the web page rendered by headless Chromium (skipped without /usr/bin/chromium): live
 * rounds, uPlot charts, the version page and the log browser, which verifies the server's answers
 * in the browser — including answers a test proxy tampered with (a tree head's signature, a
 * consistency proof), which the page must report in red. Screenshots at 1280×800 go to
 * {@code target/screenshots/}.
 */
class WebPageTest {
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path SHOTS = Path.of("target", "screenshots");
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    /** What the proxy does to the registry's answers. */
    enum Mode {
        HONEST,
        BAD_SIGNATURE,
        BAD_CONSISTENCY
    }

    /** A proxy in front of the registry that can tamper with the log's answers; the page is loaded through it. */
    static final class TamperingProxy implements AutoCloseable {
        final HttpServer server;
        volatile Mode mode = Mode.HONEST;
        private final HttpClient http = HttpClient.newHttpClient();

        TamperingProxy(URI upstream) throws IOException {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
            server.createContext("/", ex -> {
                try {
                    HttpResponse<byte[]> r = http.send(
                            HttpRequest.newBuilder(
                                            upstream.resolve(ex.getRequestURI().toString()))
                                    .GET()
                                    .build(),
                            HttpResponse.BodyHandlers.ofByteArray());
                    byte[] body = tamper(ex.getRequestURI().getPath(), r.body());
                    r.headers()
                            .firstValue("content-type")
                            .ifPresent(t -> ex.getResponseHeaders().set("Content-Type", t));
                    ex.sendResponseHeaders(r.statusCode(), body.length == 0 ? -1 : body.length);
                    if (body.length > 0) {
                        ex.getResponseBody().write(body);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    ex.sendResponseHeaders(502, -1);
                } finally {
                    ex.close();
                }
            });
            server.start();
        }

        private byte[] tamper(String path, byte[] body) throws IOException {
            if (mode == Mode.BAD_SIGNATURE && path.equals("/api/log/sth")) {
                ObjectNode n = (ObjectNode) JSON.readTree(body);
                byte[] sig = Base64.getDecoder().decode(n.get("signature").asText());
                sig[5] ^= 0x01;
                n.put("signature", Base64.getEncoder().encodeToString(sig));
                return JSON.writeValueAsBytes(n);
            }
            if (mode == Mode.BAD_CONSISTENCY && path.equals("/api/log/consistency")) {
                ObjectNode n = (ObjectNode) JSON.readTree(body);
                ArrayNode p = (ArrayNode) n.get("path");
                p.set(
                        0,
                        JSON.getNodeFactory()
                                .textNode(Hash.sha256("forged".getBytes(StandardCharsets.UTF_8))
                                        .toHex()));
                return JSON.writeValueAsBytes(n);
            }
            return body;
        }

        URI uri() {
            return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
        }

        @Override
        public void close() {
            server.stop(0);
        }
    }

    @Test
    void everyViewRendersAndTheLogBrowserCatchesTampering() throws Exception {
        assumeTrue(
                Files.isExecutable(CHROMIUM),
                "headless Chromium not installed at " + CHROMIUM
                        + " (Debian package 'chromium'); skipping the web page test");
        Files.createDirectories(SHOTS);
        Path profile = Files.createDirectories(dir.resolve("chromium-profile"));
        try (RegistryServer s = Fixture.server(dir.resolve("data"));
                TamperingProxy proxy = new TamperingProxy(s.uri())) {
            RegistryClient c = Fixture.client(s);
            SigningKeyPair holder = Fixture.setUpModel(c, "webmodel");
            c.setAccuracy(Hash.fromHex(c.model("webmodel").latestVersionHash()), 0.11);
            Fixture.fullRound(s, c, "webmodel", holder, 0.72);
            Fixture.fullRound(s, c, "webmodel", holder, 0.81);
            int open = c.openRound("webmodel", 3, java.time.Duration.ofMinutes(5), 1, 6)
                    .round();
            s.service()
                    .onRejected(UpdateRejected.newBuilder()
                            .setModelId("webmodel")
                            .setRound(open)
                            .setClientId("webmodel-c9")
                            .setUpdateId("u9")
                            .setRecordKind(RecordKind.UPDATE_COMMIT)
                            .setReason(ReasonCode.BAD_SIGNATURE)
                            .setDetail("test")
                            .setAtEpochMillis(System.currentTimeMillis())
                            .build());
            URI base = proxy.uri();

            // Overview: live round, charts, rounds and versions.
            String dom = dump(profile, base + "/#/");
            assertTrue(dom.contains("data-view=\"overview\""), "overview loaded:\n" + dom);
            assertEquals(3, count(dom, "<tr class=\"round (open|closed|failed)\">"), dom);
            assertTrue(dom.contains("webmodel-c0, webmodel-c1"), "participants listed");
            assertTrue(
                    dom.contains("data-model=\"webmodel\" data-round=\"" + open + "\""),
                    "the open round is shown live:\n" + dom);
            assertTrue(dom.contains("accepted 0 / quorum 3"), "accepted / quorum of the live round");
            assertTrue(
                    Pattern.compile("deadline in \\d+ min \\d+ s").matcher(dom).find(), "time to the deadline");
            assertTrue(dom.contains("rejects: BAD_SIGNATURE × 1"), "rejects by reason code");
            Matcher polls = Pattern.compile("data-polls=\"(\\d+)\"").matcher(dom);
            assertTrue(
                    polls.find() && Integer.parseInt(polls.group(1)) >= 2,
                    "the live panel re-polled without a reload:\n" + dom);
            assertTrue(
                    dom.contains("data-chart=\"accuracy\" data-points=\"3\""),
                    "accuracy of versions 0, 1 and 2 plotted (round 0 included)");
            assertTrue(
                    dom.contains("data-chart=\"participants\" data-points=\"2\""),
                    "participants and rejects of the 2 closed rounds");
            assertTrue(dom.contains("data-chart=\"latency\" data-points=\"2\""), "latency of the 2 closed rounds");
            assertTrue(dom.contains("data-chart=\"bytes\" data-points=\"2\""), "bytes of the 2 closed rounds");
            assertEquals(4, count(dom, "class=\"uplot"), "four uPlot charts drawn:\n" + dom);
            assertTrue(dom.contains("client updates (KiB)"), "bytes series labelled with its unit");
            java.util.Map<String, Long> bytes = s.service().roundBytes("webmodel", 1);
            assertTrue(
                    bytes.get("updateBytes") > 0 && bytes.get("aggregateBytes") > 0 && bytes.get("archivedRecords") > 0,
                    bytes.toString());
            assertTrue(
                    dom.contains("central accuracy (%)")
                            && dom.contains("latency (s)")
                            && dom.contains("accepted updates"),
                    "series labelled with units");
            assertEquals(3, count(dom, "class=\"version-link\""), "every version linked");
            shot(profile, base + "/#/", "overview.png");

            // Version page: lineage, contributors, download.
            String latest = c.model("webmodel").latestVersionHash();
            dom = dump(profile, base + "/#/version/" + latest);
            assertTrue(dom.contains("data-view=\"version\""), "version page loaded:\n" + dom);
            assertTrue(dom.contains("Version 2 of webmodel"), dom);
            assertEquals(3, count(dom, "<a href=\"#/version/[0-9a-f]{64}\">"), "lineage back to version 0");
            assertTrue(dom.contains("webmodel-c0") && dom.contains("webmodel-c1"), "contributors of round 2");
            assertTrue(dom.contains("href=\"/api/versions/" + latest + "/weights\""), "weights download");
            assertTrue(dom.contains("single key holder: webmodel-holder"), "decryption: one key holder");
            shot(profile, base + "/#/version/" + latest, "version.png");

            // Log browser, honest: first visit, then a grown log that must be consistent with the remembered head.
            dom = dump(profile, base + "/#/log");
            long size = c.signedTreeHead().getTreeSize();
            assertTrue(dom.contains("data-verified=\"true\""), "honest log verifies in the browser:\n" + dom);
            assertEquals(size, count(dom, "class=\"ok inclusion\""), "every entry's inclusion proof checked");
            c.enrollClient("webmodel-late", SigningKeyPair.generate().publicKey(), List.of("webmodel"));
            dom = dump(profile, base + "/#/log");
            assertTrue(dom.contains("data-verified=\"true\""), "grown log still verifies:\n" + dom);
            assertTrue(
                    dom.contains("consistent with the tree head of size " + size + " this browser saw before"),
                    "consistency checked against the head kept in localStorage:\n" + dom);
            shot(profile, base + "/#/log", "log-verified.png");

            // Tampered signature.
            proxy.mode = Mode.BAD_SIGNATURE;
            dom = dump(profile, base + "/#/log");
            assertTrue(dom.contains("data-verified=\"false\""), "a forged signature is caught:\n" + dom);
            assertTrue(
                    dom.contains("class=\"verdict bad\"") && dom.contains("DOES NOT VERIFY"), "said plainly, in red");
            assertTrue(dom.contains("signature does not verify"), "names the signature");
            shot(profile, base + "/#/log", "log-bad-signature.png");

            // Tampered consistency proof (after the log grew past the head this browser remembers).
            proxy.mode = Mode.BAD_CONSISTENCY;
            c.enrollClient("webmodel-later", SigningKeyPair.generate().publicKey(), List.of("webmodel"));
            dom = dump(profile, base + "/#/log");
            assertTrue(
                    dom.contains("data-verified=\"false\"") && dom.contains("data-inconsistent=\"true\""),
                    "a forged consistency proof is caught:\n" + dom);
            assertTrue(dom.contains("NOT consistent with the tree head of size"), "names the consistency failure");
            shot(profile, base + "/#/log", "log-bad-consistency.png");
            assertFalse(dom.contains("class=\"bad error\""), "no script error");
        }
        for (String f : List.of(
                "overview.png",
                "version.png",
                "log-verified.png",
                "log-bad-signature.png",
                "log-bad-consistency.png")) {
            byte[] png = Files.readAllBytes(SHOTS.resolve(f));
            assertTrue(png.length > 1000 && png[1] == 'P' && png[2] == 'N' && png[3] == 'G', f + " is a PNG");
            int w = ((png[16] & 0xff) << 24) | ((png[17] & 0xff) << 16) | ((png[18] & 0xff) << 8) | (png[19] & 0xff);
            int h = ((png[20] & 0xff) << 24) | ((png[21] & 0xff) << 16) | ((png[22] & 0xff) << 8) | (png[23] & 0xff);
            assertEquals(1280, w, f + " width");
            assertEquals(800, h, f + " height");
        }
    }

    @Test
    void federatedMetricsAreShownNextToTheCentralOnes() throws Exception {
        assumeTrue(
                Files.isExecutable(CHROMIUM),
                "headless Chromium not installed at " + CHROMIUM + "; skipping the web page test");
        Files.createDirectories(SHOTS);
        Path profile = Files.createDirectories(dir.resolve("chromium-profile-federated"));
        try (RegistryServer s = Fixture.server(dir.resolve("data-federated"))) {
            RegistryClient c = Fixture.client(s);
            SigningKeyPair holder = Fixture.setUpModel(c, "fedweb");
            Fixture.fullRound(s, c, "fedweb", holder, 0.72);
            Hash v1 = Hash.fromHex(c.model("fedweb").latestVersionHash());
            int round = c.openEvaluationRound("fedweb", v1, 2, java.time.Duration.ofMinutes(5), 0, 0, 0)
                    .round();
            Fixture.RoundRun run = Fixture.simulateRound("fedweb", round, v1, 2, false);
            Fixture.ingest(s, run);
            c.recordEvaluation(
                    "fedweb",
                    round,
                    org.fedseal.protocol.CanonicalHash.of(run.aggregate()),
                    200,
                    0.655,
                    0.93,
                    "fedweb-holder");

            String dom = dump(profile, s.uri() + "/#/");
            assertTrue(
                    dom.contains("federated accuracy (%)") && dom.contains("central accuracy (%)"),
                    "both series in the accuracy chart:\n" + dom);
            assertTrue(
                    dom.contains("data-chart=\"accuracy\" data-points=\"1\""),
                    "version 1 plotted once, with both figures:\n" + dom);
            assertTrue(
                    dom.contains("65.50 % (loss 0.9300, 200 examples, 2 clients, round 2)"),
                    "federated figures in the versions table:\n" + dom);
            assertTrue(
                    dom.contains("data-chart=\"loss\" data-points=\"1\"") && dom.contains("federated loss"),
                    "the federated loss plotted per version:\n" + dom);
            shot(profile, s.uri() + "/#/", "overview-federated.png");

            dom = dump(profile, s.uri() + "/#/version/" + v1.toHex());
            assertTrue(dom.contains("Federated evaluations"), dom);
            assertTrue(dom.contains("<td>strategy</td><td>FedAvg{"), "the version's strategy:\n" + dom);
            assertTrue(
                    dom.contains("fedweb-c0, fedweb-c1") && dom.contains("0.9300"),
                    "the evaluation's participants and loss:\n" + dom);
            assertFalse(dom.contains("class=\"bad error\""), "no script error");
            shot(profile, s.uri() + "/#/version/" + v1.toHex(), "version-federated.png");
        }
    }

    private static int count(String s, String regex) {
        Matcher m = Pattern.compile(regex).matcher(s);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }

    private String dump(Path profile, String url) throws Exception {
        return new String(chromium(profile, url, "--dump-dom"), StandardCharsets.UTF_8);
    }

    private void shot(Path profile, String url, String file) throws Exception {
        chromium(
                profile,
                url,
                "--screenshot=" + SHOTS.resolve(file).toAbsolutePath(),
                "--window-size=1280,800",
                "--hide-scrollbars");
    }

    private byte[] chromium(Path profile, String url, String... extra) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(
                CHROMIUM.toString(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                "--user-data-dir=" + profile,
                "--virtual-time-budget=6000"));
        cmd.addAll(List.of(extra));
        cmd.add(url);
        Process p = new ProcessBuilder(cmd)
                .redirectError(ProcessBuilder.Redirect.appendTo(
                        dir.resolve("chromium.log").toFile()))
                .start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(90, TimeUnit.SECONDS), "chromium finished");
        return out;
    }
}
