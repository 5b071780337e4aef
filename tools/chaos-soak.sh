#!/bin/bash
# Chaos soak of the multi-process deployment (not part of CI): boot and
# delete servers through the API while services are killed, paused and
# RabbitMQ restarted; check that nothing is lost, doubled or leaked.
# Needs RabbitMQ (with rabbitmqctl) and MariaDB or PostgreSQL on
# 127.0.0.1, as the integration tests do. See
# doc/source/admin/chaos-soak.rst.
#
#   tools/chaos-soak.sh --minutes 30 [--db postgresql] [--seed N]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
    tools/setup.sh
fi
# The console scripts the harness starts live beside this interpreter.
exec .venv/bin/python -m nova.tests.integration.chaos "$@"
