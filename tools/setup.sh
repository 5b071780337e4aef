#!/usr/bin/env bash
# Create (or update) the project's virtualenv in .venv and install nova
# with its runtime and test requirements. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/pip" install -q --upgrade pip
"$VENV/bin/pip" install -q -r requirements.txt -r test-requirements.txt
"$VENV/bin/pip" install -q --no-deps -e .
echo "nova installed in $VENV"
