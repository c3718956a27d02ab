package org.fedseal.he.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/**
 * Loads {@code libfedseal_he} from the jar: copied to a fresh temporary file, then
 * {@link System#load}. The system property {@code fedseal.he.library} names a library file to
 * use instead (for platforms the jar does not carry); it is copied the same way.
 *
 * <p><b>One copy per class loader.</b> The JVM binds a native library file to the first class
 * loader that loads it and refuses it to any other ("already loaded in another classloader").
 * A Flink TaskManager gives every job, and every restart of a job, a new user-code class loader
 * in the same JVM, and each of them initializes {@link NativeHe} again. So every load copies
 * the library to a file of its own (its own inode, so {@code dlopen} maps a separate instance
 * with its own SEAL globals) and loads that; the file is deleted right after loading (the
 * mapping stays valid), so restarts leave no files behind. A class loader that is collected
 * unloads its copy. {@code NativeLibraryClassLoaderTest} loads the library from two class
 * loaders of one JVM; the Flink cluster test does it inside a TaskManager across a restart.
 */
final class NativeLibrary {
    static final String OVERRIDE_PROPERTY = "fedseal.he.library";
    private static final String LIBRARY = "libfedseal_he.so";

    private NativeLibrary() {}

    static synchronized void load() {
        String override = System.getProperty(OVERRIDE_PROPERTY);
        if (override != null && !override.isBlank()) {
            Path file = Path.of(override).toAbsolutePath();
            try (InputStream in = Files.newInputStream(file)) {
                loadCopy(in, file.getFileName().toString());
            } catch (IOException e) {
                throw new UnsatisfiedLinkError("cannot read " + file + " (-D" + OVERRIDE_PROPERTY + "): " + e);
            }
            return;
        }
        String platform = platform();
        String resource = "/org/fedseal/he/native/" + platform + "/" + LIBRARY;
        try (InputStream in = NativeLibrary.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new UnsatisfiedLinkError(
                        "FedSeal he-native has no native library for platform '" + platform + "' (looked for "
                                + resource + "). Supported: linux-x86_64. Build he-native on this platform, or set -D"
                                + OVERRIDE_PROPERTY + "=/path/to/" + LIBRARY);
            }
            loadCopy(in, LIBRARY);
        } catch (IOException e) {
            throw new UnsatisfiedLinkError("cannot extract " + resource + ": " + e);
        }
    }

    /** Copies the library to a new temporary directory, loads it, and deletes the copy. */
    private static void loadCopy(InputStream library, String fileName) throws IOException {
        Path dir = Files.createTempDirectory("fedseal-he");
        Path file = dir.resolve(fileName);
        try {
            Files.copy(library, file, StandardCopyOption.REPLACE_EXISTING);
            System.load(file.toAbsolutePath().toString());
        } finally {
            // Loaded (or failed): the mapping does not need the file any more.
            Files.deleteIfExists(file);
            Files.deleteIfExists(dir);
        }
    }

    static String platform() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        String osName =
                os.contains("linux") ? "linux" : os.contains("mac") ? "macos" : os.contains("win") ? "windows" : os;
        String archName =
                arch.equals("amd64") || arch.equals("x86_64") ? "x86_64" : arch.equals("aarch64") ? "aarch64" : arch;
        return osName + "-" + archName;
    }
}
