"""A retry controller tries each alternate host until one works.

``ParameterizedForEach`` takes its values from the store (or an earlier
task), provides the current one to its subflow, and on a failure inside the
subflow decides RETRY: the subflow is reverted, then run again with the next
value. When no value is left the failure goes up (REVERT).

Run it: ``python doc/source/examples/orchestration/retry_alternates.py``.
"""

from nova import orchestration as orc

BROKEN = {'host-a'}  # a host that fails every build
EVENTS = []


class ClaimOn(orc.Task):
    """Claims resources on ``host``; revert gives them back."""

    def execute(self, host):
        EVENTS.append('claim on %s' % host)
        return host

    def revert(self, host, result, **kwargs):
        EVENTS.append('unclaim on %s' % host)


class BuildOn(orc.Task):
    """Builds the server on ``host``; fails on a broken host."""

    default_provides = 'built_on'

    def execute(self, host):
        if host in BROKEN:
            raise RuntimeError('build failed on %s' % host)
        EVENTS.append('built on %s' % host)
        return host


def build_flow():
    """The subflow 'attempt' runs once per alternate until one succeeds."""
    attempt = orc.LinearFlow(
        'attempt',
        retry=orc.retry.ParameterizedForEach(
            name='alternates', rebind=['hosts'], provides='host'
        ),
    ).add(ClaimOn(name='claim'), BuildOn(name='build'))
    return orc.LinearFlow('schedule_and_build').add(attempt)


def main():
    hosts = ['host-a', 'host-b', 'host-c']
    engine = orc.Engine(build_flow(), store={'hosts': hosts})
    engine.run()
    for event in EVENTS:
        print(event)
    print('state:', engine.state)
    print('built on:', engine.results['built_on'])

    # Every alternate broken: the retry gives up and the workflow reverts.
    BROKEN.update({'host-b', 'host-c'})
    EVENTS.clear()
    engine = orc.Engine(build_flow(), store={'hosts': hosts})
    try:
        engine.run()
    except orc.WorkflowFailed as e:
        print('all alternates failed:', e.state)
    claims = sum(e.startswith('claim') for e in EVENTS)
    unclaims = sum(e.startswith('unclaim') for e in EVENTS)
    print('claims: %d, unclaims: %d' % (claims, unclaims))


if __name__ == '__main__':
    main()
