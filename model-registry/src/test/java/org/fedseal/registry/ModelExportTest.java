package org.fedseal.registry;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.fedseal.he.HeParameters;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.ModelLayouts;
import org.fedseal.protocol.wire.DjlParamsTemplate;
import org.fedseal.protocol.wire.ModelLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Layouts stored with models, and {@code fedseal model export}: the safetensors file is read back
 * by the reference implementation (PyPI {@code safetensors} + {@code numpy}, in the venv of
 * {@code scripts/python-venv.sh}) and compared bit for bit; the DJL file puts the weights exactly
 * where the template says, after DJL's header and the properties. (integration-tests RegressionIT loads a real DJL file
 * with DJL's own {@code Model.load}.)
 */
class ModelExportTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    /** Two tensors, (2, 3) and (4): 10 values; a DJL template "AAAA|BB|CCC" with the data going at 4 and 6. */
    static ModelLayout layout() {
        DjlParamsTemplate djl = DjlParamsTemplate.newBuilder()
                .setInputs(ByteBuffer.wrap(new byte[] {0, 0, 0, 1, 0, 0, 9, 9}))
                .setBlockParameters(ByteBuffer.wrap("AAAABBCCC".getBytes(StandardCharsets.US_ASCII)))
                .setDataOffsets(List.of(4L, 6L))
                .setLittleEndian(true)
                .build();
        return ModelLayout.newBuilder()
                .setTensors(
                        List.of(ModelLayouts.tensor("01Linear_weight", 2, 3), ModelLayouts.tensor("01Linear_bias", 4)))
                .setArchitecture("test")
                .setDjl(djl)
                .build();
    }

    static float[] weights() {
        float[] w = new float[Fixture.PARAMS];
        for (int i = 0; i < w.length; i++) {
            w[i] = (i - 4) * 0.37f;
        }
        w[3] = -0.0f;
        w[7] = Float.MIN_VALUE;
        return w;
    }

    @Test
    void layoutIsStoredWithTheModelAndChecked() throws Exception {
        try (RegistryServer s = Fixture.server(dir)) {
            RegistryClient c = Fixture.client(s);
            ModelInfo m = c.registerModel(
                    "with-layout",
                    "mlp 2x3",
                    HeParameters.CKKS_8192.id(),
                    RegistryClient.floatsToBytes(weights()),
                    null,
                    layout());
            assertEquals(Hash.sha256(ModelLayouts.encode(layout())).toHex(), m.layoutHash());
            assertEquals(layout(), c.modelLayout("with-layout").orElseThrow());

            ModelInfo plain = c.registerModel("no-layout", "mlp", HeParameters.CKKS_8192.id(), weights());
            assertNull(plain.layoutHash());
            assertTrue(c.modelLayout("no-layout").isEmpty());
            assertEquals(
                    404,
                    assertThrows(RegistryException.class, () -> c.modelLayout("unknown"))
                            .status());

            RegistryException wrongSize = assertThrows(
                    RegistryException.class,
                    () -> c.registerModel(
                            "bad",
                            "mlp",
                            HeParameters.CKKS_8192.id(),
                            RegistryClient.floatsToBytes(new float[11]),
                            null,
                            layout()));
            assertEquals(400, wrongSize.status());
            assertTrue(wrongSize.getMessage().contains("hold 10 values, the model has 11"), wrongSize.getMessage());
            assertThrows(RegistryException.class, () -> c.model("bad"), "nothing stored for a refused layout");
        }
    }

    @Test
    void safetensorsExportLoadsInPythonWithTheSameValuesShapesAndVersionHash() throws Exception {
        try (RegistryServer s = Fixture.server(dir)) {
            RegistryClient c = Fixture.client(s);
            float[] w = weights();
            ModelInfo m = c.registerModel(
                    "st", "mlp 2x3", HeParameters.CKKS_8192.id(), RegistryClient.floatsToBytes(w), null, layout());
            Path out = Files.createDirectories(dir.resolve("out"));
            Fixture.Cli cli = Fixture.cli(
                    s, "model", "export", m.latestVersionHash(), "--format", "safetensors", "--output", out.toString());
            assertEquals(0, cli.code(), cli.out());
            Path file = out.resolve("st-0000.safetensors");
            assertTrue(cli.out().contains("wrote " + file + ": safetensors, 2 tensors, 10 parameters"), cli.out());

            // the format, read here by hand
            byte[] bytes = Files.readAllBytes(file);
            long headerLength =
                    ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
            assertEquals(0, headerLength % 8);
            JsonNode header = JSON.readTree(new String(bytes, 8, (int) headerLength, StandardCharsets.UTF_8));
            assertEquals(
                    m.latestVersionHash(),
                    header.get("__metadata__").get(ModelExport.VERSION_HASH).asText());
            assertEquals("[2,3]", header.get("01Linear_weight").get("shape").toString());
            assertEquals(
                    "[24,40]", header.get("01Linear_bias").get("data_offsets").toString());
            assertEquals(8 + headerLength + 40, bytes.length);

            // and by the reference implementation
            Map<String, Object> expected = new LinkedHashMap<>();
            expected.put(
                    "metadata",
                    Map.of(
                            ModelExport.VERSION_HASH,
                            m.latestVersionHash(),
                            ModelExport.MODEL_ID,
                            "st",
                            ModelExport.SEQUENCE,
                            "0",
                            "format",
                            "pt"));
            Map<String, Object> tensors = new LinkedHashMap<>();
            tensors.put("01Linear_weight", Map.of("shape", List.of(2, 3), "f32le", f32le(Arrays.copyOfRange(w, 0, 6))));
            tensors.put("01Linear_bias", Map.of("shape", List.of(4), "f32le", f32le(Arrays.copyOfRange(w, 6, 10))));
            expected.put("tensors", tensors);
            String check = pythonCheck(file, expected, dir);
            assertTrue(check.startsWith("OK "), check);
            System.out.println("[export] " + check.trim());

            // a deliberately wrong expectation is caught (the check is not a rubber stamp)
            tensors.put("01Linear_bias", Map.of("shape", List.of(4), "f32le", f32le(new float[] {1, 2, 3, 4})));
            String wrong = pythonCheck(file, expected, dir);
            assertTrue(wrong.startsWith("FAIL") && wrong.contains("01Linear_bias: 4 of 4 values differ"), wrong);
        }
    }

    @Test
    void djlExportPutsTheWeightsWhereTheTemplateSays() throws Exception {
        try (RegistryServer s = Fixture.server(dir)) {
            RegistryClient c = Fixture.client(s);
            float[] w = weights();
            ModelInfo m = c.registerModel(
                    "dj", "mlp 2x3", HeParameters.CKKS_8192.id(), RegistryClient.floatsToBytes(w), null, layout());
            Path file = dir.resolve("named.params");
            Fixture.Cli cli = Fixture.cli(s, "model", "export", "dj", "--format", "DJL", "-o", file.toString());
            assertEquals(0, cli.code(), cli.out());
            assertTrue(cli.out().contains("model.load("), cli.out());

            DataInputStream in = new DataInputStream(new ByteArrayInputStream(Files.readAllBytes(file)));
            assertEquals("DJL@", new String(in.readNBytes(4), StandardCharsets.US_ASCII));
            assertEquals(1, in.readInt());
            assertEquals("dj", in.readUTF());
            assertEquals("FLOAT32", in.readUTF());
            assertArrayEquals(new byte[] {0, 0, 0, 1, 0, 0, 9, 9}, in.readNBytes(8));
            int properties = in.readInt();
            Map<String, String> props = new LinkedHashMap<>();
            for (int i = 0; i < properties; i++) {
                props.put(in.readUTF(), in.readUTF());
            }
            assertEquals(m.latestVersionHash(), props.get(ModelExport.VERSION_HASH));
            assertEquals("mlp 2x3", props.get(ModelExport.ARCHITECTURE));
            assertEquals("AAAA", new String(in.readNBytes(4), StandardCharsets.US_ASCII));
            assertArrayEquals(Arrays.copyOfRange(w, 0, 6), floats(in.readNBytes(24)));
            assertEquals("BB", new String(in.readNBytes(2), StandardCharsets.US_ASCII));
            assertArrayEquals(Arrays.copyOfRange(w, 6, 10), floats(in.readNBytes(16)));
            assertEquals("CCC", new String(in.readAllBytes(), StandardCharsets.US_ASCII));

            // without a layout: DJL is refused, safetensors falls back to one flat tensor
            ModelInfo plain = c.registerModel("flat", "mlp", HeParameters.CKKS_8192.id(), w);
            Fixture.Cli refused = Fixture.cli(
                    s, "model", "export", plain.latestVersionHash(), "--format", "djl", "-o", dir.toString());
            assertEquals(1, refused.code(), refused.out());
            assertTrue(refused.out().contains("registered without a layout"), refused.out());
            Fixture.Cli flat =
                    Fixture.cli(s, "model", "export", "flat", "--format", "safetensors", "-o", dir.toString());
            assertEquals(0, flat.code(), flat.out());
            assertTrue(flat.out().contains("1 tensors, 10 parameters"), flat.out());
            Fixture.Cli badFormat = Fixture.cli(s, "model", "export", "flat", "--format", "onnx");
            assertEquals(2, badFormat.code(), badFormat.out());
        }
    }

    static String f32le(float[] values) {
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return Base64.getEncoder().encodeToString(b.array());
    }

    static float[] floats(byte[] le) {
        float[] out = new float[le.length / 4];
        ByteBuffer.wrap(le).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
    }

    /** Runs model-registry/scripts/check_safetensors.py with the project venv's python; its output. */
    static String pythonCheck(Path file, Map<String, Object> expected, Path work) throws Exception {
        Path expectedFile = Files.createTempFile(work, "expected", ".json");
        Files.write(expectedFile, JSON.writeValueAsBytes(expected));
        Path basedir = Path.of(System.getProperty("basedir", "")).toAbsolutePath();
        Process p = new ProcessBuilder(
                        python(basedir),
                        basedir.resolve("scripts")
                                .resolve("check_safetensors.py")
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
        return out;
    }

    /**
     * The python of the project's venv (scripts/python-venv.sh at the repository root, which
     * scripts/setup.sh runs): installed now if missing; the test fails, saying why, if it cannot be.
     */
    static String python(Path basedir) throws Exception {
        Path script = basedir.getParent().resolve("scripts").resolve("python-venv.sh");
        Process p = new ProcessBuilder("bash", script.toString())
                .redirectErrorStream(false)
                .start();
        String stdout;
        try (InputStream in = p.getInputStream()) {
            stdout = new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
        }
        String stderr = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
            fail("cannot get the project's Python venv (safetensors, numpy): " + script
                    + " failed (it installs the pinned " + "packages from PyPI once; ./fedseal setup runs it): "
                    + stdout + "\n" + stderr);
        }
        String python = stdout.lines().reduce((a, b) -> b).orElse("");
        assertNotNull(python);
        assertTrue(Files.isExecutable(Path.of(python)), "not an executable: " + python);
        return python;
    }
}
