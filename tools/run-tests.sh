#!/usr/bin/env bash
# Run nova's tests (unit, functional, integration) with stestr.
#
#   tools/run-tests.sh              every test
#   tools/run-tests.sh REGEX...     only the tests matching REGEX
#
# Tests that need MariaDB, PostgreSQL or RabbitMQ skip with a reason when
# the server is missing, unless NOVA_TEST_REQUIRE_DBS=1 /
# NOVA_TEST_REQUIRE_RABBIT=1 (CI sets both), which turns a skip into a
# failure. Sets up .venv first when it is missing.
set -uo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
if [ ! -x "$VENV/bin/stestr" ]; then
    tools/setup.sh || exit 1
fi
"$VENV/bin/stestr" --test-path ./nova/tests run "$@"
rc=$?
# One plain closing line: "N passed, N failed, N skipped".
"$VENV/bin/stestr" last --subunit | "$VENV/bin/python" -c '
import sys, subunit, testtools
stream = subunit.ByteStreamToStreamResult(sys.stdin.buffer)
summary = testtools.StreamSummary()
summary.startTestRun(); stream.run(summary); summary.stopTestRun()
failed = len(summary.errors) + len(summary.failures) + len(
    summary.unexpectedSuccesses)
skipped = len(summary.skipped)
print("tests: %d passed, %d failed, %d skipped" % (
    summary.testsRun - failed - skipped, failed, skipped))
'
exit $rc
