#!/usr/bin/env bash
# Installs a pinned requirements file into its own Python venv and prints the path of one program in
# the venv's bin/ on stdout. The one implementation behind scripts/python-venv.sh and
# model-registry/scripts/schemathesis-venv.sh.
#
# Usage: pinned-venv.sh LABEL VENV_DIR REQUIREMENTS PROGRAM [CHECK...]
#   LABEL     prefix of the progress lines (stderr)
#   PROGRAM   the file in VENV_DIR/bin whose path is printed (e.g. python, schemathesis)
#   CHECK     a command run once after installing, from VENV_DIR/bin (e.g. schemathesis --version)
# Idempotent and offline once installed: when the venv's stamp matches the requirements file and the
# Python version, it only prints the path. Python: $FEDSEAL_PYTHON, default python3.
set -euo pipefail

label="$1"; venv="$2"; req="$3"; program="$4"; shift 4
python="${FEDSEAL_PYTHON:-python3}"

command -v "$python" >/dev/null 2>&1 || { echo "[$label] '$python' not found: Python 3.11+ is needed" >&2; exit 1; }
py_version="$("$python" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')"
want="$( { cat "$req"; echo "python $py_version"; } | sha256sum | cut -d' ' -f1)"
stamp="$venv/.fedseal-stamp"

if [ -x "$venv/bin/$program" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  echo "$venv/bin/$program"
  exit 0
fi

echo "[$label] installing $(grep -vE '^#' "$req" | tr '\n' ' ') into $venv" >&2
rm -rf "$venv"
mkdir -p "$(dirname "$venv")"
"$python" -m venv "$venv" >&2
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$req" >&2
if [ $# -gt 0 ]; then
  (PATH="$venv/bin:$PATH"; "$@") >&2
fi
echo "$want" > "$stamp"
echo "$venv/bin/$program"
