package org.fedseal.android;

import android.app.Activity;
import android.content.SharedPreferences;
import android.os.Bundle;
import android.widget.CompoundButton;
import android.widget.LinearLayout;
import android.widget.Switch;
import android.widget.TextView;

/**
 * The opt-in screen: what the app does, an explicit consent switch (on = schedule the background
 * round job, off = cancel it), and a status view with the client id and the last round status.
 * The UI is built in code: no layout resources, no AndroidX.
 */
public class MainActivity extends Activity implements SharedPreferences.OnSharedPreferenceChangeListener {
    private Switch consent;
    private TextView status;
    private Settings settings;

    @Override
    protected void onCreate(Bundle saved) {
        super.onCreate(saved);
        settings = new Settings(this);
        LinearLayout root = new LinearLayout(this);
        root.setOrientation(LinearLayout.VERTICAL);
        root.setPadding(32, 32, 32, 32);
        TextView explain = new TextView(this);
        explain.setText("FedSeal trains a digit classifier on this phone's bundled sample and sends only an "
                + "encrypted model update (CKKS) to " + settings.registryUrl() + ". Nothing leaves the phone in the "
                + "clear. Training runs only while charging on an unmetered network.");
        root.addView(explain);
        consent = new Switch(this);
        consent.setText("I agree to take part in federated training");
        consent.setChecked(settings.consent());
        consent.setOnCheckedChangeListener(this::onConsent);
        root.addView(consent);
        status = new TextView(this);
        root.addView(status);
        setContentView(root);
        refresh();
    }

    private void onConsent(CompoundButton b, boolean on) {
        settings.setConsent(on);
        if (on) {
            boolean ok = RoundScheduler.schedule(this);
            settings.setStatus(ok ? "scheduled: waiting for charging + unmetered network" : "could not schedule");
        } else {
            RoundScheduler.cancel(this);
            settings.setStatus("opted out");
        }
        refresh();
    }

    @Override
    protected void onResume() {
        super.onResume();
        getSharedPreferences(Settings.FILE, MODE_PRIVATE).registerOnSharedPreferenceChangeListener(this);
        refresh();
    }

    @Override
    protected void onPause() {
        getSharedPreferences(Settings.FILE, MODE_PRIVATE).unregisterOnSharedPreferenceChangeListener(this);
        super.onPause();
    }

    @Override
    public void onSharedPreferenceChanged(SharedPreferences p, String key) {
        runOnUiThread(this::refresh);
    }

    void refresh() {
        status.setText("client: " + settings.clientId() + "\nmodel: " + settings.modelId() + "\njob scheduled: "
                + RoundScheduler.isScheduled(this) + "\nround status: " + settings.status());
    }

    Switch consentSwitch() {
        return consent;
    }

    TextView statusView() {
        return status;
    }
}
