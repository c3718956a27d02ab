import java.io.BufferedReader;
import java.io.DataOutputStream;
import java.io.FileOutputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.ZipFile;

/**
 * Build-time generator (run with the single-file java launcher): writes the first N MNIST digits of
 * dl4j-test-resources' mnist2500 as the app's asset: "FSDG", int count, int 784, then per digit one
 * label byte and 784 pixel bytes (0 = background, 255 = ink; the source stores inverted floats).
 */
public class GenerateDigits {
    public static void main(String[] a) throws Exception {
        String jar = a[0];
        Path out = Path.of(a[1]);
        int n = Integer.parseInt(a[2]);
        Files.createDirectories(out.getParent());
        try (ZipFile z = new ZipFile(jar);
             BufferedReader x = new BufferedReader(new InputStreamReader(z.getInputStream(z.getEntry("mnist2500_X.txt")), StandardCharsets.US_ASCII));
             BufferedReader y = new BufferedReader(new InputStreamReader(z.getInputStream(z.getEntry("mnist2500_labels.txt")), StandardCharsets.US_ASCII));
             DataOutputStream o = new DataOutputStream(new FileOutputStream(out.toFile()))) {
            o.writeBytes("FSDG");
            o.writeInt(n);
            o.writeInt(784);
            for (int i = 0; i < n; i++) {
                String[] px = x.readLine().trim().split("\\s+");
                if (px.length != 784) {
                    throw new IllegalStateException("line " + i + ": " + px.length + " values");
                }
                o.writeByte(Math.round(Float.parseFloat(y.readLine().trim())));
                for (String p : px) {
                    o.writeByte(Math.round((1f - Float.parseFloat(p)) * 255f));
                }
            }
        }
        System.out.println("wrote " + n + " digits to " + out + " (" + Files.size(out) + " bytes)");
    }
}
