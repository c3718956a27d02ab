package org.fedseal.distribution;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The tarball as a user gets it: unpacked into an empty directory, every bin/ script runs with
 * nothing but a JDK (the environment holds only JAVA_HOME and PATH, the working directory is
 * elsewhere) and prints its usage.
 */
class DistributionTest {
    static final String VERSION = System.getProperty("fedseal.version");
    static final Path TARBALL = Path.of(System.getProperty("fedseal.tarball"));

    @TempDir
    static Path unpacked;

    static Path home;

    @BeforeAll
    static void unpack() throws Exception {
        Result tar = run(List.of("tar", "xzf", TARBALL.toString()), unpacked, Map.of());
        assertEquals(0, tar.exit(), tar.output());
        home = unpacked.resolve("fedseal-" + VERSION);
    }

    @Test
    void layoutHasScriptsConfigJarsAndTheJob() throws IOException {
        for (String script : List.of("fedseal", "fedseal-registry", "fedseal-keyholder", "fedseal-combiner")) {
            assertTrue(Files.isExecutable(home.resolve("bin").resolve(script)), script + " is not executable");
        }
        for (String conf : List.of("registry.properties", "keyholder.args", "combiner.args", "aggregator.properties")) {
            assertTrue(Files.isRegularFile(home.resolve("conf").resolve(conf)), "conf/" + conf);
        }
        List<String> lib = names(home.resolve("lib"));
        for (String jar :
                List.of("model-registry", "coordinator", "he-native", "fl-protocol", "fl-client-sdk", "picocli")) {
            assertTrue(
                    lib.stream().anyMatch(n -> n.startsWith(jar + "-") && n.endsWith(".jar")),
                    jar + " not in lib/: " + lib);
        }
        assertTrue(
                lib.stream().noneMatch(n -> n.startsWith("flink-") || n.startsWith("aggregator-")),
                "Flink in lib/: " + lib);
        assertEquals(List.of("aggregator-" + VERSION + "-job.jar"), names(home.resolve("jobs")));
    }

    @ParameterizedTest
    @CsvSource({
        "fedseal,          Usage: fedseal [",
        "fedseal-registry, Usage: fedseal registry serve",
        "fedseal-keyholder, Usage: fedseal-keyholder",
        "fedseal-combiner, Usage: fedseal-combiner",
    })
    void everyScriptPrintsItsUsageWithOnlyAJdk(String script, String usage) throws Exception {
        Path elsewhere = Files.createDirectories(unpacked.resolve("cwd-" + script));
        Result r =
                run(List.of(home.resolve("bin").resolve(script).toString(), "--help"), elsewhere, cleanEnvironment());
        assertEquals(0, r.exit(), r.output());
        assertTrue(r.output().contains(usage), "no '" + usage + "' in:\n" + r.output());
    }

    @Test
    void theKeyHolderLoadsHeNativeFromItsJar() throws Exception {
        // The usage is printed before any SEAL call; this loads the native library from lib/ as a service does.
        Path probe = unpacked.resolve("probe");
        Files.createDirectories(probe);
        Path src = probe.resolve("Probe.java");
        Files.writeString(
                src,
                "public class Probe { public static void main(String[] a) {"
                        + " try (var he = org.fedseal.he.HeContext.create(org.fedseal.he.HeParameters.CKKS_8192)) {"
                        + " System.out.println(\"SEAL OK \" + he); } } }");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Result r = run(List.of(java, "-cp", home.resolve("lib") + "/*", src.toString()), probe, cleanEnvironment());
        assertEquals(0, r.exit(), r.output());
        assertTrue(r.output().contains("SEAL OK"), r.output());
    }

    /** JAVA_HOME and PATH (the JDK's bin and the system's), nothing else. */
    static Map<String, String> cleanEnvironment() {
        String javaHome = System.getProperty("java.home");
        return Map.of("JAVA_HOME", javaHome, "PATH", javaHome + "/bin:/usr/bin:/bin");
    }

    static List<String> names(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    record Result(int exit, String output) {}

    static Result run(List<String> cmd, Path dir, Map<String, String> env) throws Exception {
        ProcessBuilder pb =
                new ProcessBuilder(new ArrayList<>(cmd)).directory(dir.toFile()).redirectErrorStream(true);
        if (!env.isEmpty()) {
            pb.environment().clear();
            pb.environment().putAll(env);
        }
        Process p = pb.start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(cmd + " did not end within 60 s:\n" + out);
        }
        return new Result(p.exitValue(), out);
    }
}
