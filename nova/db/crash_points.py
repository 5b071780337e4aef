"""Test hook: kill the process right after its Nth committed write.

The crash-point tests (nova/tests/integration/test_crash_points.py)
prove that a request survives the process dying at *every* point where
it persisted something, not at a sample of them. This hook provides the
points: it wraps the ``do_commit`` of every engine nova creates and,
once armed, numbers the commits that wrote something and ends the
process with :func:`os._exit` (no cleanup, no handing back: the same as
a ``kill -9`` landing just after the commit) right after the chosen one.

It is off, and installs nothing, unless the environment variable
``NOVA_TEST_CRASH_ARM_FILE`` names a control file. Even then it stays
dormant until that file appears; the first commit that sees it reads
it, deletes it (so a restarted process is not armed again) and counts
from there; a file that appears again later re-arms it, counting
from 1 again. The file holds either a number ``N`` (crash right after the
Nth write commit) or ``count`` (only log each write commit: a baseline
run tells the test how many points a request has). Arming by a file
rather than from the start leaves out the commits of the process
starting up, so the numbering of one request is the same in every run
(as long as no periodic task writes meanwhile: the tests make their
intervals long).

Why ``do_commit`` and not SQLAlchemy's execute events: nova.orchestration
writes its step transitions through raw DBAPI cursors, which those
events never see. Every transaction, however it was written, ends in
``dialect.do_commit``. On SQLite the hook counts only commits that
changed something (``sqlite3.Connection.total_changes`` moved), so a
reader's commit is no crash point, and names what each one wrote (the
statements, seen by ``set_trace_callback``). On MariaDB/MySQL (PyMySQL)
and PostgreSQL (psycopg2) it gives each connection a cursor class that
notes the write statements that matched rows: a commit after one is a
crash point, named by them. On another database every commit counts.

Each counted commit logs one line on stderr (``crash point N: ...``);
the last one is followed by the statements and the exit, with status
:data:`EXIT_STATUS`.
"""

import os
import re
import threading

from sqlalchemy import event

#: The environment variable naming the control file; unset, no hook.
ENV_ARM_FILE = 'NOVA_TEST_CRASH_ARM_FILE'

#: Control file content that logs every write commit and never exits.
COUNT_ONLY = 'count'

#: Exit status of a process the hook ended (distinct from signals, 1
#: and 2, which nova uses for its own errors).
EXIT_STATUS = 87

_WRITE_RE = re.compile(
    r'^\s*(INSERT(?:\s+OR\s+\w+)?\s+INTO|UPDATE|DELETE\s+FROM|REPLACE\s+INTO)'
    r'\s+["`]?(\w+)',
    re.IGNORECASE,
)


class CrashPoints:
    """The per-process state of the hook: armed or not, the count."""

    def __init__(self, arm_file, exit=os._exit, write=None):
        self.arm_file = arm_file
        self._exit = exit
        self._write = write or (lambda text: os.write(2, text.encode()))
        # Commits are serialized under this lock while the hook is
        # installed, so that nothing else commits between the Nth commit
        # and the exit, and the numbering follows the commit order.
        self._lock = threading.RLock()
        self.armed = False
        self.crash_after = None  # None: count only
        self.count = 0
        # id(sqlite3 connection) -> [total_changes at last commit or
        # rollback, write statements since then].
        self._sqlite = {}
        # id(PyMySQL or psycopg2 connection) -> the write statements that
        # matched rows since the last commit or rollback.
        self._traced = {}

    # -- installation ----------------------------------------------------
    def install(self, engine):
        """Wrap ``engine``'s commit and rollback (on its own dialect)."""
        dialect = engine.dialect
        if getattr(dialect, '_nova_crash_points', None) is self:
            return
        dialect._nova_crash_points = self
        do_commit = dialect.do_commit
        do_rollback = dialect.do_rollback

        def crash_point_commit(dbapi_connection):
            self.commit(dbapi_connection, do_commit)

        def crash_point_rollback(dbapi_connection):
            do_rollback(dbapi_connection)
            self._forget(dbapi_connection)

        # Instance attributes: only this engine's dialect changes.
        dialect.do_commit = crash_point_commit
        dialect.do_rollback = crash_point_rollback
        if dialect.name == 'sqlite':
            event.listen(engine, 'checkout', self._trace_sqlite)
        else:
            event.listen(engine, 'checkout', self._trace_cursors)

    def _trace_cursors(self, dbapi_connection, record, proxy):
        if record.info.get('nova_crash_points'):
            return
        writes = _traced_writes(dbapi_connection)
        if writes is not None:
            record.info['nova_crash_points'] = True
            self._traced[id(dbapi_connection)] = writes

    def _trace_sqlite(self, dbapi_connection, record, proxy):
        if record.info.get('nova_crash_points'):
            return
        record.info['nova_crash_points'] = True
        # Replace, not reuse: a new connection may get a closed one's id.
        state = self._sqlite[id(dbapi_connection)] = [
            dbapi_connection.total_changes,
            [],
        ]

        def trace(statement):
            if _WRITE_RE.match(statement):
                state[1].append(statement)

        dbapi_connection.set_trace_callback(trace)

    # -- at each commit --------------------------------------------------
    def commit(self, dbapi_connection, do_commit):
        """Commit; if armed and the transaction wrote, count it and end
        the process when it is the chosen one."""
        with self._lock:
            # Looked for at every commit: a new file re-arms a process
            # already armed (one process crashes after being the
            # restarted one of the point before).
            self._arm_if_asked()
            do_commit(dbapi_connection)
            wrote, statements = self._transaction_writes(dbapi_connection)
            if not self.armed or not wrote:
                return
            self.count += 1
            self._write(
                'crash point %d: %s\n' % (self.count, summary(statements))
            )
            if self.count == self.crash_after:
                for statement in statements:
                    self._write(
                        'crash point %d wrote: %s\n'
                        % (self.count, _shorten(statement))
                    )
                self._write(
                    'crash point %d reached: exiting with status %d\n'
                    % (self.count, EXIT_STATUS)
                )
                self._exit(EXIT_STATUS)

    def _arm_if_asked(self):
        try:
            with open(self.arm_file) as f:
                text = f.read().strip()
        except FileNotFoundError:
            return
        os.unlink(self.arm_file)
        self.crash_after = None if text == COUNT_ONLY else int(text)
        self.armed = True
        self.count = 0
        self._write(
            'crash points armed: %s\n'
            % (
                'counting write commits'
                if self.crash_after is None
                else 'exit after write commit %d' % self.crash_after
            )
        )

    def _transaction_writes(self, dbapi_connection):
        """(whether the transaction just committed wrote, its write
        statements as far as known)."""
        raw = _raw(dbapi_connection)
        traced = self._traced.get(id(raw))
        if traced is not None:
            statements = list(traced)
            del traced[:]
            return bool(statements), statements
        state = self._sqlite.get(id(raw))
        if state is None:
            return True, []  # no way to tell: every commit counts
        total = raw.total_changes
        wrote = total != state[0]
        statements = state[1]
        state[0], state[1] = total, []
        return wrote, statements

    def _forget(self, dbapi_connection):
        raw = _raw(dbapi_connection)
        traced = self._traced.get(id(raw))
        if traced is not None:
            del traced[:]
        state = self._sqlite.get(id(raw))
        if state is not None:
            with self._lock:
                state[0], state[1] = raw.total_changes, []


def _traced_writes(connection):
    """Make ``connection`` (PyMySQL or psycopg2) note its write
    statements that matched rows -> the list they go to; None for
    another driver."""
    writes = []

    def note(query, rowcount):
        if isinstance(query, (bytes, bytearray)):
            query = bytes(query).decode('utf-8', 'replace')
        if rowcount != 0 and _WRITE_RE.match(query):
            writes.append(query)

    base = getattr(connection, 'cursorclass', None)  # PyMySQL
    if base is not None:

        class PyMySQLCursor(base):
            def execute(self, query, args=None):
                result = super().execute(query, args)
                note(query, self.rowcount)
                return result

        connection.cursorclass = PyMySQLCursor
        return writes
    if hasattr(connection, 'cursor_factory'):  # psycopg2
        import psycopg2.extensions  # only with psycopg2 in use

        base = connection.cursor_factory or psycopg2.extensions.cursor

        class Psycopg2Cursor(base):
            def execute(self, query, vars=None):
                result = super().execute(query, vars)
                note(query, self.rowcount)
                return result

            def executemany(self, query, vars_list):
                result = super().executemany(query, vars_list)
                note(query, self.rowcount)
                return result

        connection.cursor_factory = Psycopg2Cursor
        return writes
    return None


def _raw(dbapi_connection):
    """The DBAPI connection under SQLAlchemy's pool proxy, if any."""
    return getattr(dbapi_connection, 'dbapi_connection', dbapi_connection)


def summary(statements):
    """``UPDATE workflows, INSERT INTO workflow_tasks x2``: what a
    transaction wrote, by statement kind and table, in order."""
    kinds = []
    for statement in statements:
        match = _WRITE_RE.match(statement)
        kind = '%s %s' % (
            ' '.join(match.group(1).upper().split()),
            match.group(2),
        )
        if kinds and kinds[-1][0] == kind:
            kinds[-1][1] += 1
        else:
            kinds.append([kind, 1])
    if not kinds:
        return 'a write commit'
    return ', '.join(k if n == 1 else '%s x%d' % (k, n) for k, n in kinds)


def _shorten(statement, limit=400):
    text = ' '.join(statement.split())
    return text if len(text) <= limit else text[:limit] + '...'


_installed = None


def install_from_environment(engine):
    """The engine-creation hook nova.db.api installs: a no-op unless
    ``NOVA_TEST_CRASH_ARM_FILE`` is set."""
    global _installed
    arm_file = os.environ.get(ENV_ARM_FILE)
    if not arm_file:
        return
    if _installed is None or _installed.arm_file != arm_file:
        _installed = CrashPoints(arm_file)
    _installed.install(engine)
