"""Property-based fuzzing of nova-manage's arguments.

Whatever argv an operator types, nova-manage answers with one of its
documented exit codes (never 255, "unexpected error"), prints no
traceback, and a command it refuses (127) writes nothing to the
workflows. Each command is a test of its own, fed its own options with
any values (so each gets its share of examples), plus one test of any
words at all. The examples are derandomized and bounded, as in
nova/tests/unit/api/test_fuzz.py; ``NOVA_FUZZ_EXAMPLES`` runs more.
A bug planted in ``workflow list --older-than``'s parsing is caught.
"""

import json
import os

from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
import sqlalchemy as sa
from testtools import content

from nova.cmd import common
from nova.cmd import manage
from nova.tests.unit.cmd import test_manage

EXAMPLES = int(os.environ.get('NOVA_FUZZ_EXAMPLES', '150'))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
    database=None,
)
DOCUMENTED = (
    common.EXIT_OK,
    common.EXIT_NOTHING_DONE,
    common.EXIT_DB_UNAVAILABLE,
    3,  # refused: the workflow has finished (nova-manage workflow)
    common.EXIT_BAD_INPUT,
)
UUID = '70a599e0-31e7-49b7-b260-868f441e862b'

_words = st.one_of(
    st.sampled_from(
        [
            'db',
            'workflow',
            'sync',
            'version',
            'list',
            'show',
            'resume',
            'abort',
            'purge',
            'stats',
            'audit',
            '--json',
            '--dot',
            '--state',
            '--target',
            '--owner',
            '--older-than',
            '--limit',
            '--before',
            '--dry-run',
            '--batch-size',
            '--help',
            '-h',
            'RUNNING',
            'running',
            'FAILED',
            '0',
            '-1',
            '10',
            '1e9',
            '30s',
            '10m',
            '2h',
            '7d',
            '-5d',
            'x',
            '',
            UUID,
            'not-a-uuid',
            '--',
            '=',
            '--limit=0',
        ]
    ),
    st.text(max_size=16).filter(lambda t: '\x00' not in t),
)


def _commands():
    """(category, command, [(flag or None for a positional, takes a
    value)]) of every nova-manage command, from its declarations."""
    out = []
    for category, category_class in manage._categories().items():
        for name, method in manage._command_methods(category_class):
            arguments = []
            for names, kwargs in getattr(method, 'args', []):
                flag = names[0] if names[0].startswith('-') else None
                arguments.append((flag, kwargs.get('action') is None))
            out.append((category, name.replace('_', '-'), arguments))
    return out


COMMANDS = _commands()


def _command_argv(command):
    """Argv for ``command``: its positionals and any of its options, each
    with any value (or none, or a stray word)."""
    category, name, arguments = command
    positionals = [a for a in arguments if a[0] is None]
    options = [a for a in arguments if a[0] is not None]
    option_argv = st.just([])
    if options:
        option_argv = st.lists(
            st.sampled_from(options).flatmap(
                lambda option: st.one_of(
                    st.just([option[0]]),
                    _words.map(lambda value, flag=option[0]: [flag, value]),
                    _words.map(
                        lambda value, flag=option[0]: [flag + '=' + value]
                    ),
                )
            ),
            max_size=3,
        )
    return st.tuples(
        st.lists(_words, min_size=len(positionals), max_size=len(positionals)),
        option_argv,
        st.lists(_words, max_size=1),
    ).map(
        lambda t: [category, name, *t[0], *(w for o in t[1] for w in o), *t[2]]
    )


#: Examples per command (each command is a test of its own, so that
#: every one gets its share however hypothesis draws).
PER_COMMAND = settings(FUZZ, max_examples=max(EXAMPLES // 3, 20))


class ManageFuzzTest(test_manage.ManageTestCase):
    def setUp(self):
        super().setUp()
        self.url = 'sqlite:///%s/nova.sqlite' % self.state_path
        self.assertEqual(0, self.manage('db', 'sync', connection=self.url))
        # Commands run, for tools/reliability-report.sh.
        self.requests_sent = 0
        self.addCleanup(
            lambda: self.addDetail(
                'figures',
                content.text_content(
                    json.dumps({'requests': self.requests_sent})
                ),
            )
        )

    def _workflow_rows(self):
        engine = sa.create_engine(self.url, poolclass=sa.pool.NullPool)
        try:
            with engine.connect() as conn:
                return conn.execute(
                    sa.text(
                        'SELECT id, state, owner, generation, '
                        'abort_requested FROM workflows ORDER BY id'
                    )
                ).fetchall()
        finally:
            engine.dispose()

    @FUZZ
    @given(argv=st.lists(_words, max_size=6))
    def test_any_words(self, argv):
        self.check(argv)

    def check(self, argv):
        """Run nova-manage with ``argv``; check the module's promises."""
        before = self._workflow_rows()
        self.stdout.seek(0)
        self.stdout.truncate()
        self.stderr.seek(0)
        self.stderr.truncate()
        self.requests_sent += 1
        rc = self.manage(*argv, connection=self.url)
        output = self.stdout.getvalue() + self.stderr.getvalue()
        self.assertIn(rc, DOCUMENTED, '%r -> %s: %s' % (argv, rc, output))
        self.assertNotIn('Traceback', output, argv)
        if rc == common.EXIT_BAD_INPUT:
            self.assertEqual(before, self._workflow_rows(), argv)


def _add_command_tests():
    for command in COMMANDS:

        @PER_COMMAND
        @given(argv=_command_argv(command))
        def test(self, argv):
            self.check(argv)

        test.__name__ = 'test_%s_%s' % (
            command[0],
            command[1].replace('-', '_'),
        )
        test.__doc__ = 'nova-manage %s %s with any arguments.' % command[:2]
        setattr(ManageFuzzTest, test.__name__, test)


_add_command_tests()
