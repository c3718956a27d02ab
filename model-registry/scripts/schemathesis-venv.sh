#!/usr/bin/env bash
# Installs schemathesis (pinned, with every dependency pinned in schemathesis-requirements.txt) into
# its own Python venv for the registry's OpenAPI contract test (OpenApiContractTest), and prints the
# path of the schemathesis executable on stdout.
#
# Idempotent and offline once installed: when the venv's stamp matches the requirements file and the
# Python version, it only prints the path. Called by scripts/setup.sh (so `./fedseal test` installs it
# before `mvn verify`) and by the test itself when the venv is missing.
#
# Venv location: $FEDSEAL_SCHEMATHESIS_VENV, default ${XDG_CACHE_HOME:-~/.cache}/fedseal/schemathesis-venv.
# Python: $FEDSEAL_PYTHON, default python3 (3.9 or newer).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
req="$here/schemathesis-requirements.txt"
venv="${FEDSEAL_SCHEMATHESIS_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/fedseal/schemathesis-venv}"
python="${FEDSEAL_PYTHON:-python3}"

command -v "$python" >/dev/null 2>&1 || { echo "[schemathesis] '$python' not found: Python 3.9+ is needed for the registry's OpenAPI contract test" >&2; exit 1; }
py_version="$("$python" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')"
want="$( { cat "$req"; echo "python $py_version"; } | sha256sum | cut -d' ' -f1)"
stamp="$venv/.fedseal-stamp"

if [ -x "$venv/bin/schemathesis" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  echo "$venv/bin/schemathesis"
  exit 0
fi

echo "[schemathesis] installing $(grep -E '^schemathesis==' "$req") into $venv" >&2
rm -rf "$venv"
mkdir -p "$(dirname "$venv")"
"$python" -m venv "$venv" >&2
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$req" >&2
"$venv/bin/schemathesis" --version >&2
echo "$want" > "$stamp"
echo "$venv/bin/schemathesis"
