#!/usr/bin/env bash
# Fetches a stock Apache Flink distribution (the PyPI wheel apache-flink-libraries, which carries
# flink-dist and the rest of Flink's lib/ plus bash-java-utils.jar) and prints the directory that
# holds lib/ and bin/bash-java-utils.jar on stdout.
#
# Idempotent and offline once fetched: when the stamp matches the pinned version it only prints the
# path. Called by scripts/setup.sh (so `./fedseal test` has it) and by the tests that need a Flink
# cluster (FlinkClusterIT, through flink-local's LocalFlinkCluster) when it is missing.
#
# Location: $FEDSEAL_FLINK_HOME, default ${XDG_CACHE_HOME:-~/.cache}/fedseal/flink-<version>.
# Python: $FEDSEAL_PYTHON, default python3 (only pip is used, to download the wheel).
set -euo pipefail

# The version is pinned once, in the root pom (<flink.version>): the job is built against the same.
root="$(cd "$(dirname "$0")/.." && pwd)"
version="${FEDSEAL_FLINK_VERSION:-$(sed -n 's:.*<flink.version>\(.*\)</flink.version>.*:\1:p' "$root/pom.xml" | head -1)}"
[ -n "$version" ] || { echo "[flink-dist] no <flink.version> in $root/pom.xml" >&2; exit 1; }
home="${FEDSEAL_FLINK_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/fedseal/flink-$version}"
python="${FEDSEAL_PYTHON:-python3}"
stamp="$home/.fedseal-stamp"
want="apache-flink-libraries==$version"

if [ -f "$home/lib/flink-dist-$version.jar" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  echo "$home"
  exit 0
fi

command -v "$python" >/dev/null 2>&1 || { echo "[flink-dist] '$python' not found: Python with pip is needed to fetch Flink" >&2; exit 1; }
echo "[flink-dist] fetching $want (~310 MB, once) into $home" >&2
tmp="$(mktemp -d "${home%/*}/.flink-dist.XXXXXX" 2>/dev/null || { mkdir -p "${home%/*}"; mktemp -d "${home%/*}/.flink-dist.XXXXXX"; })"
trap 'rm -rf "$tmp"' EXIT
"$python" -m pip download --quiet --disable-pip-version-check --no-input --no-deps \
  --only-binary=:all: -d "$tmp/wheel" "$want" >&2
wheel="$(ls "$tmp"/wheel/apache_flink_libraries-*.whl)"
"$python" -m zipfile -e "$wheel" "$tmp/unpacked" >&2
mkdir -p "$tmp/flink/bin"
mv "$tmp/unpacked/pyflink/lib" "$tmp/flink/lib"
mv "$tmp/unpacked/pyflink/bin/bash-java-utils.jar" "$tmp/flink/bin/"
[ -d "$tmp/unpacked/pyflink/conf" ] && mv "$tmp/unpacked/pyflink/conf" "$tmp/flink/conf"
[ -f "$tmp/flink/lib/flink-dist-$version.jar" ] || { echo "[flink-dist] the wheel has no lib/flink-dist-$version.jar" >&2; exit 1; }
rm -rf "$home"
mv "$tmp/flink" "$home"
echo "$want" > "$stamp"
echo "[flink-dist] Flink $version in $home: $(ls "$home/lib" | tr '\n' ' ')" >&2
echo "$home"
