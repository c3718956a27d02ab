package org.fedseal.android;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import android.app.job.JobInfo;
import android.app.job.JobScheduler;
import com.sun.net.httpserver.HttpServer;
import java.io.FileInputStream;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import org.fedseal.client.BaseModel;
import org.fedseal.client.JavaMlpTrainer;
import org.fedseal.client.JavaUpdateEncryptor;
import org.fedseal.client.LocalDataset;
import org.fedseal.client.LocalUpdate;
import org.fedseal.client.SubmissionReceipt;
import org.fedseal.he.EncryptedVector;
import org.fedseal.he.HeContext;
import org.fedseal.he.HeDecryptor;
import org.fedseal.he.HeKeyPair;
import org.fedseal.he.HeParameters;
import org.fedseal.protocol.Chunker;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.HttpIngest;
import org.fedseal.protocol.ModelWeights;
import org.fedseal.protocol.RoundBounds;
import org.fedseal.protocol.Signatures;
import org.fedseal.protocol.SigningPublicKey;
import org.fedseal.protocol.WireCodec;
import org.fedseal.protocol.wire.RoundOpened;
import org.fedseal.protocol.wire.UpdateChunk;
import org.fedseal.protocol.wire.UpdateCommit;
import org.fedseal.protocol.wire.UpdateEnvelope;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.robolectric.Robolectric;
import org.robolectric.RobolectricTestRunner;
import org.robolectric.RuntimeEnvironment;
import org.robolectric.annotation.Config;

/** The app under Robolectric (SDK 34): consent schedules the job, a local round trains, an encrypted upload decrypts. */
@RunWith(RobolectricTestRunner.class)
@Config(sdk = 34)
public class AppTest {
    private static InputStream digits() throws Exception {
        return new FileInputStream(System.getProperty("fedseal.digits"));
    }

    @Test
    public void consentTogglesTheChargingUnmeteredJob() {
        MainActivity a = Robolectric.buildActivity(MainActivity.class).setup().get();
        JobScheduler js = a.getSystemService(JobScheduler.class);
        assertFalse(a.consentSwitch().isChecked());
        assertTrue(js.getAllPendingJobs().isEmpty());
        a.consentSwitch().performClick();
        assertTrue(new Settings(a).consent());
        assertEquals(1, js.getAllPendingJobs().size());
        JobInfo job = js.getAllPendingJobs().get(0);
        assertEquals(RoundScheduler.JOB_ID, job.getId());
        assertTrue(job.isRequireCharging());
        assertEquals(JobInfo.NETWORK_TYPE_UNMETERED, job.getNetworkType());
        assertEquals(RoundJobService.class.getName(), job.getService().getClassName());
        assertTrue(a.statusView().getText().toString().contains("job scheduled: true"));
        a.consentSwitch().performClick();
        assertFalse(new Settings(a).consent());
        assertTrue(js.getAllPendingJobs().isEmpty());
        assertTrue(a.statusView().getText().toString().contains("opted out"));
    }

    @Test
    public void oneLocalTrainingRoundOnTheBundledDigits() throws Exception {
        LocalDataset d = Digits.read(digits());
        assertEquals(200, d.size());
        JavaMlpTrainer t = RoundRunner.trainer(d);
        float[] base = t.initialParameters(0);
        LocalUpdate u = t.fit(base, 3);
        float[] p = base.clone();
        for (int i = 0; i < p.length; i++) {
            p[i] += u.delta()[i];
        }
        assertTrue("training accuracy " + t.accuracy(p, d), t.accuracy(p, d) > 0.8);
        assertTrue(t.accuracy(base, d) < 0.3);
    }

    @Test
    public void encryptedSubmissionDecryptsToTheWeightedDelta() throws Exception {
        try (HeContext he = HeContext.create(HeParameters.CKKS_8192);
                HeKeyPair keys = he.generateKeys()) {
            byte[] pk = keys.publicKey().toBytes();
            LocalDataset d = Digits.read(digits());
            float[] initial = RoundRunner.trainer(d).initialParameters(0);
            BaseModel base = BaseModel.initial("mnist-softmax", initial, 1L);
            RoundOpened round = RoundBounds.loosest(HeParameters.CKKS_8192.maxSumNorm(), RoundRunner.CLIP_BOUND)
                    .applyTo(RoundOpened.newBuilder())
                    .setModelId("mnist-softmax")
                    .setRound(1)
                    .setBaseModelHash(base.versionHash().toByteBuffer())
                    .setHeParamsId("ckks-8192-v1")
                    .setPublicKeyHash(Hash.sha256(pk).toByteBuffer())
                    .setQuorum(1)
                    .setDeadlineEpochMillis(System.currentTimeMillis() + 600_000)
                    .setChunkLayout(JavaUpdateEncryptor.defaultLayout(initial.length))
                    .setLocalEpochs(2)
                    .setOpenedAtEpochMillis(System.currentTimeMillis())
                    .build();
            Map<String, byte[]> served = new ConcurrentHashMap<>();
            served.put("/api/models/mnist-softmax/rounds/current/record", WireCodec.UNBOUNDED.encode(round));
            served.put(
                    "/api/versions/" + base.versionHash().toHex() + "/record",
                    WireCodec.UNBOUNDED.encode(base.version()));
            served.put("/api/versions/" + base.versionHash().toHex() + "/weights", ModelWeights.encode(initial));
            served.put("/api/he-public-keys/" + Hash.sha256(pk).toHex(), pk);
            List<byte[]> uploads = Collections.synchronizedList(new ArrayList<>());
            List<String> clients = Collections.synchronizedList(new ArrayList<>());
            HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            server.createContext("/", ex -> {
                byte[] body = ex.getRequestBody().readAllBytes();
                byte[] answer;
                int status;
                if (ex.getRequestMethod().equals("POST")
                        && ex.getRequestURI().getPath().equals(HttpIngest.PATH)) {
                    uploads.add(body);
                    clients.add(ex.getRequestHeaders().getFirst(HttpIngest.HEADER_CLIENT));
                    status = 202;
                    answer = "{\"accepted\":1}".getBytes();
                } else {
                    answer = served.get(ex.getRequestURI().getPath());
                    status = answer == null ? 404 : 200;
                    if (answer == null) {
                        answer = "{\"code\":\"not_found\",\"message\":\"x\"}".getBytes();
                    }
                }
                ex.sendResponseHeaders(status, answer.length);
                ex.getResponseBody().write(answer);
                ex.close();
            });
            server.start();
            try {
                ClientKeys.Identity key = ClientKeys.load(new Settings(RuntimeEnvironment.getApplication()));
                List<String> lines = new ArrayList<>();
                SubmissionReceipt r = RoundRunner.runOnce(
                        "http://127.0.0.1:" + server.getAddress().getPort(),
                        "mnist-softmax",
                        "phone-7",
                        key.signer(),
                        digits(),
                        lines::add);
                assertNotNull(lines.toString(), r);
                assertEquals(2, uploads.size()); // one chunk (7,850 values = 1 ciphertext), then the commit
                assertEquals(List.of("phone-7", "phone-7"), clients);
                UpdateChunk chunk = (UpdateChunk) WireCodec.UNBOUNDED
                        .decode(uploads.get(0), UpdateEnvelope.class)
                        .getPayload();
                UpdateCommit commit = (UpdateCommit) WireCodec.UNBOUNDED
                        .decode(uploads.get(1), UpdateEnvelope.class)
                        .getPayload();
                // Bouncy Castle signed on the "phone"; the JDK verifies, as the aggregator will.
                assertTrue(Signatures.verify(commit, SigningPublicKey.fromX509(key.publicKeyX509())));
                assertEquals(200, commit.getWeight());
                LocalUpdate expectedUpdate = RoundRunner.trainer(d).fit(initial, 2);
                float[] expected = RoundRunner.policy()
                        .prepare(expectedUpdate.delta(), expectedUpdate.weight(), round, new Random(0));
                try (HeDecryptor dec = he.decryptor(keys.secretKey());
                        EncryptedVector v =
                                he.loadVector(Chunker.reassemble(List.of(chunk)).get(0))) {
                    double[] plain = dec.decrypt(v);
                    assertEquals(expected.length, plain.length);
                    double maxErr = 0;
                    for (int i = 0; i < expected.length; i++) {
                        maxErr = Math.max(maxErr, Math.abs(plain[i] - expected[i]));
                    }
                    assertTrue("max error " + maxErr, maxErr < 1e-3);
                }
            } finally {
                server.stop(0);
            }
        }
    }
}
