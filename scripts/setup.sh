#!/usr/bin/env bash
# Installs what the build needs on a fresh Debian machine of the polyglot kind.
# Idempotent: does nothing when everything is present.
set -euo pipefail

need_debs=()
# libclang-dev: bindgen (used by the sealy crate) parses SEAL's C API headers.
# chromium: the registry's web page is tested in headless Chromium.
# aapt (aapt2), zipalign, apksigner, zip: the Android sample's APK build.
# postgresql: the registry's test of its PostgreSQL mode (same migrations as SQLite).
# file: the distribution's image build finds the shared libraries its jlink'ed JRE needs (with ldd).
for pkg in cmake libclang-dev build-essential chromium aapt zipalign apksigner zip postgresql file; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_debs+=("$pkg")
done
if [ "${#need_debs[@]}" -gt 0 ]; then
  echo "[setup] installing Debian packages: ${need_debs[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq || echo "[setup] apt-get update failed; trying the install anyway"
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need_debs[@]}"
fi

for tool in java mvn cargo; do
  command -v "$tool" >/dev/null 2>&1 || { echo "[setup] '$tool' is missing: this machine kind should provide it" >&2; exit 1; }
done
# schemathesis (PyPI, pinned with its dependencies) in its own venv, for the registry's OpenAPI contract
# test; a no-op once installed. A failure here is only a warning: the test installs it itself, or says why not.
if ! schemathesis_bin=$("$(dirname "$0")/../model-registry/scripts/schemathesis-venv.sh"); then
  echo "[setup] WARNING: could not install schemathesis (model-registry/scripts/schemathesis-venv.sh);" \
       "the registry's OpenApiContractTest will try again and fail if it cannot" >&2
fi

# safetensors, numpy and scikit-learn (PyPI, pinned in scripts/python-requirements.txt) in their own venv:
# the check that exported safetensors files load in Python, and the diabetes data set (shipped inside
# scikit-learn) the regression example trains on. A no-op once installed; a failure is only a warning
# here, the tests that need it run the script again and fail, saying why, if it still cannot install.
if ! python_bin=$("$(dirname "$0")/python-venv.sh"); then
  echo "[setup] WARNING: could not install the Python venv (scripts/python-venv.sh); the model export and" \
       "regression tests will try again and fail if they cannot" >&2
fi

# A stock Flink distribution (PyPI apache-flink-libraries, the version of <flink.version> in the root pom) in
# ~/.cache/fedseal/flink-<version>, for FlinkClusterIT's standalone cluster; a no-op once fetched. A failure is
# only a warning here: the test runs the script again and fails, saying why, if it still cannot fetch it.
if ! flink_home=$("$(dirname "$0")/flink-dist.sh"); then
  echo "[setup] WARNING: could not fetch the Flink distribution (scripts/flink-dist.sh); FlinkClusterIT" \
       "will try again and fail if it cannot" >&2
fi

java_major=$(java -XshowSettings:properties -version 2>&1 | awk -F= '/java.specification.version/ {gsub(/ /,"",$2); print $2}')
if [ "${java_major%%.*}" -lt 17 ]; then
  echo "[setup] Java 17+ needed, found $java_major" >&2
  exit 1
fi
echo "[setup] ok: $(java -version 2>&1 | head -1), $(mvn -v 2>/dev/null | head -1), $(cargo --version), schemathesis ${schemathesis_bin:-missing}, python venv ${python_bin:-missing}, flink ${flink_home:-missing}"
