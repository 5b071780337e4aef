"""A failure reverts every completed step, newest first.

``revert`` receives the step's own arguments, its ``result`` (or the Failure
when its own ``execute`` failed) and ``flow_failures``. It runs at least
once, so it must be idempotent: undoing something already undone, or never
done, is not an error.

Run it: ``python doc/source/examples/orchestration/revert_on_failure.py``.
"""

from nova import orchestration as orc

# A toy inventory standing in for a real service.
HELD = {}
LOG = []


class Claim(orc.Task):
    """Holds a resource; its revert releases it (idempotently)."""

    def __init__(self, resource):
        super().__init__(name='claim_' + resource, provides=resource)
        self.resource = resource

    def execute(self):
        HELD[self.resource] = 'claim-%s' % self.resource
        LOG.append('execute ' + self.name)
        return HELD[self.resource]

    def revert(self, result, flow_failures, **kwargs):
        LOG.append('revert ' + self.name)
        if isinstance(result, orc.Failure):
            return  # execute itself failed: it holds nothing to undo
        # pop(..., None): a second revert after a crash finds nothing to do.
        HELD.pop(self.resource, None)


class Spawn(orc.Task):
    """Fails, as a hypervisor might."""

    def execute(self, cpu, disk):
        LOG.append('execute spawn')
        raise RuntimeError('hypervisor refused the guest')

    def revert(self, cpu, disk, result, flow_failures):
        LOG.append('revert spawn')
        # result is the Failure of this very step.
        assert isinstance(result, orc.Failure), result


class MarkError(orc.Task):
    """The sentinel first step: its revert records the user-visible ERROR.

    Every failure path reverts through it, so no path forgets the user.
    """

    def execute(self):
        LOG.append('execute mark_error')

    def revert(self, flow_failures, **kwargs):
        LOG.append('revert mark_error')
        first = sorted(flow_failures)[0]
        HELD['status'] = 'ERROR: %s' % flow_failures[first].brief()


def main():
    flow = orc.LinearFlow('boot').add(
        MarkError(name='mark_error'),
        Claim('cpu'),
        Claim('disk'),
        Spawn(name='spawn'),
    )
    engine = orc.Engine(flow)  # memory backend by default
    try:
        engine.run()
    except orc.WorkflowFailed as e:
        print('workflow:', e.state)
        print('failed step:', ', '.join(sorted(e.failures)))
        print('cause:', e.failures['spawn'].brief())
    for line in LOG:
        print(line)
    print('still held:', sorted(k for k in HELD if k != 'status'))
    print('status:', HELD['status'])


if __name__ == '__main__':
    main()
