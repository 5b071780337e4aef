"""Run the reliability tests and print their figures as a table.

``tools/reliability-report.sh`` runs this module. It runs each group of
tests of doc/source/admin/reliability.rst ("How each is tested") in one
child process with subunit output, reads every test's result and its
details, and prints a reStructuredText table: per group, the tests that
passed, the assertions they evaluated, the requests they made, the
faults they injected and the leaks they found, as the tests themselves
report them. A test reports its figures in a detail named ``figures``,
a JSON object: ``requests``, ``faults`` and ``leaks`` (numbers) fill
their columns, anything else is listed as it is (numbers are summed over
the group's tests, objects merged). A column is "-" when no test of the
group reports it; a test that checks for leaks reports ``leaks`` only
once its checks have passed.

The child counts the assertions each test evaluates (an assertion that
calls another counts once) and attaches the count as the detail
``assertions``, without changing what any test asserts.

Usage::

    tools/reliability-report.sh [--quick] [--save FILE] [--load FILE]

``--quick`` leaves out the slow groups (crash points, load), ``--save``
keeps the subunit stream and ``--load`` prints the table of a saved one
without running anything. Exits 1 when a test failed.
"""

import argparse
import collections
import dataclasses
import datetime
import functools
import json
import os
import subprocess
import sys
import time
import unittest

import subunit
import testtools
from testtools import content


@dataclasses.dataclass(frozen=True)
class Group:
    """Tests that hold one promise, and what their faults are."""

    title: str
    modules: tuple
    faults: str = ''
    slow: bool = False


#: The groups, in the order of the table.
GROUPS = (
    Group(
        'Crash at every persistence point',
        ('nova.tests.integration.test_crash_points',),
        faults='nova-all ended (os._exit) after a write commit',
        slow=True,
    ),
    Group(
        'Load: nova-all, 2 cycles of 40 boots and 40 deletes',
        ('nova.tests.integration.test_load',),
        slow=True,
    ),
    Group(
        'Database sessions killed mid-build and mid-delete',
        ('nova.tests.integration.test_db_outages',),
        faults='database sessions killed',
    ),
    Group(
        'A nova-compute killed mid-spawn, restarted or left down',
        ('nova.tests.integration.test_compute_host_kill',),
        faults='nova-compute processes killed (kill -9)',
    ),
    Group(
        'Bad input: every REST route',
        ('nova.tests.unit.api.test_fuzz',),
    ),
    Group(
        "Bad input: nova-manage's arguments",
        ('nova.tests.unit.cmd.test_manage_fuzz',),
    ),
    Group(
        'Isolation between projects',
        ('nova.tests.functional.test_isolation',),
    ),
    Group(
        'Secrets out of rows, logs and output',
        ('nova.tests.functional.test_secrets',),
    ),
)

MODULE = 'nova.tests.integration.reliability_report'

#: Figures with a column of their own.
COLUMNS = ('requests', 'faults', 'leaks')


# -- the child: run the tests, count assertions --------------------------
def _counted(method):
    @functools.wraps(method)
    def assertion(self, *args, **kwargs):
        depth = self.__dict__.get('_report_depth', 0)
        self.__dict__['_report_depth'] = depth + 1
        try:
            return method(self, *args, **kwargs)
        finally:
            self.__dict__['_report_depth'] = depth
            if depth == 0:
                count = self.__dict__.get('_report_assertions', 0)
                self.__dict__['_report_assertions'] = count + 1

    return assertion


def count_assertions():
    """Count each test's outermost assert* calls; report the count as
    the detail ``assertions``."""
    for cls in (unittest.TestCase, testtools.TestCase):
        for name, value in list(vars(cls).items()):
            if name.startswith('assert') and callable(value):
                setattr(cls, name, _counted(value))
    get_details = testtools.TestCase.getDetails

    def getDetails(self):  # noqa: N802 (testtools' name)
        details = get_details(self)
        count = self.__dict__.get('_report_assertions')
        if count is not None:
            details['assertions'] = content.text_content(str(count))
        return details

    testtools.TestCase.getDetails = getDetails


def child(modules):
    """Run ``modules`` with subunit v2 output on stdout."""
    from subunit import run

    count_assertions()
    run.main([sys.argv[0], *modules])


# -- the parent: collect results ------------------------------------------
class Collector(testtools.StreamToDict):
    """Every test's record, {id, status, details, timestamps}; one line
    per test on stderr as it ends."""

    def __init__(self):
        super().__init__(self._ended)
        self.tests = []

    def _ended(self, test):
        if test['id'] is None or test['status'] == 'exists':
            return  # output that was not subunit, or the test listing
        self.tests.append(test)
        start, stop = test['timestamps']
        seconds = (stop - start).total_seconds() if start and stop else 0
        print(
            '%-8s %6.1f s  %s' % (test['status'], seconds, test['id']),
            file=sys.stderr,
            flush=True,
        )


def read_stream(stream, collector, save=None):
    """Feed the subunit v2 ``stream`` to ``collector``, copying it to
    ``save`` (a binary file) if given."""
    if save is not None:
        stream = _Tee(stream, save)
    collector.startTestRun()
    subunit.ByteStreamToStreamResult(stream, non_subunit_name='stdout').run(
        collector
    )
    collector.stopTestRun()


class _Tee:
    def __init__(self, stream, copy):
        self.stream, self.copy = stream, copy

    def read(self, size=-1):
        data = self.stream.read(size)
        self.copy.write(data)
        return data


def run_groups(groups, save=None):
    """Run each group in a child process; return the test records."""
    collector = Collector()
    for group in groups:
        print('== %s' % group.title, file=sys.stderr, flush=True)
        proc = subprocess.Popen(
            [sys.executable, '-m', MODULE, '--child', *group.modules],
            stdout=subprocess.PIPE,
        )
        read_stream(proc.stdout, collector, save)
        proc.wait()
    return collector.tests


# -- the table --------------------------------------------------------------
def _text(detail):
    return ''.join(detail.iter_text()) if detail is not None else None


def figures_of(groups, tests):
    """{group title: row}, each row the group's tallies."""
    rows = {}
    for group in groups:
        mine = [
            t
            for t in tests
            if any(t['id'].startswith(m + '.') for m in group.modules)
        ]
        row = rows[group.title] = {
            'status': collections.Counter(t['status'] for t in mine),
            'seconds': 0.0,
            'assertions': 0,
            'columns': {},
            'other': {},
            'failed': [],
        }
        for test in mine:
            start, stop = test['timestamps']
            if start and stop:
                row['seconds'] += (stop - start).total_seconds()
            row['assertions'] += int(
                _text(test['details'].get('assertions')) or 0
            )
            if test['status'] not in ('success', 'skip'):
                row['failed'].append(test['id'])
            raw = _text(test['details'].get('figures'))
            for key, value in (json.loads(raw) if raw else {}).items():
                into = row['columns'] if key in COLUMNS else row['other']
                if isinstance(value, dict):
                    into.setdefault(key, {}).update(value)
                else:
                    into[key] = into.get(key, 0) + value
    return rows


def _number(value):
    return f'{value:,}' if isinstance(value, int) else str(value)


def _other(other):
    parts = []
    for key, value in other.items():
        if isinstance(value, dict):
            value = ', '.join(
                '%s %s' % (k, _number(v)) for k, v in value.items()
            )
        else:
            value = _number(value)
        parts.append('%s: %s' % (key.replace('_', ' '), value))
    return '; '.join(parts) or '-'


def table(groups, rows):
    """The reStructuredText list-table of ``rows``, with a total."""
    header = (
        'Group',
        'Tests passed',
        'Assertions',
        'Requests',
        'Faults injected',
        'Leaks found',
        'Also reported',
        'Time',
    )
    lines = ['.. list-table::', '   :header-rows: 1', '']
    total = collections.Counter()
    seen = set()
    body = []
    for group in groups:
        row = rows[group.title]
        status = row['status']
        run = sum(status.values()) - status['skip']
        cells = [
            group.title,
            '%d/%d' % (status['success'], run)
            + (', %d skipped' % status['skip'] if status['skip'] else ''),
            _number(row['assertions']),
        ]
        total.update(
            tests=run, passed=status['success'], assertions=row['assertions']
        )
        for key in COLUMNS:
            value = row['columns'].get(key)
            if value is None:
                cells.append('-')
                continue
            seen.add(key)
            total[key] += value
            cell = _number(value)
            if key == 'faults' and group.faults:
                cell += ' (%s)' % group.faults
            cells.append(cell)
        cells += [_other(row['other']), '%.0f s' % row['seconds']]
        body.append(cells)
    body.append(
        ['Total', '%d/%d' % (total['passed'], total['tests'])]
        + [_number(total['assertions'])]
        + [_number(total[k]) if k in seen else '-' for k in COLUMNS]
        + ['-', '%.0f s' % sum(r['seconds'] for r in rows.values())]
    )
    for cells in [header, *body]:
        lines.append('   * - %s' % cells[0])
        lines += ['     - %s' % cell for cell in cells[1:]]
    return '\n'.join(lines)


def report(groups, tests, wall=None, command=None):
    """The whole printed report: what ran, the table, what failed."""
    rows = figures_of(groups, tests)
    out = []
    if command:
        out.append(
            'Run with ``%s`` on %s, %d cores%s:'
            % (
                command,
                datetime.date.today().isoformat(),
                os.cpu_count(),
                ', %.0f s of wall time' % wall if wall else '',
            )
        )
        out.append('')
    out.append(table(groups, rows))
    failed = [t for r in rows.values() for t in r['failed']]
    # A module that does not import runs as a test of unittest's own.
    modules = [m + '.' for g in groups for m in g.modules]
    failed += [
        t['id']
        for t in tests
        if t['status'] not in ('success', 'skip')
        and not t['id'].startswith(tuple(modules))
    ]
    if failed:
        out += ['', 'Failed:', ''] + ['* ``%s``' % t for t in failed]
    return '\n'.join(out), not failed


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog='tools/reliability-report.sh',
        description='Run the reliability tests; print their figures.',
    )
    parser.add_argument(
        '--quick',
        action='store_true',
        help='leave out the slow groups (crash points: about 10 minutes; '
        'load: about 1 minute on 2 cores)',
    )
    parser.add_argument(
        '--save', metavar='FILE', help='keep the subunit v2 stream in FILE'
    )
    parser.add_argument(
        '--load',
        metavar='FILE',
        help='report on a stream saved with --save; run nothing',
    )
    parser.add_argument('--child', nargs='+', help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.child:
        child(args.child)
        return 0
    groups = [g for g in GROUPS if not (args.quick and g.slow)]
    started = time.monotonic()
    if args.load:
        collector = Collector()
        with open(args.load, 'rb') as stream:
            read_stream(stream, collector)
        tests, wall, command = collector.tests, None, None
    else:
        save = open(args.save, 'wb') if args.save else None
        try:
            tests = run_groups(groups, save)
        finally:
            if save is not None:
                save.close()
        wall = time.monotonic() - started
        command = ' '.join(
            ['tools/reliability-report.sh']
            + (['--quick'] if args.quick else [])
        )
    text, ok = report(groups, tests, wall, command)
    print(text)
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
