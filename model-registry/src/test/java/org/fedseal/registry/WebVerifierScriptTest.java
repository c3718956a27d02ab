package org.fedseal.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.fedseal.protocol.ConsistencyProof;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.InclusionProof;
import org.fedseal.protocol.MerkleLog;
import org.fedseal.protocol.SigningKeyPair;
import org.fedseal.registry.internal.HttpApi;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The web page's own verifiers (RFC 9162 inclusion and consistency, leaf hashes, the tree head's
 * Ed25519 signature) agree with fl-protocol's {@link MerkleLog} and Signatures on every proof of
 * logs of 1 to 40 entries, and reject forged paths; run by Node's WebCrypto (skipped without
 * {@code node}). The browser runs the same code in {@link WebPageTest}.
 */
class WebVerifierScriptTest {
    @TempDir
    Path dir;

    @Test
    void pageVerifiersAgreeWithFlProtocol() throws Exception {
        Path node = findNode();
        assumeTrue(node != null, "node not on PATH; the browser test still runs these verifiers on a real log");
        MerkleLog log = MerkleLog.inMemory("vectors");
        List<Map<String, Object>> entries = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            byte[] e = ("entry " + i).getBytes(StandardCharsets.UTF_8);
            log.append(e);
            entries.add(Map.of(
                    "index",
                    i,
                    "entry",
                    Base64.getEncoder().encodeToString(e),
                    "leafHash",
                    log.leafHash(i).toHex()));
        }
        List<Map<String, Object>> inclusion = new ArrayList<>();
        List<Map<String, Object>> consistency = new ArrayList<>();
        for (int n : new int[] {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 40}) {
            for (int i = 0; i < n; i++) {
                InclusionProof p = log.inclusionProof(i, n);
                inclusion.add(Map.of(
                        "index",
                        i,
                        "treeSize",
                        n,
                        "leafHash",
                        log.leafHash(i).toHex(),
                        "path",
                        p.path().stream().map(Hash::toHex).toList(),
                        "root",
                        log.rootHash(n).toHex()));
            }
            for (int m = 1; m <= n; m++) {
                ConsistencyProof p = log.consistencyProof(m, n);
                consistency.add(Map.of(
                        "size1",
                        m,
                        "size2",
                        n,
                        "path",
                        p.path().stream().map(Hash::toHex).toList(),
                        "root1",
                        log.rootHash(m).toHex(),
                        "root2",
                        log.rootHash(n).toHex()));
            }
        }
        SigningKeyPair key = SigningKeyPair.generate();
        Map<String, Object> cases = new LinkedHashMap<>();
        cases.put("entries", entries);
        cases.put("inclusion", inclusion);
        cases.put("consistency", consistency);
        cases.put("sth", HttpApi.sthJson(log.signedTreeHead(key.privateKey(), 1_764_000_000_000L)));
        cases.put(
                "publicKey", Base64.getEncoder().encodeToString(key.publicKey().toX509()));
        Path casesFile = dir.resolve("cases.json");
        new ObjectMapper().writeValue(casesFile.toFile(), cases);
        Path appJs = dir.resolve("app.js");
        Path script = dir.resolve("verify-vectors.mjs");
        try (var in = WebVerifierScriptTest.class.getResourceAsStream("/org/fedseal/registry/web/app.js");
                var s = WebVerifierScriptTest.class.getResourceAsStream("/web/verify-vectors.mjs")) {
            Files.write(appJs, in.readAllBytes());
            Files.write(script, s.readAllBytes());
        }
        Process p = new ProcessBuilder(node.toString(), script.toString(), appJs.toString(), casesFile.toString())
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "node finished");
        assertEquals(0, p.exitValue(), out);
        int expected = entries.size()
                + inclusion.size()
                + consistency.size()
                + 3
                + (int) inclusion.stream()
                        .filter(c -> !((List<?>) c.get("path")).isEmpty())
                        .count()
                + (int) consistency.stream()
                        .filter(c -> !((List<?>) c.get("path")).isEmpty())
                        .count();
        assertTrue(out.contains(expected + " passed, 0 failed"), out);
    }

    private static Path findNode() {
        for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
            Path p = Path.of(d, "node");
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }
}
