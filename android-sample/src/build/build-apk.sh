#!/usr/bin/env bash
# Packages the APK from Maven (profile "apk"): aapt2 compile/link -> D8 -> zip -> zipalign -> apksigner -> verify.
# Args: <android-all jar> <r8 jar> <app jar> <runtime deps dir> <assets dir> <out dir> <version>
set -euo pipefail
ANDROID_ALL=$1; R8=$2; APP_JAR=$3; LIBS=$4; ASSETS=$5; OUT=$6; VERSION=$7
cd "$(dirname "$0")/../.."
rm -rf "$OUT/dex" "$OUT"/*.apk; mkdir -p "$OUT/dex" "$OUT/res"
aapt2 compile --dir src/main/res -o "$OUT/res/compiled.zip"
aapt2 link -o "$OUT/base.apk" -I "$ANDROID_ALL" --manifest src/main/AndroidManifest.xml \
  --min-sdk-version 24 --target-sdk-version 34 --version-code 1 --version-name "$VERSION" \
  -A "$ASSETS" "$OUT/res/compiled.zip"
java -Xmx1g -cp "$R8" com.android.tools.r8.D8 --release --min-api 24 --lib "$ANDROID_ALL" \
  --output "$OUT/dex" "$APP_JAR" "$LIBS"/*.jar
cp "$OUT/base.apk" "$OUT/unsigned.apk"
(cd "$OUT/dex" && zip -q -X "../unsigned.apk" classes*.dex)
zipalign -f -p 4 "$OUT/unsigned.apk" "$OUT/aligned.apk"
if [ ! -f "$OUT/debug.keystore" ]; then
  keytool -genkeypair -keystore "$OUT/debug.keystore" -storepass android -keypass android -alias androiddebugkey \
    -keyalg RSA -keysize 2048 -validity 10000 -dname "CN=Android Debug,O=Android,C=US" >/dev/null 2>&1
fi
apksigner sign --ks "$OUT/debug.keystore" --ks-pass pass:android --key-pass pass:android \
  --out "$OUT/fedseal-android-sample.apk" "$OUT/aligned.apk"
apksigner verify --verbose "$OUT/fedseal-android-sample.apk" > "$OUT/verify.txt"
cat "$OUT/verify.txt" | head -3
aapt2 dump badging "$OUT/fedseal-android-sample.apk" > "$OUT/badging.txt"
grep -q "launchable-activity: name='org.fedseal.android.MainActivity'" "$OUT/badging.txt" \
  || { echo "no launchable activity in badging:"; cat "$OUT/badging.txt"; exit 1; }
grep "^package:\|launchable-activity\|sdkVersion" "$OUT/badging.txt"
ls -l "$OUT/fedseal-android-sample.apk"
