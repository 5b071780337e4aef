"""Resume after a crash, on a SQLite file: what runs again and what not.

A child process runs the workflow and dies (``os._exit``) in the middle of a
step. Another "conductor" then finds the workflow (its owner's lease has
expired) and resumes it:

* steps that finished are skipped, with their stored results;
* the step that was RUNNING is executed again if it is ``idempotent``;
* otherwise it is failed as interrupted, and the workflow reverts (its own
  revert included: it may or may not have had an effect, so revert must
  cope with both).

``execute`` is therefore at-least-once, and so is ``revert``.

Run it: ``python doc/source/examples/orchestration/resume_after_crash.py``.
"""

import os
import subprocess
import sys
import tempfile
import time

from nova import orchestration as orc

FACTORY = 'examples.resume_after_crash.order'
LEASE_SECONDS = 0.5


def journal(line):
    """Side effects go to a file, so that both processes' calls are seen."""
    with open(os.environ['EXAMPLE_JOURNAL'], 'a') as f:
        f.write(line + '\n')


class Step(orc.Task):
    """Journals each call; dies in execute when the store says so."""

    def execute(self, crash_in):
        journal('execute ' + self.name)
        if crash_in == self.name and os.environ.get('EXAMPLE_CHILD'):
            os._exit(3)  # the conductor dies mid-step: no cleanup at all
        return self.name

    def revert(self, result, **kwargs):
        journal('revert ' + self.name)


class Attach(Step):
    """Attaching the same volume twice is harmless: safe to re-execute."""

    idempotent = True


@orc.flow_factory(FACTORY)
def order():
    """Registered, so that any process can rebuild the flow to resume it."""
    return orc.LinearFlow('order').add(
        Step(name='reserve'), Attach(name='attach'), Step(name='charge')
    )


def child(db, crash_in):
    """A conductor that starts the workflow and dies in step ``crash_in``."""
    backend = orc.persistence.backend_from_url('sqlite:///' + db)
    orc.Engine(
        FACTORY,
        store={'crash_in': crash_in},
        backend=backend,
        owner='conductor-1',
        policy=orc.EnginePolicy(lease_seconds=LEASE_SECONDS),
    ).run()


def scenario(workdir, crash_in):
    db = os.path.join(workdir, 'wf-%s.sqlite' % crash_in)
    os.environ['EXAMPLE_JOURNAL'] = os.path.join(workdir, crash_in + '.log')
    backend = orc.persistence.backend_from_url('sqlite:///' + db)
    backend.upgrade()
    env = dict(os.environ, EXAMPLE_CHILD='1')
    code = subprocess.call(
        [sys.executable, __file__, 'child', db, crash_in], env=env
    )
    print('conductor-1 died in %s (exit code %d)' % (crash_in, code))
    time.sleep(LEASE_SECONDS + 0.1)  # what the sweeper waits for
    (workflow_id,) = backend.find_adoptable(grace_seconds=0)
    try:
        engine = orc.Engine.resume(workflow_id, backend, owner='conductor-2')
        print('conductor-2 resumed it:', engine.state)
    except orc.WorkflowFailed as e:
        print('conductor-2 resumed it:', e.state, e.failure.brief())
    with open(os.environ['EXAMPLE_JOURNAL']) as f:
        print('calls:', ', '.join(f.read().splitlines()))
    backend.close()


def main():
    with tempfile.TemporaryDirectory() as workdir:
        scenario(workdir, 'attach')  # idempotent: executed again
        scenario(workdir, 'charge')  # not idempotent: failed and reverted


if __name__ == '__main__':
    if sys.argv[1:2] == ['child']:
        child(*sys.argv[2:])
    else:
        main()
