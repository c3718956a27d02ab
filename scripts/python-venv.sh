#!/usr/bin/env bash
# Installs the pinned Python packages of python-requirements.txt (safetensors, numpy, scikit-learn and
# what they pull in) into their own venv and prints the path of the venv's python on stdout.
#
# Idempotent and offline once installed (pinned-venv.sh). Called by scripts/setup.sh (so
# `./fedseal test` and `./fedseal demo` have it) and by the tests that need it when the venv is missing.
#
# Venv location: $FEDSEAL_PYTHON_VENV, default ${XDG_CACHE_HOME:-~/.cache}/fedseal/python-venv (the
# Java side computes the same default). Python: $FEDSEAL_PYTHON, default python3 (3.11 or newer).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
exec "$here/pinned-venv.sh" python-venv "${FEDSEAL_PYTHON_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/fedseal/python-venv}" \
  "$here/python-requirements.txt" python \
  python -c 'import numpy, safetensors, sklearn; print("[python-venv] numpy", numpy.__version__, "safetensors", safetensors.__version__, "scikit-learn", sklearn.__version__)'
