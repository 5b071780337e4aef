"""The orchestration docs stay true: examples run, tables match the code.

* Every script in doc/source/examples/orchestration runs to completion in
  its own process and prints what the docs say it does (TaskFlow's
  test_examples.py habit: examples are tests).
* Every example is shown in the docs.
* The state tables of doc/source/orchestration/states.rst hold exactly the
  transitions of nova.orchestration.states.
* The benchmark's quick mode runs (ours only) and returns numbers; no
  timing is asserted here.
"""

import csv
import glob
import importlib.util
import os
import re
import subprocess
import sys

import testtools

from nova.orchestration import states

# nova/tests/unit/orchestration/test_examples.py -> the repository root.
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), *['..'] * 4))
DOC = os.path.join(ROOT, 'doc', 'source')
EXAMPLES = os.path.join(DOC, 'examples', 'orchestration')
GUIDE = os.path.join(DOC, 'orchestration')
BENCHMARK = os.path.join(ROOT, 'benchmarks', 'orchestration_vs_taskflow.py')

#: example file -> lines its output must contain, in this order.
EXPECTED = {
    'linear_flow.py': [
        'state: SUCCESS',
        "invoice: {'total': 15, 'currency': 'EUR'}",
        'receipt: shipped 15 EUR to Main St 1',
    ],
    'revert_on_failure.py': [
        'workflow: REVERTED',
        'failed step: spawn',
        'cause: RuntimeError: hypervisor refused the guest',
        'execute mark_error',
        'execute claim_cpu',
        'execute claim_disk',
        'execute spawn',
        'revert spawn',
        'revert claim_disk',
        'revert claim_cpu',
        'revert mark_error',
        'still held: []',
        'status: ERROR: RuntimeError: hypervisor refused the guest',
    ],
    'retry_alternates.py': [
        'claim on host-a',
        'unclaim on host-a',
        'claim on host-b',
        'built on host-b',
        'state: SUCCESS',
        'built on: host-b',
        'all alternates failed: REVERTED',
        'claims: 3, unclaims: 3',
    ],
    'resume_after_crash.py': [
        'conductor-1 died in attach (exit code 3)',
        'conductor-2 resumed it: SUCCESS',
        'calls: execute reserve, execute attach, execute attach, '
        'execute charge',
        'conductor-1 died in charge (exit code 3)',
        "conductor-2 resumed it: REVERTED nova.orchestration.exceptions."
        "OrchestrationError: task 'charge' was interrupted",
        'calls: execute reserve, execute attach, execute charge, '
        'revert charge, revert attach, revert reserve',
    ],
    'pending_remote_step.py': [
        "after run(): RUNNING waiting for {'spawn': 'spawn-vm1-1'}",
        'owner while waiting: None',
        'persisted store: {"name":"vm1","__secret__":["admin_pass"]}',
        'after complete(): SUCCESS',
        'no password injected into server-vm1',
        'duplicate report accepted: False',
    ],
    'fencing.py': [
        "conductor-2 adopted and ran: ['SUCCESS']",
        'conductor-1: OwnershipLost',
        'workflow: SUCCESS generation 2',
        'calls: prepare, migrate_disk (generation 1), '
        'migrate_disk (generation 2), confirm',
    ],
}


def _example_files():
    return sorted(
        os.path.basename(p) for p in glob.glob(os.path.join(EXAMPLES, '*.py'))
    )


def _run_example(name):
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(
            [ROOT] + [p for p in [os.environ.get('PYTHONPATH')] if p]
        ),
        # futurist warns about eventlet on import: not the example's output.
        PYTHONWARNINGS='ignore',
    )
    return subprocess.run(
        [sys.executable, os.path.join(EXAMPLES, name)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=ROOT,
    )


class ExamplesTest(testtools.TestCase):
    """Runs each example; one test method per file (generated below)."""

    def test_every_example_has_expectations(self):
        self.assertEqual(sorted(EXPECTED), _example_files())

    def test_every_example_is_in_the_docs(self):
        text = ''
        for path in glob.glob(os.path.join(GUIDE, '*.rst')):
            with open(path) as f:
                text += f.read()
        for name in _example_files():
            self.assertIn(
                'literalinclude:: ../examples/orchestration/' + name, text
            )

    def check_example(self, name):
        proc = _run_example(name)
        self.assertEqual(
            0,
            proc.returncode,
            'example %s failed:\n%s\n%s' % (name, proc.stdout, proc.stderr),
        )
        lines = proc.stdout.splitlines()
        pos = 0
        for want in EXPECTED[name]:
            for i in range(pos, len(lines)):
                if lines[i].startswith(want):
                    pos = i + 1
                    break
            else:
                self.fail(
                    'example %s: %r not printed (in order); output:\n%s'
                    % (name, want, proc.stdout)
                )


def _make_example_test(name):
    def test(self):
        self.check_example(name)

    test.__doc__ = 'doc/source/examples/orchestration/%s runs' % name
    return test


for _name in EXPECTED:
    setattr(
        ExamplesTest,
        'test_example_' + _name[:-3],
        _make_example_test(_name),
    )


def _csv_table(text, title):
    """Rows (lists of cells) of the ``.. csv-table:: <title>`` directive."""
    lines = text.splitlines()
    start = lines.index('.. csv-table:: ' + title)
    rows = []
    for line in lines[start + 1 :]:
        if line and not line.startswith(' '):
            break
        body = line.strip()
        if not body or body.startswith(':'):
            continue
        rows.append([c.strip() for c in next(csv.reader([body]))])
    return rows


def _state_table(text, heading):
    """State names of the list-table under ``heading``."""
    section = text.split(heading + '\n' + '=' * len(heading), 1)[1]
    section = re.split(r'\n\S[^\n]*\n={3,}\n', section, maxsplit=1)[0]
    return re.findall(r'^   \* - ([A-Z_]+)$', section, re.M)


class StateTablesDocTest(testtools.TestCase):
    """doc/source/orchestration/states.rst matches states.py exactly."""

    def setUp(self):
        super().setUp()
        with open(os.path.join(GUIDE, 'states.rst')) as f:
            self.text = f.read()

    def check_transitions(self, title, table):
        rows = _csv_table(self.text, title)
        documented = {(r[0], r[1]): r[2] for r in rows}
        self.assertEqual(len(rows), len(documented), 'duplicate rows')
        self.assertEqual(
            table,
            documented,
            '%s in states.rst differ from nova.orchestration.states; '
            'update the table' % title,
        )
        self.assertTrue(all(r[3] for r in rows), 'a row without "When"')

    def test_workflow_transitions(self):
        self.check_transitions(
            'Workflow transitions', states.WORKFLOW_TRANSITIONS
        )

    def test_task_transitions(self):
        self.check_transitions('Task transitions', states.TASK_TRANSITIONS)

    def test_workflow_states(self):
        self.assertEqual(
            sorted(states.WORKFLOW_STATES),
            sorted(_state_table(self.text, 'Workflow states')),
        )

    def test_task_states(self):
        self.assertEqual(
            sorted(states.TASK_STATES),
            sorted(_state_table(self.text, 'Task states')),
        )


def _load_benchmark():
    spec = importlib.util.spec_from_file_location(
        'orchestration_benchmark', BENCHMARK
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class BenchmarkSmokeTest(testtools.TestCase):
    """The benchmark still runs against the current API (no timing here)."""

    def test_quick_mode_returns_numbers(self):
        bench = _load_benchmark()
        out = bench.run_benchmarks(runs=1, quick=True, with_taskflow=False)
        rows = out['rows']
        self.assertGreater(len(rows), 5)
        for row in rows:
            self.assertIsInstance(row.ours, float, row.case)
            self.assertGreater(row.ours, 0, row.case)
            self.assertIsNone(row.taskflow, row.case)
        table = bench.format_table(rows)
        self.assertEqual(len(rows) + 2, len(table.splitlines()))

    def test_taskflow_absent_is_reported_not_fatal(self):
        bench = _load_benchmark()
        self.patch(bench, 'load_taskflow', lambda: None)
        out = bench.run_benchmarks(runs=1, quick=True, with_taskflow=True)
        self.assertIsNone(out['context']['taskflow'])
        self.assertIn('not installed', bench.format_table(out['rows'], None))
