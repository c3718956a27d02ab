package org.fedseal.android;

import android.app.job.JobParameters;
import android.app.job.JobService;
import android.util.Log;

/** Runs one round in the background when JobScheduler's constraints (charging, unmetered network) hold. */
public class RoundJobService extends JobService {
    private static final String TAG = "FedSeal";
    private volatile Thread worker;

    @Override
    public boolean onStartJob(JobParameters params) {
        Settings s = new Settings(this);
        if (!s.consent()) {
            s.setStatus("skipped: no consent");
            return false;
        }
        worker = new Thread(
                () -> {
                    boolean retry = false;
                    try {
                        RoundRunner.runOnce(
                                s.registryUrl(),
                                s.modelId(),
                                s.clientId(),
                                ClientKeys.load(s).signer(),
                                getAssets().open(Digits.ASSET),
                                line -> {
                                    Log.i(TAG, line);
                                    s.setStatus(line);
                                });
                    } catch (Exception e) {
                        Log.w(TAG, "round failed", e);
                        s.setStatus("failed: " + e.getMessage());
                        retry = !(e instanceof IllegalStateException);
                    }
                    jobFinished(params, retry);
                },
                "fedseal-round");
        worker.start();
        return true;
    }

    @Override
    public boolean onStopJob(JobParameters params) {
        Thread t = worker;
        if (t != null) {
            t.interrupt();
        }
        return true;
    }
}
