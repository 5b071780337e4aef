#!/usr/bin/env bash
# Explore interleavings of the workflow engine in the deterministic
# simulation (doc/source/orchestration/simulation.rst) for a time budget.
#
#   tools/explore-workflows.sh --budget-seconds 1800 --seed 42
#   tools/explore-workflows.sh --flows linear,pending --budget-seconds 300
#   tools/explore-workflows.sh --replay 'linear@12:adopt,17:abort'
#   tools/explore-workflows.sh --replay-seed pending:42000123
#   tools/explore-workflows.sh --help
#
# Prints how many schedules it explored, the seed, and a replayable
# schedule for each kind of violation; exits 1 when one is not a known
# finding. Sets up .venv first when it is missing.
set -uo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
if [ ! -x "$VENV/bin/python" ]; then
    tools/setup.sh || exit 1
fi
PYTHONWARNINGS=${PYTHONWARNINGS:-ignore} exec "$VENV/bin/python" \
    -m nova.tests.unit.orchestration.simulation "$@"
