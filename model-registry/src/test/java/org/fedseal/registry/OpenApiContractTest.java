package org.fedseal.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.fedseal.he.HeParameters;
import org.fedseal.protocol.CanonicalHash;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.SigningKeyPair;
import org.fedseal.protocol.WireCodec;
import org.fedseal.protocol.wire.ModelVersionPublished;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The registry's OpenAPI document ({@code GET /openapi.json}) tells the truth about the running
 * registry, and keeps telling it.
 *
 * <p>{@link #schemathesisFindsNoFailures} runs <a href="https://schemathesis.readthedocs.io">schemathesis</a>
 * with all of its checks (response schemas, status codes, content types, schema-valid requests
 * accepted, schema-invalid requests rejected, undeclared methods answered 405 with {@code Allow},
 * authentication enforced where declared, ...) against a registry started and seeded here, and
 * fails with schemathesis' report when it finds anything. The mutating operations get the admin
 * token; generation is deterministic (no seed, no example database), so every run sends the same
 * requests. Configuration, with the reason for each relaxation, and hooks (the Avro ingest media
 * types; finite weights): {@code src/test/resources/contract/}. Output and a JUnit report:
 * {@code target/schemathesis/}.
 *
 * <p>schemathesis comes from PyPI, pinned with all its dependencies in
 * {@code scripts/schemathesis-requirements.txt}, in its own venv made by
 * {@code scripts/schemathesis-venv.sh} (which {@code scripts/setup.sh}, hence {@code ./fedseal test},
 * runs first; once installed, nothing is downloaded). If the venv is missing this test runs that
 * script itself, and fails if it cannot install. System properties: {@code fedseal.schemathesis}
 * = a schemathesis executable to use instead; {@code fedseal.contract.skip=true} skips the
 * schemathesis run (the only way it is skipped).
 *
 * <p>The other tests pin what schemathesis first found, directly: 405 without {@code Allow}, and
 * request fields the registry coerced instead of rejecting.
 */
class OpenApiContractTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Hypothesis examples per operation in the fuzzing phase (the coverage phase is exhaustive on its own). */
    private static final int MAX_EXAMPLES = 30;

    private static final Duration RUN_TIMEOUT = Duration.ofMinutes(5);
    private static final Duration INSTALL_TIMEOUT = Duration.ofMinutes(10);
    private static final Set<String> HTTP_METHODS =
            Set.of("get", "put", "post", "delete", "options", "head", "patch", "trace");

    @TempDir
    Path dir;

    @Test
    void schemathesisFindsNoFailures() throws Exception {
        Assumptions.assumeFalse(
                Boolean.getBoolean("fedseal.contract.skip"),
                "-Dfedseal.contract.skip=true: the schemathesis contract run is skipped");
        Path basedir = Path.of(System.getProperty("basedir", "")).toAbsolutePath();
        String schemathesis = schemathesisExecutable(basedir);
        Path work = basedir.resolve("target").resolve("schemathesis");
        deleteRecursively(work);
        Files.createDirectories(work);
        copyResource("contract/schemathesis.toml", work);
        copyResource("contract/hooks.py", work);
        try (RegistryServer s = Fixture.server(dir)) {
            Seeded seeded = seed(s);
            writeDictionary(work.resolve("versions.dict"), seeded.versionHashes());
            writeDictionary(work.resolve("he-keys.dict"), seeded.heKeyHashes());
            writeDictionary(work.resolve("blobs.dict"), seeded.blobHashes());
            writeDictionary(work.resolve("log-subjects.dict"), seeded.logSubjects());
            int operations = documentedOperations(s);

            Path output = work.resolve("output.txt");
            ProcessBuilder pb = new ProcessBuilder(
                            schemathesis,
                            "--no-color",
                            "--config-file",
                            "schemathesis.toml",
                            "run",
                            s.uri() + "/openapi.json",
                            "--checks",
                            "all",
                            "--max-examples",
                            Integer.toString(MAX_EXAMPLES),
                            "--workers",
                            "1",
                            "--report",
                            "junit",
                            "--report-dir",
                            "report")
                    .directory(work.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(output.toFile());
            pb.environment().put("FEDSEAL_CONTRACT_TOKEN", s.adminToken());
            pb.environment()
                    .put(
                            "HYPOTHESIS_STORAGE_DIRECTORY",
                            work.resolve(".hypothesis").toString());
            pb.environment().put("NO_COLOR", "1");
            pb.environment().put("COLUMNS", "140");
            long t0 = System.nanoTime();
            Process p = pb.start();
            if (!p.waitFor(RUN_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
                fail("schemathesis did not finish within " + RUN_TIMEOUT + "; its output so far (" + output + "):\n"
                        + Files.readString(output));
            }
            String out = Files.readString(output);
            System.out.printf(
                    "[contract] schemathesis ran in %.1f s; report in %s%n", (System.nanoTime() - t0) / 1e9, work);
            assertEquals(
                    0,
                    p.exitValue(),
                    "schemathesis found failures or errors: openapi.json and the registry disagree. "
                            + "Fix the document or the server (src/test/resources/contract/schemathesis.toml explains the few "
                            + "documented exceptions). Its report (also in " + output + "):\n" + out);
            assertTrue(
                    out.contains("Selected: " + operations + "/" + operations) && out.contains("Tested: " + operations),
                    "schemathesis did not test all " + operations + " documented operations:\n" + out);
        }
    }

    @Test
    void undeclaredMethodsGet405WithAllowAndOptionsAnswers() throws Exception {
        try (RegistryServer s = Fixture.server(dir)) {
            HttpResponse<String> r = send(s, "DELETE", "/api/models", null, null);
            assertEquals(405, r.statusCode());
            assertEquals(
                    "GET, HEAD, POST, OPTIONS", r.headers().firstValue("Allow").orElse(null));
            assertEquals(
                    "method_not_allowed", JSON.readTree(r.body()).get("code").asText());
            // before authentication: a mutating path answers 405, not 401, to a method it does not have
            r = send(s, "GET", "/api/clients", null, null);
            assertEquals(405, r.statusCode());
            assertEquals("POST, OPTIONS", r.headers().firstValue("Allow").orElse(null));
            r = send(s, "PATCH", "/api/log/sth", "{}", null);
            assertEquals(405, r.statusCode());
            assertEquals("GET, HEAD, OPTIONS", r.headers().firstValue("Allow").orElse(null));
            r = send(s, "POST", "/api/versions/" + "ab".repeat(32) + "/accuracy", "{}", s.adminToken());
            assertEquals("PUT, OPTIONS", r.headers().firstValue("Allow").orElse(null));

            r = send(s, "OPTIONS", "/api/models/m/rounds", null, null);
            assertEquals(204, r.statusCode());
            assertEquals(
                    "GET, HEAD, POST, OPTIONS", r.headers().firstValue("Allow").orElse(null));
            assertEquals(
                    404, send(s, "OPTIONS", "/api/nothing-here", null, null).statusCode());
            assertEquals(404, send(s, "DELETE", "/api/nothing-here", null, null).statusCode());
        }
    }

    @Test
    void requestFieldsAreParsedAsDocumentedNotCoerced() throws Exception {
        try (RegistryServer s = Fixture.server(dir)) {
            RegistryClient c = Fixture.client(s);
            String token = s.adminToken();
            // registerModel: one of weightsBase64 / weights, each of its documented type
            assertBadRequest(
                    s,
                    "POST",
                    "/api/models",
                    "{\"modelId\":\"a\",\"architecture\":\"x\",\"heParamsId\":\"ckks-8192-v1\","
                            + "\"weightsBase64\":123456789012345678}",
                    token);
            assertBadRequest(
                    s,
                    "POST",
                    "/api/models",
                    "{\"modelId\":\"a\",\"architecture\":\"x\",\"heParamsId\":\"ckks-8192-v1\","
                            + "\"weightsBase64\":\"AAAAAA==\",\"weights\":[1]}",
                    token);
            assertBadRequest(
                    s,
                    "POST",
                    "/api/models",
                    "{\"modelId\":\"a\",\"architecture\":\"x\",\"heParamsId\":\"ckks-8192-v1\","
                            + "\"weights\":[3.5e38]}",
                    token);
            assertBadRequest(
                    s,
                    "POST",
                    "/api/models",
                    "{\"modelId\":\"a\",\"architecture\":\"x\",\"heParamsId\":\"ckks-8192-v1\","
                            + "\"weightsBase64\":\"AAAAAA\"}",
                    token);
            assertBadRequest(
                    s,
                    "POST",
                    "/api/models",
                    "{\"modelId\":\"a\",\"architecture\":\"x\",\"heParamsId\":\"ckks-8192-v1\","
                            + "\"weights\":[1],\"keyHolderId\":42}",
                    token);
            assertEquals(
                    201,
                    send(
                                    s,
                                    "POST",
                                    "/api/models",
                                    "{\"modelId\":\"a\",\"architecture\":\"x\",\"heParamsId\":\"ckks-8192-v1\","
                                            + "\"weightsBase64\":\"AAAAAA==\",\"keyHolderId\":null}",
                                    token)
                            .statusCode());

            SigningKeyPair holder = Fixture.setUpModel(c, "m");
            assertBadRequest(s, "POST", "/api/models/m/rounds", "{\"quorum\":1.5,\"deadlineSeconds\":60}", token);
            assertBadRequest(
                    s,
                    "POST",
                    "/api/models/m/rounds",
                    "{\"quorum\":2,\"deadlineSeconds\":60,\"deadlineEpochMillis\":"
                            + (System.currentTimeMillis() + 60_000) + "}",
                    token);
            assertBadRequest(
                    s, "POST", "/api/models/m/rounds", "{\"quorum\":2,\"deadlineSeconds\":9300000000000000}", token);
            assertBadRequest(
                    s,
                    "POST",
                    "/api/models/m/rounds",
                    "{\"quorum\":2,\"deadlineSeconds\":60,\"localEpochs\":\"2\"}",
                    token);
            assertBadRequest(
                    s,
                    "POST",
                    "/api/clients",
                    "{\"clientId\":\"k\",\"publicKey\":\""
                            + Base64.getEncoder()
                                    .encodeToString(SigningKeyPair.generate()
                                            .publicKey()
                                            .toX509()) + "\",\"modelIds\":\"m\"}",
                    token);
            assertBadRequest(s, "POST", "/api/models/m/ceremonies", "{\"holderIds\":[1,2]}", token);
            assertBadRequest(s, "GET", "/api/log/inclusion?treeSize=1", null, null);
            assertBadRequest(s, "GET", "/api/log/consistency?first=0", null, null);
            assertBadRequest(s, "GET", "/api/log/entries?start=1.5", null, null);
            assertEquals(
                    200, send(s, "GET", "/api/log/entries?start=0", null, null).statusCode());

            // A version posted under another model's path is refused before anything is stored.
            Fixture.setUpModel(c, "other");
            RoundInfo round = c.openRound("m", 2, Duration.ofMinutes(10), 1, 6);
            Hash base = Hash.fromHex(round.baseModelHash());
            Fixture.RoundRun run = Fixture.simulateRound("m", round.round(), base, 2, false);
            Fixture.ingest(s, run);
            byte[] w = RegistryClient.floatsToBytes(new float[Fixture.PARAMS]);
            ModelVersionPublished v = Fixture.nextVersion("m", base, run, w, holder);
            String body = JSON.writeValueAsString(java.util.Map.of(
                    "record",
                    Base64.getEncoder().encodeToString(WireCodec.UNBOUNDED.encode(v)),
                    "publisherId",
                    "m-holder",
                    "weightsBase64",
                    Base64.getEncoder().encodeToString(w)));
            assertBadRequest(s, "POST", "/api/models/other/versions", body, null);
            assertEquals(1, c.versions("m").size(), "nothing stored for the refused request");
            assertEquals(
                    201, send(s, "POST", "/api/models/m/versions", body, null).statusCode());
        }
    }

    // ------------------------------------------------------------------ seeding

    /** Hashes of the seeded data (its ids are fixed: schemathesis.toml names them). */
    private record Seeded(
            List<String> versionHashes, List<String> heKeyHashes, List<String> blobHashes, List<String> logSubjects) {}

    /**
     * contract-mlp: HE key, key holder contract-mlp-holder, round 1 closed with its aggregate and a
     * published version (accuracy 0.5; version 0 has none), round 2 open. contract-threshold: a
     * threshold model with a layout whose ceremony contract-ceremony (holders contract-kh-1, contract-kh-2) is open.
     */
    private static Seeded seed(RegistryServer s) {
        RegistryClient c = Fixture.client(s);
        SigningKeyPair holder = Fixture.setUpModel(c, "contract-mlp");
        Fixture.RoundRun run = Fixture.fullRound(s, c, "contract-mlp", holder, 0.5);
        c.openRound("contract-mlp", 2, Duration.ofHours(1), 1, 6);
        // with a layout, so that GET /api/models/{modelId}/layout has something to serve
        c.registerModel(
                "contract-threshold",
                "mlp 10",
                HeParameters.CKKS_8192_T50.id(),
                RegistryClient.floatsToBytes(new float[Fixture.PARAMS]),
                null,
                ModelExportTest.layout());
        c.enrollClient("contract-kh-1", SigningKeyPair.generate().publicKey(), List.of("contract-threshold"));
        c.enrollClient("contract-kh-2", SigningKeyPair.generate().publicKey(), List.of("contract-threshold"));
        c.openCeremony("contract-threshold", "contract-ceremony", List.of("contract-kh-1", "contract-kh-2"));

        List<VersionInfo> versions = new ArrayList<>(c.versions("contract-mlp"));
        versions.addAll(c.versions("contract-threshold"));
        List<String> updates = run.updateHashes().stream().map(Hash::toHex).toList();
        List<String> blobs =
                new ArrayList<>(versions.stream().map(VersionInfo::weightsHash).toList());
        blobs.addAll(updates);
        blobs.add(CanonicalHash.of(run.aggregate()).toHex());
        return new Seeded(
                versions.stream().map(VersionInfo::versionHash).toList(),
                List.of(c.model("contract-mlp").hePublicKeyHash()),
                blobs,
                updates);
    }

    /** A schemathesis dictionary file (libFuzzer format: one quoted entry per line). */
    private static void writeDictionary(Path file, List<String> values) throws IOException {
        Files.writeString(
                file, values.stream().distinct().map(v -> "\"" + v + "\"\n").collect(Collectors.joining()));
    }

    /** Operations schemathesis must test: every documented one but GET /openapi.json, the document itself, which it skips. */
    private static int documentedOperations(RegistryServer s) throws Exception {
        JsonNode doc = JSON.readTree(send(s, "GET", "/openapi.json", null, null).body());
        int n = 0;
        for (var paths = doc.get("paths").fields(); paths.hasNext(); ) {
            var path = paths.next();
            for (var it = path.getValue().fieldNames(); it.hasNext(); ) {
                String method = it.next();
                if (HTTP_METHODS.contains(method) && !(path.getKey().equals("/openapi.json") && method.equals("get"))) {
                    n++;
                }
            }
        }
        return n;
    }

    // ------------------------------------------------------------------ schemathesis

    /** The schemathesis executable: -Dfedseal.schemathesis, else the project's venv (installed now if missing). */
    private static String schemathesisExecutable(Path basedir) throws Exception {
        String configured = System.getProperty("fedseal.schemathesis", "");
        if (!configured.isBlank()) {
            assertTrue(
                    Files.isExecutable(Path.of(configured)),
                    "-Dfedseal.schemathesis=" + configured + " is not an executable");
            return configured;
        }
        Path script = basedir.resolve("scripts").resolve("schemathesis-venv.sh");
        Path log = Files.createTempFile("schemathesis-venv", ".log");
        try {
            Process p = new ProcessBuilder("bash", script.toString())
                    .redirectError(log.toFile())
                    .start();
            String stdout;
            try (InputStream in = p.getInputStream()) {
                stdout = new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
            }
            if (!p.waitFor(INSTALL_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
            }
            String executable = stdout.lines().reduce((a, b) -> b).orElse("");
            if (p.exitValue() != 0 || executable.isEmpty() || !Files.isExecutable(Path.of(executable))) {
                fail("cannot get schemathesis for the OpenAPI contract test: " + script + " exited " + p.exitValue()
                        + " (it installs the pinned schemathesis from PyPI once; scripts/setup.sh runs it). Run it by hand, "
                        + "or pass -Dfedseal.schemathesis=<executable>, or skip this test with -Dfedseal.contract.skip=true. "
                        + "Its output:\n" + stdout + "\n" + Files.readString(log));
            }
            return executable;
        } finally {
            Files.deleteIfExists(log);
        }
    }

    private static void copyResource(String name, Path dir) throws IOException {
        try (InputStream in = OpenApiContractTest.class.getClassLoader().getResourceAsStream(name)) {
            assertTrue(in != null, "missing test resource " + name);
            Files.write(dir.resolve(Path.of(name).getFileName()), in.readAllBytes());
        }
    }

    private static void deleteRecursively(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> all = Files.walk(p)) {
            for (Path f : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(f);
            }
        }
    }

    // ------------------------------------------------------------------ HTTP

    private static HttpResponse<String> send(RegistryServer s, String method, String path, String json, String token)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(s.uri() + path))
                .timeout(Duration.ofSeconds(30))
                .method(
                        method,
                        json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
        if (json != null) {
            b.header("Content-Type", "application/json");
        }
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static void assertBadRequest(RegistryServer s, String method, String path, String json, String token)
            throws Exception {
        HttpResponse<String> r = send(s, method, path, json, token);
        assertEquals(400, r.statusCode(), method + " " + path + " " + json + " -> " + r.body());
        assertFalse(JSON.readTree(r.body()).get("message").asText().isEmpty());
    }
}
