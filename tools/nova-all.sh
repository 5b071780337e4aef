#!/usr/bin/env bash
# Set up everything and run the embedded nova (nova-all): one process,
# SQLite under [DEFAULT] state_path (~/.nova by default), in-process
# messaging. Extra arguments (e.g. --config-file FILE) go to nova-manage
# and nova-all alike. Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
tools/setup.sh
"$VENV/bin/nova-manage" "$@" db sync
exec "$VENV/bin/nova-all" "$@"
