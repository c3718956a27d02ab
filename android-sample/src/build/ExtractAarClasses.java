import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.zip.ZipFile;

/** Build helper (single-file java launcher): copies classes.jar out of an AAR. */
public class ExtractAarClasses {
    public static void main(String[] a) throws Exception {
        Path out = Path.of(a[1]);
        Files.createDirectories(out.getParent());
        try (ZipFile z = new ZipFile(a[0]); InputStream in = z.getInputStream(z.getEntry("classes.jar"))) {
            Files.copy(in, out, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
