package org.fedseal.android;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import org.fedseal.client.LocalDataset;

/** Reads the bundled digit sample (asset {@value #ASSET}, written at build time by GenerateDigits). */
public final class Digits {
    /** Asset name. */
    public static final String ASSET = "digits200.bin";

    private Digits() {}

    /** Parses the asset: pixels scaled to [0, 1]. */
    public static LocalDataset read(InputStream in) throws IOException {
        DataInputStream d = new DataInputStream(in);
        byte[] magic = new byte[4];
        d.readFully(magic);
        if (magic[0] != 'F' || magic[1] != 'S' || magic[2] != 'D' || magic[3] != 'G') {
            throw new IOException("not a FedSeal digits file");
        }
        int n = d.readInt();
        int size = d.readInt();
        if (n <= 0 || n > 100_000 || size != 784) {
            throw new IOException("bad digits header: " + n + " x " + size);
        }
        float[] x = new float[n * size];
        int[] y = new int[n];
        byte[] row = new byte[size];
        for (int i = 0; i < n; i++) {
            y[i] = d.readUnsignedByte();
            d.readFully(row);
            for (int j = 0; j < size; j++) {
                x[i * size + j] = (row[j] & 0xff) / 255f;
            }
        }
        return new LocalDataset(x, size, y);
    }
}
