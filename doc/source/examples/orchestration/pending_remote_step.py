"""A long step without a waiting thread, and a secret input, on SQLite.

``spawn`` asks a (simulated) compute service to build a server and returns
``orc.Pending(token)`` at once. ``run()`` then returns with the workflow
RUNNING and unowned: no thread, no lease, just rows. When the remote side
reports, whichever conductor receives the report calls
``orc.Engine.complete``; the engine is rebuilt from the rows and continues.

The admin password is a *secret*: kept in the first engine's memory only,
never written. The engine that continues after the completion was rebuilt
from the database, so the secret is absent there and the step that wants it
gets its default (None) and copes.

Run it: ``python doc/source/examples/orchestration/pending_remote_step.py``.
"""

import os
import tempfile

from nova import orchestration as orc

FACTORY = 'examples.pending_remote_step.boot'
COMPUTE_QUEUE = []  # stands in for an RPC cast to nova-compute


class Spawn(orc.Task):
    """Casts the build to the compute host and returns without waiting."""

    default_provides = 'server'
    timeout = 600  # the completion must come within 10 minutes

    def execute(self, name, workflow_id, workflow_generation):
        token = 'spawn-%s-%d' % (name, workflow_generation)
        # The remote side gets (workflow_id, generation) and the token, so
        # it can refuse a stale owner and report back to the right step.
        COMPUTE_QUEUE.append((workflow_id, token, name))
        return orc.Pending(token)

    def revert(self, name, result, **kwargs):
        print('delete server', name)


class SetPassword(orc.Task):
    """Injects the admin password when there is one."""

    def execute(self, server, admin_pass=None):
        if admin_pass is None:
            return 'no password injected into %s' % server['id']
        return 'password injected into %s' % server['id']


@orc.flow_factory(FACTORY)
def boot():
    return orc.LinearFlow('boot').add(
        Spawn(name='spawn'), SetPassword(name='set_password')
    )


def main():
    with tempfile.TemporaryDirectory() as workdir:
        backend = orc.persistence.backend_from_url(
            'sqlite:///' + os.path.join(workdir, 'wf.sqlite')
        )
        backend.upgrade()
        engine = orc.Engine(
            FACTORY,
            store={'name': 'vm1', 'admin_pass': 's3cret'},
            secret={'admin_pass'},
            backend=backend,
            owner='conductor-1',
        ).run()
        row = backend.get_workflow(engine.workflow_id)
        print('after run():', engine.state, 'waiting for', engine.waiting)
        print('owner while waiting:', row['owner'])
        print('persisted store:', row['store'])  # the secret's name only

        # ... later, nova-compute reports to any conductor:
        workflow_id, token, name = COMPUTE_QUEUE.pop()
        done = orc.Engine.complete(
            workflow_id,
            'spawn',
            token,
            backend,
            result={'id': 'server-' + name},
            owner='conductor-2',
        )
        print('after complete():', done.state)
        print(done.task_results['set_password'])
        # A duplicate report is stale: ignored.
        again = orc.Engine.complete(
            workflow_id, 'spawn', token, backend, result={'id': 'x'}
        )
        print('duplicate report accepted:', again is not None)
        backend.close()


if __name__ == '__main__':
    main()
