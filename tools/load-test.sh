#!/bin/bash
# Load test (not part of CI): boot then delete N servers through the
# REST API, twice, on nova-all (SQLite) or on the multi-process
# deployment (MariaDB or PostgreSQL and RabbitMQ on 127.0.0.1, as the
# integration tests use); check that every request is accounted for,
# nothing leaked and the audit is clean, and sample the RSS of nova-all
# or of the conductor. See the "Load" section of
# doc/source/admin/reliability.rst.
#
#   tools/load-test.sh [--stack nova-all|multi-process] [--servers 500]
#                      [--cycles 2] [--concurrency 8] [--db postgresql]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
    tools/setup.sh
fi
# The console scripts the stack starts live beside this interpreter.
exec .venv/bin/python -m nova.tests.integration.load "$@"
