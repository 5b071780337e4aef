"""Ownership, leases and fencing, on a SQLite file.

conductor-1 owns a workflow and then stalls inside a step (a long GC pause,
a frozen VM) for longer than its lease. conductor-2's sweeper finds the
expired lease, adopts the workflow (generation 1 -> 2) and finishes it.
When conductor-1 wakes up, its next write carries generation 1, matches no
row, and it stops with ``OwnershipLost``: no further write, no revert, no
next step. The step it was running executes twice (execute is
at-least-once), which is why it is declared idempotent.

Run it: ``python doc/source/examples/orchestration/fencing.py``.
"""

import os
import tempfile
import threading
import time

from nova import orchestration as orc

FACTORY = 'examples.fencing.resize'
LEASE_SECONDS = 0.5
STALL = threading.Event()  # set: conductor-1 wakes up
CALLS = []


class Record(orc.Task):
    def execute(self):
        CALLS.append(self.name)


class MigrateDisk(orc.Task):
    """Copying the same disk again is harmless; the first copy stalls."""

    idempotent = True

    def execute(self, workflow_generation):
        CALLS.append('%s (generation %d)' % (self.name, workflow_generation))
        if workflow_generation == 1:
            STALL.wait(10)


@orc.flow_factory(FACTORY)
def resize():
    return orc.LinearFlow('resize').add(
        Record(name='prepare'),
        MigrateDisk(name='migrate_disk'),
        Record(name='confirm'),
    )


def main():
    with tempfile.TemporaryDirectory() as workdir:
        backend = orc.persistence.backend_from_url(
            'sqlite:///' + os.path.join(workdir, 'wf.sqlite')
        )
        backend.upgrade()
        engine = orc.Engine(
            FACTORY,
            backend=backend,
            owner='conductor-1',
            policy=orc.EnginePolicy(lease_seconds=LEASE_SECONDS),
        )
        outcome = {}

        def conductor_1():
            try:
                engine.run()
                outcome['conductor-1'] = engine.state
            except orc.OwnershipLost as e:
                outcome['conductor-1'] = 'OwnershipLost: %s' % e

        thread = threading.Thread(target=conductor_1)
        thread.start()
        time.sleep(LEASE_SECONDS + 0.2)  # conductor-1 stalls past its lease

        # conductor-2's periodic sweep: adopt expired leases and run them.
        swept = orc.Engine.sweep(backend, owner='conductor-2', grace_seconds=0)
        print('conductor-2 adopted and ran:', list(swept.values()))
        STALL.set()
        thread.join()
        print('conductor-1:', outcome['conductor-1'].split(':')[0])
        row = backend.get_workflow(engine.workflow_id)
        print('workflow:', row['state'], 'generation', row['generation'])
        print('calls:', ', '.join(CALLS))
        backend.close()


if __name__ == '__main__':
    main()
