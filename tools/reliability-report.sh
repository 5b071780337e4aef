#!/bin/bash
# Run the reliability tests and print their figures (tests passed,
# assertions, requests made, faults injected, leaks found) as the
# reStructuredText table of the "Figures" section of
# doc/source/admin/reliability.rst.
#
#   tools/reliability-report.sh [--quick] [--save FILE] [--load FILE]
#
# --quick leaves out the crash points and the load test (minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
    tools/setup.sh
fi
exec .venv/bin/python -m nova.tests.integration.reliability_report "$@"
