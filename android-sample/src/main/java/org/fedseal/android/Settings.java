package org.fedseal.android;

import android.content.Context;
import android.content.SharedPreferences;
import java.util.UUID;

/**
 * The app's state in SharedPreferences: consent, registry URL, model id, client id, the signing
 * key and the last status line. A sample: a production app keeps the signing key in the Android
 * Keystore (Ed25519 there needs API 33+) rather than in preferences.
 */
public final class Settings {
    static final String FILE = "fedseal";
    static final String CONSENT = "consent";
    static final String REGISTRY = "registry_url";
    static final String MODEL = "model_id";
    static final String CLIENT = "client_id";
    static final String KEY_PRIVATE = "signing_key_pkcs8";
    static final String KEY_PUBLIC = "signing_key_x509";
    static final String STATUS = "status";
    /** Default registry: the host machine as seen from the Android emulator. */
    public static final String DEFAULT_REGISTRY = "http://10.0.2.2:8470";
    /** Default model id. */
    public static final String DEFAULT_MODEL = "mnist-softmax";

    private final SharedPreferences p;

    /** Settings of {@code context}'s app. */
    public Settings(Context context) {
        this.p = context.getApplicationContext().getSharedPreferences(FILE, Context.MODE_PRIVATE);
    }

    public boolean consent() {
        return p.getBoolean(CONSENT, false);
    }

    public void setConsent(boolean on) {
        p.edit().putBoolean(CONSENT, on).apply();
    }

    public String registryUrl() {
        return p.getString(REGISTRY, DEFAULT_REGISTRY);
    }

    public void setRegistryUrl(String url) {
        p.edit().putString(REGISTRY, url).apply();
    }

    public String modelId() {
        return p.getString(MODEL, DEFAULT_MODEL);
    }

    public void setModelId(String id) {
        p.edit().putString(MODEL, id).apply();
    }

    /** A stable random client id, created on first use. */
    public String clientId() {
        String id = p.getString(CLIENT, null);
        if (id == null) {
            id = "android-" + UUID.randomUUID().toString().substring(0, 8);
            p.edit().putString(CLIENT, id).apply();
        }
        return id;
    }

    public String status() {
        return p.getString(STATUS, "not started");
    }

    public void setStatus(String s) {
        p.edit().putString(STATUS, s).apply();
    }

    String get(String key) {
        return p.getString(key, null);
    }

    void put(String key, String value) {
        p.edit().putString(key, value).commit();
    }
}
