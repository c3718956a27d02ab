package org.fedseal.he.bench;

import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.fedseal.he.EncryptedVector;
import org.fedseal.he.HeContext;
import org.fedseal.he.HeDecryptor;
import org.fedseal.he.HeKeyPair;
import org.fedseal.he.HeParameters;
import org.fedseal.he.MalformedHeDataException;
import org.fedseal.he.Packing;
import org.fedseal.he.VectorEncryptor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Per-ciphertext costs of he-native, one ciphertext = {@link HeParameters#valuesPerCiphertext}
 * values (8,192 packed at N=8192). Divide by that for per-parameter figures; scripts/bench-he.sh
 * prints both. {@link #plainSumBaseline} is the 1× reference: summing the same number of floats
 * in plain Java.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
public class HeBenchmark {
    @Param({"COMPLEX", "REAL"})
    public Packing packing;

    HeContext he;
    HeKeyPair keys;
    VectorEncryptor pk;
    VectorEncryptor sym;
    HeDecryptor dec;
    double[] values;
    EncryptedVector ct;
    EncryptedVector sum;
    byte[] wire;
    float[] plainSum;
    float[] plainAddend;

    @Setup(Level.Trial)
    public void setUp() {
        he = HeContext.create(HeParameters.CKKS_8192);
        keys = he.generateKeys();
        pk = he.encryptor(keys.publicKey(), packing);
        sym = he.symmetricEncryptor(keys.secretKey(), packing);
        dec = he.decryptor(keys.secretKey());
        int n = he.parameters().valuesPerCiphertext(packing);
        Random rnd = new Random(1);
        values = new double[n];
        plainSum = new float[n];
        plainAddend = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = rnd.nextDouble() * 2 - 1;
            plainAddend[i] = (float) values[i];
        }
        ct = pk.encrypt(values);
        sum = pk.encrypt(values);
        wire = ct.toBytes();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        ct.close();
        sum.close();
        dec.close();
        sym.close();
        pk.close();
        keys.close();
        he.close();
    }

    @Benchmark
    public EncryptedVector encodeEncryptPublicKey() {
        EncryptedVector v = pk.encrypt(values);
        v.close();
        return v;
    }

    @Benchmark
    public EncryptedVector encodeEncryptSecretKeySeeded() {
        EncryptedVector v = sym.encrypt(values);
        v.close();
        return v;
    }

    @Benchmark
    public byte[] serialize() {
        return ct.toBytes();
    }

    @Benchmark
    public EncryptedVector loadAndValidate() throws MalformedHeDataException {
        EncryptedVector v = he.loadVector(wire);
        v.close();
        return v;
    }

    @Benchmark
    public void add() {
        sum.addInPlace(ct);
    }

    @Benchmark
    public double[] decryptDecode() {
        return dec.decrypt(ct);
    }

    @Benchmark
    public float[] plainSumBaseline() {
        float[] s = plainSum;
        float[] a = plainAddend;
        for (int i = 0; i < s.length; i++) {
            s[i] += a[i];
        }
        return s;
    }
}
