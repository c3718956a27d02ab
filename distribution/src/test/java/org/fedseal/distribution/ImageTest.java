package org.fedseal.distribution;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Each OCI image tarball Jib built: a Docker/OCI archive (manifest, config, layers) whose config's
 * entrypoint is the image's own java running the service. Its layers are unpacked into a root
 * file system and the entrypoint runs there with {@code --help}, chroot-free: through the image's
 * dynamic loader and shared libraries, its jlink'ed JRE and the class path Jib wrote.
 */
class ImageTest {
    static final Path IMAGES = Path.of(System.getProperty("fedseal.images"));
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @ParameterizedTest
    @CsvSource({
        "registry,  org.fedseal.registry.cli.FedsealCli, Usage: fedseal registry serve",
        "keyholder, org.fedseal.coordinator.KeyHolderMain, Usage: fedseal-keyholder",
        "combiner,  org.fedseal.coordinator.CombinerMain, Usage: fedseal-combiner",
    })
    void imageRunsItsServiceFromItsOwnRuntime(String name, String mainClass, String usage) throws Exception {
        Path archive = IMAGES.resolve("fedseal-" + name + "-image.tar");
        assertTrue(Files.isRegularFile(archive), archive + " missing");
        Path extracted = Files.createDirectories(dir.resolve("archive"));
        DistributionTest.Result untar =
                DistributionTest.run(List.of("tar", "xf", archive.toString()), extracted, Map.of());
        assertEquals(0, untar.exit(), untar.output());

        JsonNode manifest =
                JSON.readTree(extracted.resolve("manifest.json").toFile()).get(0);
        assertEquals(
                "fedseal/" + name + ":" + DistributionTest.VERSION,
                manifest.get("RepoTags").get(0).asText());
        JsonNode config =
                JSON.readTree(extracted.resolve(manifest.get("Config").asText()).toFile());
        assertEquals("linux", config.get("os").asText());
        assertEquals("amd64", config.get("architecture").asText());
        List<String> entrypoint = new ArrayList<>();
        config.get("config").get("Entrypoint").forEach(a -> entrypoint.add(a.asText()));
        assertEquals(
                List.of("/opt/java/bin/java", "-cp", "@/app/jib-classpath-file", mainClass),
                entrypoint.subList(0, 4),
                "entrypoint " + entrypoint);

        Path rootfs = Files.createDirectories(dir.resolve("rootfs"));
        for (JsonNode layer : manifest.get("Layers")) {
            DistributionTest.Result r = DistributionTest.run(
                    List.of("tar", "xzf", extracted.resolve(layer.asText()).toString(), "-C", rootfs.toString()),
                    rootfs,
                    Map.of());
            assertEquals(0, r.exit(), r.output());
        }

        // The entrypoint, its absolute paths moved under rootfs; run by the image's loader on the image's libraries.
        String classPath = Stream.of(Files.readString(rootfs.resolve("app/jib-classpath-file"))
                        .trim()
                        .split(":"))
                .map(p -> rootfs + p)
                .collect(Collectors.joining(":"));
        List<String> cmd = new ArrayList<>(List.of(
                rootfs.resolve("lib64/ld-linux-x86-64.so.2").toString(),
                "--library-path",
                rootfs.resolve("lib/x86_64-linux-gnu").toString(),
                rootfs + entrypoint.get(0),
                "-cp",
                classPath));
        cmd.addAll(entrypoint.subList(3, entrypoint.size()));
        cmd.add("--help");
        DistributionTest.Result r = DistributionTest.run(cmd, rootfs, Map.of("PATH", "/usr/bin:/bin"));
        assertEquals(0, r.exit(), r.output());
        assertTrue(r.output().contains(usage), "no '" + usage + "' in:\n" + r.output());
    }
}
