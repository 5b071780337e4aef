"""The engine on eventlet green threads (executor 'eventlet').

Skips cleanly when eventlet is not installed: nothing in the library needs it.
"""

import os
import subprocess
import sys
import textwrap

import testtools

from nova import orchestration as orc
from nova.orchestration import states
from nova.tests.unit.orchestration import base

EVENTLET = orc.EnginePolicy(executor='eventlet')

try:
    import eventlet
except ImportError:  # pragma: no cover - depends on the environment
    eventlet = None


@testtools.skipIf(eventlet is None, 'eventlet is not installed')
class EventletExecutorTest(testtools.TestCase):
    def test_green_parallel(self):
        running = {'now': 0, 'max': 0}

        class GreenSleep(orc.Task):
            def execute(self):
                running['now'] += 1
                running['max'] = max(running['max'], running['now'])
                eventlet.sleep(0.02)
                running['now'] -= 1

        flow = orc.UnorderedFlow('u').add(
            *[GreenSleep(name='g%d' % i) for i in range(5)]
        )
        e = orc.Engine(flow, policy=EVENTLET).run()
        self.assertEqual(states.SUCCESS, e.state)
        self.assertEqual(5, running['max'])

    def test_green_revert(self):
        ledger = base.Ledger()
        flow = orc.LinearFlow('f').add(
            orc.UnorderedFlow('u').add(
                base.Step('a', ledger=ledger), base.Step('b', ledger=ledger)
            ),
            base.Step('c', ledger=ledger, fail=True),
        )
        self.assertRaises(
            orc.WorkflowFailed, orc.Engine(flow, policy=EVENTLET).run
        )
        self.assertEqual({}, ledger.held)

    def test_green_timeout(self):
        class Slow(orc.Task):
            timeout = 0.05

            def execute(self):
                while not self.cancelled():
                    eventlet.sleep(0.01)

        flow = orc.UnorderedFlow('u').add(Slow(name='slow'), base.Step('x'))
        err = self.assertRaises(
            orc.WorkflowFailed, orc.Engine(flow, policy=EVENTLET).run
        )
        self.assertTrue(err.failures['slow'].check(orc.TaskTimeout))

    def test_monkey_patched_process(self):
        # A service under eventlet monkey-patches first: run a whole workflow
        # with a SQLite backend in such a process.
        code = textwrap.dedent('''
            import eventlet
            eventlet.monkey_patch()
            import sys, tempfile, os
            from nova import orchestration as orc

            class T(orc.Task):
                def execute(self, x):
                    eventlet.sleep(0.01)
                    return x + 1

            @orc.flow_factory('green.flow')
            def flow():
                return orc.UnorderedFlow('u').add(
                    *[T(name='t%d' % i, provides='r%d' % i) for i in range(4)])
            d = tempfile.mkdtemp()
            b = orc.persistence.backend_from_url('sqlite:///' +
            os.path.join(d, 'w.db'))
            b.upgrade()
            e = orc.Engine('green.flow', store={'x': 1}, backend=b,
            policy=orc.EnginePolicy(executor='eventlet'))
            e.run()
            print(e.state, sorted(e.results.values()))
        ''')
        env = dict(os.environ, PYTHONWARNINGS='ignore')
        out = subprocess.run(
            [sys.executable, '-c', code],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
            cwd=os.path.dirname(
                os.path.dirname(
                    os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
                )
            ),
        )
        self.assertEqual(0, out.returncode, out.stderr)
        self.assertEqual('SUCCESS [2, 2, 2, 2]', out.stdout.strip())
