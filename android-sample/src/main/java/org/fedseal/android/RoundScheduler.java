package org.fedseal.android;

import android.app.job.JobInfo;
import android.app.job.JobScheduler;
import android.content.ComponentName;
import android.content.Context;
import java.util.concurrent.TimeUnit;

/** Schedules the periodic round job: only while charging and on an unmetered network. */
public final class RoundScheduler {
    /** The job id. */
    public static final int JOB_ID = 4711;
    /** How often the job may run. */
    public static final long PERIOD_MS = TimeUnit.HOURS.toMillis(6);

    private RoundScheduler() {}

    /** The job: charging + unmetered, periodic. */
    public static JobInfo job(Context c) {
        return new JobInfo.Builder(JOB_ID, new ComponentName(c, RoundJobService.class))
                .setRequiresCharging(true)
                .setRequiredNetworkType(JobInfo.NETWORK_TYPE_UNMETERED)
                .setPeriodic(PERIOD_MS)
                .build();
    }

    /** Schedules the job (replacing an earlier one). */
    public static boolean schedule(Context c) {
        return c.getSystemService(JobScheduler.class).schedule(job(c)) == JobScheduler.RESULT_SUCCESS;
    }

    /** Cancels it. */
    public static void cancel(Context c) {
        c.getSystemService(JobScheduler.class).cancel(JOB_ID);
    }

    /** Whether it is scheduled. */
    public static boolean isScheduled(Context c) {
        for (JobInfo j : c.getSystemService(JobScheduler.class).getAllPendingJobs()) {
            if (j.getId() == JOB_ID) {
                return true;
            }
        }
        return false;
    }
}
