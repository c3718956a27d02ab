package org.fedseal.he.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/**
 * Loads {@code libfedseal_he} from the jar: extracted to a temporary file, then
 * {@link System#load}. The system property {@code fedseal.he.library} names a library file
 * to load instead (for platforms the jar does not carry).
 */
final class NativeLibrary {
  static final String OVERRIDE_PROPERTY = "fedseal.he.library";
  private static final String LIBRARY = "libfedseal_he.so";

  private NativeLibrary() {}

  static synchronized void load() {
    String override = System.getProperty(OVERRIDE_PROPERTY);
    if (override != null && !override.isBlank()) {
      System.load(Path.of(override).toAbsolutePath().toString());
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
      Path dir = Files.createTempDirectory("fedseal-he");
      Path file = dir.resolve(LIBRARY);
      Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
      file.toFile().deleteOnExit();
      dir.toFile().deleteOnExit();
      System.load(file.toAbsolutePath().toString());
    } catch (IOException e) {
      throw new UnsatisfiedLinkError("cannot extract " + resource + ": " + e);
    }
  }

  static String platform() {
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
    String osName = os.contains("linux") ? "linux" : os.contains("mac") ? "macos" : os.contains("win") ? "windows" : os;
    String archName = arch.equals("amd64") || arch.equals("x86_64") ? "x86_64" : arch.equals("aarch64") ? "aarch64" : arch;
    return osName + "-" + archName;
  }
}
