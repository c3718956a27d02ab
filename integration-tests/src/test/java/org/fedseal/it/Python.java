package org.fedseal.it;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The project's Python venv (scripts/python-venv.sh: safetensors, numpy, scikit-learn), which
 * scripts/setup.sh installs; installed here if missing, and the test fails, saying why, if it cannot be.
 */
final class Python {
    private static String python;

    private Python() {}

    /** The repository root (the integration-tests module's parent). */
    static Path repo() {
        return Path.of(System.getProperty("basedir", "")).toAbsolutePath().getParent();
    }

    /** The venv's python executable; runs scripts/python-venv.sh once per JVM (a no-op when installed). */
    static synchronized String executable() throws Exception {
        if (python == null) {
            Path script = repo().resolve("scripts").resolve("python-venv.sh");
            Path err = Files.createTempFile("python-venv", ".log");
            Process p = new ProcessBuilder("bash", script.toString())
                    .redirectError(err.toFile())
                    .start();
            String stdout;
            try (InputStream in = p.getInputStream()) {
                stdout = new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
            }
            if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
                fail("cannot get the project's Python venv: " + script
                        + " failed (it installs the pinned packages from PyPI once; " + "./fedseal setup runs it): "
                        + stdout + "\n" + Files.readString(err));
            }
            Files.deleteIfExists(err);
            String exe = stdout.lines().reduce((a, b) -> b).orElse("");
            assertTrue(Files.isExecutable(Path.of(exe)), "not an executable: " + exe);
            python = exe;
        }
        return python;
    }

    /**
     * Runs model-registry/scripts/check_safetensors.py on {@code file} against {@code expected}
     * ({@code {"metadata": {...}, "tensors": {name: {"shape": [...], "f32le": base64}}}}); its output.
     */
    static String checkSafetensors(Path file, Map<String, Object> expected) throws Exception {
        Path expectedFile = Files.createTempFile("expected", ".json");
        Files.write(expectedFile, new ObjectMapper().writeValueAsBytes(expected));
        Process p = new ProcessBuilder(
                        executable(),
                        repo().resolve("model-registry/scripts/check_safetensors.py")
                                .toString(),
                        file.toString(),
                        expectedFile.toString())
                .redirectErrorStream(true)
                .start();
        String out;
        try (InputStream in = p.getInputStream()) {
            out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the Python check did not finish");
        Files.deleteIfExists(expectedFile);
        return out;
    }
}
