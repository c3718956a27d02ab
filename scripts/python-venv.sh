#!/usr/bin/env bash
# Installs the pinned Python packages of python-requirements.txt (safetensors, numpy, scikit-learn and
# what they pull in) into their own venv and prints the path of the venv's python on stdout.
#
# Idempotent and offline once installed: when the venv's stamp matches the requirements file and the
# Python version, it only prints the path. Called by scripts/setup.sh (so `./fedseal test` and
# `./fedseal demo` have it) and by the tests that need it when the venv is missing.
#
# Venv location: $FEDSEAL_PYTHON_VENV, default ${XDG_CACHE_HOME:-~/.cache}/fedseal/python-venv (the
# Java side computes the same default). Python: $FEDSEAL_PYTHON, default python3 (3.11 or newer).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
req="$here/python-requirements.txt"
venv="${FEDSEAL_PYTHON_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/fedseal/python-venv}"
python="${FEDSEAL_PYTHON:-python3}"

command -v "$python" >/dev/null 2>&1 || { echo "[python-venv] '$python' not found: Python 3.11+ is needed" >&2; exit 1; }
py_version="$("$python" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')"
want="$( { cat "$req"; echo "python $py_version"; } | sha256sum | cut -d' ' -f1)"
stamp="$venv/.fedseal-stamp"

if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  echo "$venv/bin/python"
  exit 0
fi

echo "[python-venv] installing $(grep -vE '^#' "$req" | tr '\n' ' ') into $venv" >&2
rm -rf "$venv"
mkdir -p "$(dirname "$venv")"
"$python" -m venv "$venv" >&2
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$req" >&2
"$venv/bin/python" -c 'import numpy, safetensors, sklearn; print("[python-venv] numpy", numpy.__version__, "safetensors", safetensors.__version__, "scikit-learn", sklearn.__version__)' >&2
echo "$want" > "$stamp"
echo "$venv/bin/python"
