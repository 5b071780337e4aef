"""Builds whose compute host went down while it spawned.

With ``[conductor] spawn_mode = report`` a build waits, with no thread,
for its host to report the spawn (nova.compute.completions). A host that
dies mid-spawn never reports: left alone, the build would wait for
``[conductor] spawn_timeout`` (600 s by default) in BUILD. Instead, each
sweep of every conductor looks for builds that wait on the spawn of a
host whose nova-compute service is down (no report for
``[DEFAULT] service_down_time``, or forced down) and completes their
spawn step with a failure, ``InstanceDeployFailure``. That is a host
failure, so the build reverts its attempt on that host (the claim on it
is released; see build_instance.Spawn.revert for the destroy a down host
cannot do now) and tries the next alternate host, or ends in ERROR when
there is none.

The failure goes through the completion path, so it is taken at most
once and only while the spawn waits for that token: a report from the
host that races it (the host came back just then) wins or is stale, never
both. When the host was not dead after all, its guest, now without a
claim, is destroyed by the host itself (ComputeManager.reap_orphans).
"""

from oslo_log import log as logging

from nova import exception
from nova import orchestration as orc
from nova.conductor.workflows import build_instance
import nova.conf
from nova.db import services as services_db
from nova.db import workflows as workflows_db

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)

COMPUTE_BINARY = build_instance.COMPUTE_BINARY


def redo_spawns_of_restarted_host(context, runner, host):
    """Spawn again the builds that wait on ``host``'s spawn: the host
    just started, so the spawns its previous process had taken off its
    queue are lost (a spawn cast still queued also runs; the spawn is
    idempotent and the older report is stale).

    :returns: the ids of the builds whose spawn runs again.
    """
    task = build_instance.Spawn.name
    waits = workflows_db.waiting_on_hosts(
        context, build_instance.NAME, task, host=host
    )
    backend = workflows_db.get_backend()
    redone = []
    for wait in waits:
        token = orc.Engine.waiting_tokens(wait['id'], backend).get(task)
        if token is None:
            continue
        LOG.info(
            'Workflow %s: compute host %s restarted while spawning; '
            'spawning again',
            wait['id'],
            host,
        )
        runner.redo(wait['id'], task, token)
        redone.append(wait['id'])
    return redone


def fail_spawns_on_down_hosts(context, runner):
    """Fail the waiting spawn of every build whose host is down.

    :param runner: the conductor's WorkflowRunner; it records each
        failure and continues the build in its pool.
    :returns: the ids of the builds whose spawn was failed.
    """
    task = build_instance.Spawn.name
    waits = workflows_db.waiting_on_hosts(context, build_instance.NAME, task)
    if not waits:
        return []
    down = services_db.down_hosts(
        context, COMPUTE_BINARY, {wait['host'] for wait in waits}
    )
    backend = workflows_db.get_backend()
    failed = []
    for wait in waits:
        if wait['host'] not in down:
            continue
        token = orc.Engine.waiting_tokens(wait['id'], backend).get(task)
        if token is None:
            continue  # reported, or reverting, since the query
        error = exception.InstanceDeployFailure(
            reason='compute host %s went down while spawning (no service '
            'report for %s s)' % (wait['host'], CONF.service_down_time)
        )
        LOG.warning('Workflow %s: %s', wait['id'], error)
        runner.complete(
            wait['id'],
            task,
            token,
            failure=orc.Failure.from_exception(error).to_dict(),
        )
        failed.append(wait['id'])
    return failed
