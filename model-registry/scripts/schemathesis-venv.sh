#!/usr/bin/env bash
# Installs schemathesis (pinned, with every dependency pinned in schemathesis-requirements.txt) into
# its own Python venv for the registry's OpenAPI contract test (OpenApiContractTest), and prints the
# path of the schemathesis executable on stdout.
#
# Idempotent and offline once installed (scripts/pinned-venv.sh at the repository root). Called by
# scripts/setup.sh (so `./fedseal test` installs it before `mvn verify`) and by the test itself when
# the venv is missing.
#
# Venv location: $FEDSEAL_SCHEMATHESIS_VENV, default ${XDG_CACHE_HOME:-~/.cache}/fedseal/schemathesis-venv.
# Python: $FEDSEAL_PYTHON, default python3.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
exec "$here/../../scripts/pinned-venv.sh" schemathesis \
  "${FEDSEAL_SCHEMATHESIS_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/fedseal/schemathesis-venv}" \
  "$here/schemathesis-requirements.txt" schemathesis schemathesis --version
