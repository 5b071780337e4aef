#!/usr/bin/env python3
"""nova.orchestration against OpenStack TaskFlow, in the same run.

The cases of shared/reference/performance-baseline.md, each timed end to end
(build the flow, create the engine, run it) and reported as the median of
``--runs`` runs, with the ratio ours/TaskFlow and the target of issue 3::

    python benchmarks/orchestration_vs_taskflow.py            # ~4 min, 2 cores
    python benchmarks/orchestration_vs_taskflow.py --quick    # smoke, seconds
    python benchmarks/orchestration_vs_taskflow.py --no-taskflow

This is a benchmark, not a test: nothing in nova imports it, and it is the
only place TaskFlow is imported (it is installed for the benchmark only; the
TaskFlow columns are skipped when it is absent). TaskFlow grows O(n^2) on a
linear flow, so some of its cases are measured on fewer tasks or flows than
ours; the table says which, and the comparison is then per task or per flow
(which favours TaskFlow).
"""

import argparse
import concurrent.futures
import contextlib
import dataclasses
import gc
import os
import platform
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import warnings

# futurist warns about eventlet on import; the benchmark never uses eventlet.
warnings.filterwarnings('ignore', module='futurist')

if __name__ == '__main__':
    # Run from a checkout without installing nova.
    sys.path.insert(
        0, os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    )

from nova import orchestration as orc  # noqa: E402

FACTORY = 'benchmarks.orchestration_vs_taskflow.linear'


# -- sizes --------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Sizes:
    """How big each case is; TaskFlow's are capped where it is too slow."""

    memory_linear: int = 1000
    flatness: tuple = (100, 1000, 10000)
    taskflow_flatness_cap: int = 1000
    sqlite_linear: int = 1000
    taskflow_sqlite_linear: int = 100
    flows: int = 200
    flow_tasks: int = 10
    taskflow_flows: int = 20
    sleepers: int = 100
    sleep: float = 0.010
    commits: int = 500


FULL = Sizes()
QUICK = Sizes(
    memory_linear=100,
    flatness=(10, 100, 1000),
    taskflow_flatness_cap=100,
    sqlite_linear=50,
    taskflow_sqlite_linear=10,
    flows=10,
    taskflow_flows=2,
    sleepers=20,
    commits=50,
)


# -- results ------------------------------------------------------------------
@dataclasses.dataclass
class Row:
    """One line of the table. Values are medians; None means not measured."""

    case: str
    unit: str
    ours: float | None
    taskflow: float | None = None
    higher_is_better: bool = False
    target: str = ''
    met: bool | None = None
    note: str = ''

    @property
    def ratio(self):
        """ours / TaskFlow (for times: smaller is better)."""
        if self.ours is None or not self.taskflow:
            return None
        return self.ours / self.taskflow

    @property
    def speedup(self):
        """How many times better ours is than TaskFlow."""
        r = self.ratio
        if not r:
            return None
        return r if self.higher_is_better else 1 / r


def _fmt(value, unit=''):
    if value is None:
        return '-'
    if value >= 100:
        text = f'{value:,.0f}'
    elif value >= 10:
        text = f'{value:.1f}'
    elif value >= 0.01:
        text = f'{value:.2f}'
    else:
        text = f'{value:.2g}'
    return text + (' ' + unit if unit else '')


def _n(count):
    """1,000 rather than 1000."""
    return f'{count:,}'


def format_table(rows, taskflow_version=None):
    """The rows as a Markdown table."""
    head = (
        '| case | ours | TaskFlow %s | ours/TaskFlow | speed-up '
        '| target | met |' % (taskflow_version or '')
    ).replace('TaskFlow  |', 'TaskFlow |')
    out = [head, '|---|---:|---:|---:|---:|---|---|']
    for r in rows:
        met = {True: 'yes', False: '**no**', None: '-'}[r.met]
        speedup = '-' if r.speedup is None else _fmt(r.speedup) + 'x'
        tf = _fmt(r.taskflow, r.unit)
        out.append(
            '| %s | %s | %s | %s | %s | %s | %s |'
            % (
                r.case,
                _fmt(r.ours, r.unit),
                tf if r.taskflow is not None else r.note or '-',
                _fmt(r.ratio),
                speedup,
                r.target or '-',
                met,
            )
        )
    notes = [r for r in rows if r.note and r.taskflow is not None]
    for r in notes:
        out.append('')
        out.append('* %s: %s' % (r.case, r.note))
    return '\n'.join(out)


# -- timing helpers -----------------------------------------------------------
def _median(fn, runs):
    """Median of ``runs`` calls of ``fn()`` (each returns seconds)."""
    values = []
    for _ in range(runs):
        gc.collect()
        values.append(fn())
    return statistics.median(values)


def _timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _progress(text):
    print('..', text, file=sys.stderr, flush=True)


# -- the disk floor -----------------------------------------------------------
def commit_cost(directory, commits, journal_mode='WAL'):
    """Seconds per single-row UPDATE commit with synchronous=FULL."""
    path = os.path.join(directory, 'commit-%s.sqlite' % journal_mode)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute('PRAGMA journal_mode=%s' % journal_mode)
        conn.execute('PRAGMA synchronous=FULL')
        conn.execute('CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)')
        conn.execute('INSERT INTO t VALUES (1, 0)')
        start = time.perf_counter()
        for _ in range(commits):
            conn.execute('BEGIN')
            conn.execute('UPDATE t SET v = v + 1 WHERE id = 1')
            conn.execute('COMMIT')
        return (time.perf_counter() - start) / commits
    finally:
        conn.close()


# -- nova.orchestration -------------------------------------------------------
class Noop(orc.Task):
    """A trivial task: the engine's own cost is all that is measured."""

    def execute(self):
        return 1


class Sleep(orc.Task):
    """Sleeps ``seconds``: a stand-in for I/O-bound work."""

    def __init__(self, name, seconds):
        super().__init__(name=name)
        self.seconds = seconds

    def execute(self):
        time.sleep(self.seconds)


@orc.flow_factory(FACTORY)
def linear(tasks):
    """A resumable linear flow of ``tasks`` trivial tasks."""
    return orc.LinearFlow('linear-%d' % tasks).add(
        *[Noop(name='t%d' % i) for i in range(tasks)]
    )


def _sqlite_backend(directory, name):
    path = os.path.join(directory, name)
    for suffix in ('', '-wal', '-shm'):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path + suffix)
    backend = orc.persistence.backend_from_url('sqlite:///' + path)
    backend.upgrade()
    return backend


def ours_memory_linear(tasks):
    """Seconds for a linear flow of ``tasks`` on the memory backend."""
    backend = orc.persistence.backend_from_url('memory://')

    def go():
        orc.Engine(linear(tasks), backend=backend).run()

    return _timed(go)


def ours_sqlite_linear(directory, tasks):
    """Seconds for a linear flow of ``tasks`` on a SQLite file."""
    backend = _sqlite_backend(directory, 'ours-linear.sqlite')
    try:
        return _timed(
            lambda: orc.Engine(
                FACTORY, store={'tasks': tasks}, backend=backend
            ).run()
        )
    finally:
        backend.close()


def ours_many_flows(directory, flows, tasks):
    """Seconds for ``flows`` separate workflows of ``tasks`` on SQLite."""
    backend = _sqlite_backend(directory, 'ours-flows.sqlite')

    def go():
        for _ in range(flows):
            orc.Engine(FACTORY, store={'tasks': tasks}, backend=backend).run()

    try:
        return _timed(go)
    finally:
        backend.close()


def ours_unordered_sleep(sleepers, seconds, executor=None):
    """Wall seconds for ``sleepers`` parallel sleeps (memory backend)."""
    flow = orc.UnorderedFlow('sleepers').add(
        *[Sleep('s%d' % i, seconds) for i in range(sleepers)]
    )
    policy = orc.EnginePolicy(executor=executor)
    return _timed(lambda: orc.Engine(flow, policy=policy).run())


# -- TaskFlow -----------------------------------------------------------------
class _TaskFlow:
    """TaskFlow's side of each case; imported only when asked for."""

    def __init__(self):
        from taskflow import engines
        from taskflow import task
        from taskflow.patterns import linear_flow
        from taskflow.patterns import unordered_flow
        from taskflow.persistence import backends

        self.engines = engines
        self.backends = backends
        self.linear_flow = linear_flow
        self.unordered_flow = unordered_flow

        class TfNoop(task.Task):
            def execute(self):
                return 1

        class TfSleep(task.Task):
            def __init__(self, name, seconds):
                super().__init__(name=name)
                self.seconds = seconds

            def execute(self):
                time.sleep(self.seconds)

        self.Noop, self.Sleep = TfNoop, TfSleep

    @staticmethod
    def version():
        try:
            from importlib import metadata

            return metadata.version('taskflow')
        except Exception:  # pragma: no cover - informational only
            return 'unknown'

    def _linear(self, tasks, name='linear'):
        flow = self.linear_flow.Flow(name)
        flow.add(*[self.Noop(name='t%d' % i) for i in range(tasks)])
        return flow

    def _sqlite(self, directory, name):
        path = os.path.join(directory, name)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        backend = self.backends.fetch({'connection': 'sqlite:///' + path})
        with contextlib.closing(backend.get_connection()) as conn:
            conn.upgrade()
        return backend

    def memory_linear(self, tasks):
        return _timed(
            lambda: self.engines.run(self._linear(tasks), engine='serial')
        )

    def sqlite_linear(self, directory, tasks):
        backend = self._sqlite(directory, 'tf-linear.sqlite')
        try:
            return _timed(
                lambda: self.engines.load(
                    self._linear(tasks), backend=backend, engine='serial'
                ).run()
            )
        finally:
            backend.close()

    def many_flows(self, directory, flows, tasks):
        backend = self._sqlite(directory, 'tf-flows.sqlite')

        def go():
            for i in range(flows):
                self.engines.load(
                    self._linear(tasks, 'f%d' % i),
                    backend=backend,
                    engine='serial',
                ).run()

        try:
            return _timed(go)
        finally:
            backend.close()

    def unordered_sleep(self, sleepers, seconds, executor=None):
        flow = self.unordered_flow.Flow('sleepers')
        flow.add(*[self.Sleep('s%d' % i, seconds) for i in range(sleepers)])
        kwargs = {'executor': executor} if executor is not None else {}
        return _timed(
            lambda: self.engines.run(flow, engine='parallel', **kwargs)
        )


def load_taskflow():
    """The TaskFlow side, or None when TaskFlow is not installed."""
    try:
        return _TaskFlow()
    except ImportError:
        return None


# -- the cases ----------------------------------------------------------------
def run_benchmarks(runs=3, quick=False, with_taskflow=True, directory=None):
    """Measure every case; returns {'rows': [Row], 'context': {...}}.

    ``with_taskflow`` False (or TaskFlow absent) leaves the TaskFlow column
    empty. SQLite files go to ``directory`` (a temporary one by default):
    the commit cost is measured there too, so compare on the same disk.
    """
    sizes = QUICK if quick else FULL
    load_before = os.getloadavg()[0]
    tf = load_taskflow() if with_taskflow else None
    tf_absent = 'not installed' if with_taskflow else 'skipped (--no-taskflow)'
    own_dir = directory is None
    directory = directory or tempfile.mkdtemp(prefix='orc-bench-')
    os.makedirs(directory, exist_ok=True)
    rows = []
    try:
        # Warm up both (imports, shared executor, compiled statements).
        ours_memory_linear(10)
        ours_sqlite_linear(directory, 10)
        if tf is not None:
            tf.memory_linear(10)

        # 1. Memory, linear.
        n = sizes.memory_linear
        _progress('memory linear %d' % n)
        ours = _median(lambda: ours_memory_linear(n), runs) / n * 1e6
        theirs = None
        if tf is not None:
            theirs = _median(lambda: tf.memory_linear(n), runs) / n * 1e6
        rows.append(
            Row(
                'memory, linear %s trivial tasks' % _n(n),
                'us/task',
                ours,
                theirs,
                target='< 50 us/task',
                met=ours < 50,
                note='' if tf is not None else tf_absent,
            )
        )

        # 2. Flatness: per-task cost from 100 to 10,000 tasks.
        per_task = {}
        for n in sizes.flatness:
            _progress('memory linear %d (flatness)' % n)
            ours = _median(lambda n=n: ours_memory_linear(n), runs) / n * 1e6
            per_task[n] = ours
            theirs, note = None, tf_absent if tf is None else ''
            if tf is not None and n <= sizes.taskflow_flatness_cap:
                if n == sizes.memory_linear:
                    theirs = rows[0].taskflow  # the same case, measured above
                else:
                    theirs = (
                        _median(lambda n=n: tf.memory_linear(n), runs)
                        / n
                        * 1e6
                    )
            elif tf is not None:
                note = 'skipped: O(n^2), would take many minutes'
            rows.append(
                Row(
                    'flatness, memory linear %s' % _n(n),
                    'us/task',
                    ours,
                    theirs,
                    note=note,
                )
            )
        small, big = min(per_task), max(per_task)
        growth = per_task[big] / per_task[small]
        rows.append(
            Row(
                'flatness: us/task at %s / at %s' % (_n(big), _n(small)),
                'x',
                growth,
                target='flat (< 2x)',
                met=growth < 2,
            )
        )

        # 3. SQLite file, linear; against one fsync'd commit on this disk.
        _progress('commit cost (%d commits)' % sizes.commits)
        wal = _median(
            lambda: commit_cost(directory, sizes.commits, 'WAL'), runs
        )
        journal = _median(
            lambda: commit_cost(directory, sizes.commits, 'DELETE'), runs
        )
        rows.append(
            Row(
                'one SQLite commit, synchronous=FULL, WAL (the floor)',
                'us',
                wal * 1e6,
            )
        )
        rows.append(
            Row(
                'one SQLite commit, synchronous=FULL, rollback journal',
                'us',
                journal * 1e6,
            )
        )
        n = sizes.sqlite_linear
        _progress('sqlite linear %d' % n)
        ours = _median(lambda: ours_sqlite_linear(directory, n), runs) / n
        theirs, note = None, tf_absent
        if tf is not None:
            m = sizes.taskflow_sqlite_linear
            _progress('TaskFlow sqlite linear %d' % m)
            theirs = (
                _median(lambda: tf.sqlite_linear(directory, m), runs) / m * 1e6
            )
            note = (
                'TaskFlow measured on %d tasks (%s takes minutes per run); '
                'its cost per task grows with n' % (m, _n(n))
                if m != n
                else ''
            )
        rows.append(
            Row(
                'SQLite file, linear %s tasks' % _n(n),
                'us/task',
                ours * 1e6,
                theirs,
                target='<= 2x one WAL commit',
                met=ours <= 2 * wal,
                note=note,
            )
        )
        rows.append(
            Row(
                'SQLite file, linear: per task / one WAL commit',
                'x',
                ours / wal,
                target='<= 2x',
                met=ours <= 2 * wal,
            )
        )

        # 4. Many small flows on a SQLite file.
        flows, k = sizes.flows, sizes.flow_tasks
        _progress('%d flows x %d tasks' % (flows, k))
        ours = flows / _median(
            lambda: ours_many_flows(directory, flows, k), runs
        )
        theirs, note, met = None, tf_absent, None
        if tf is not None:
            m = sizes.taskflow_flows
            _progress('TaskFlow %d flows x %d tasks' % (m, k))
            theirs = m / _median(lambda: tf.many_flows(directory, m, k), runs)
            met = ours >= 50 * theirs
            note = 'TaskFlow measured on %d flows; rates compared' % m
        rows.append(
            Row(
                '%d flows x %d tasks, SQLite file' % (flows, k),
                'flows/s',
                ours,
                theirs,
                higher_is_better=True,
                target='>= 50x TaskFlow',
                met=met,
                note=note,
            )
        )

        # 5. Unordered sleepers: parallelism and executor overhead.
        s, secs = sizes.sleepers, sizes.sleep
        _progress('unordered %d x sleep(%g s)' % (s, secs))
        ours = _median(lambda: ours_unordered_sleep(s, secs), runs)
        theirs, note = None, tf_absent
        if tf is not None:
            theirs = _median(lambda: tf.unordered_sleep(s, secs), runs)
            note = ''
        label = 'unordered %d x sleep(%g ms), wall' % (s, secs * 1000)
        rows.append(
            Row(
                label + ', default executors',
                'ms',
                ours * 1000,
                None if theirs is None else theirs * 1000,
                target='< 40 ms (ours)',
                met=ours < 0.040,
                note=note,
            )
        )
        with concurrent.futures.ThreadPoolExecutor(s) as pool:
            ours = _median(lambda: ours_unordered_sleep(s, secs, pool), runs)
            theirs = None
            if tf is not None:
                theirs = _median(
                    lambda: tf.unordered_sleep(s, secs, pool), runs
                )
        rows.append(
            Row(
                label + ', caller ThreadPoolExecutor(%d)' % s,
                'ms',
                ours * 1000,
                None if theirs is None else theirs * 1000,
                note=note,
            )
        )
    finally:
        if own_dir:
            shutil.rmtree(directory, ignore_errors=True)
    context = {
        'date': time.strftime('%Y-%m-%d'),
        'python': platform.python_version(),
        'machine': '%s, %s, %d cores'
        % (platform.system(), platform.machine(), os.cpu_count() or 0),
        'sqlite': sqlite3.sqlite_version,
        'taskflow': tf.version() if tf is not None else None,
        'runs': runs,
        'quick': quick,
        # Other processes on the machine skew the numbers: say how busy.
        'load': (load_before, os.getloadavg()[0]),
    }
    return {'rows': rows, 'context': context}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--runs', type=int, default=3, help='runs per case (median; 3)'
    )
    parser.add_argument(
        '--quick', action='store_true', help='small sizes, for a smoke run'
    )
    parser.add_argument(
        '--no-taskflow', action='store_true', help='measure ours only'
    )
    parser.add_argument(
        '--dir',
        help='where the SQLite files go (default: a temporary directory); '
        'put it on the disk you want to measure',
    )
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error('--runs must be at least 1')
    import sqlalchemy

    out = run_benchmarks(
        runs=args.runs,
        quick=args.quick,
        with_taskflow=not args.no_taskflow,
        directory=args.dir,
    )
    ctx = out['context']
    print(
        '%s; %s (1-min load average %.1f before, %.1f after); Python %s, '
        'SQLAlchemy %s, SQLite %s, TaskFlow %s; medians of %d runs%s'
        % (
            ctx['date'],
            ctx['machine'],
            ctx['load'][0],
            ctx['load'][1],
            ctx['python'],
            sqlalchemy.__version__,
            ctx['sqlite'],
            ctx['taskflow'] or 'absent',
            ctx['runs'],
            ' (QUICK: reduced sizes, targets indicative only)'
            if ctx['quick']
            else '',
        )
    )
    print()
    print(format_table(out['rows'], ctx['taskflow']))
    return 0


if __name__ == '__main__':
    sys.exit(main())
