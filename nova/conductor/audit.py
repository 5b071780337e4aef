"""Consistency audit across instances, workflows and resources.

``nova-manage workflow audit`` prints each finding. A resource is
*leaked* when it belongs to an instance that is deleted or missing and
no unfinished workflow of that instance could still release it. An
instance is *stuck* when it shows a task in progress but no unfinished
workflow drives it.
"""

import sqlalchemy as sa

from nova import orchestration as orc
from nova.db import api as db_api

_UNFINISHED = sorted(
    set(orc.states.WORKFLOW_STATES) - orc.states.WORKFLOW_TERMINAL
)


class Finding:
    """One inconsistency: a kind, the objects involved and a hint."""

    def __init__(self, kind, message, **ids):
        self.kind = kind
        self.message = message
        self.ids = ids

    def to_dict(self):
        return dict(self.ids, kind=self.kind, message=self.message)

    def __str__(self):
        return '%s: %s' % (self.kind, self.message)

    def __repr__(self):
        return '<Finding %s>' % self


# Each check is one SQL query; the "owner alive" condition repeats.
_NO_LIVE_WORKFLOW = (
    "NOT EXISTS (SELECT 1 FROM workflows w WHERE w.target_id = "
    "{uuid} AND w.state IN :unfinished)"
)
_INSTANCE_GONE = (
    "NOT EXISTS (SELECT 1 FROM instances i WHERE i.uuid = {uuid} AND "
    "i.deleted = 0)"
)


def _orphan_clause(uuid_column):
    return '(%s AND %s)' % (
        _INSTANCE_GONE.format(uuid=uuid_column),
        _NO_LIVE_WORKFLOW.format(uuid=uuid_column),
    )


_CHECKS = (
    (
        'leaked_claim',
        'SELECT c.id, c.instance_uuid, c.host FROM resource_claims c WHERE '
        + _orphan_clause('c.instance_uuid'),
        'claim {id} on {host} held for deleted or missing instance '
        '{instance_uuid}',
    ),
    (
        'leaked_fixed_ip',
        'SELECT f.address, f.instance_uuid FROM fixed_ips f WHERE '
        'f.instance_uuid IS NOT NULL AND ' + _orphan_clause('f.instance_uuid'),
        'fixed IP {address} allocated to deleted or missing instance '
        '{instance_uuid}',
    ),
    (
        'leaked_block_device',
        'SELECT b.uuid, b.instance_uuid FROM block_device_mappings b WHERE '
        'b.deleted = 0 AND ' + _orphan_clause('b.instance_uuid'),
        'block device mapping {uuid} left for deleted or missing instance '
        '{instance_uuid}',
    ),
    (
        'stuck_instance',
        "SELECT i.uuid, i.vm_state, i.task_state FROM instances i WHERE "
        "i.deleted = 0 AND (i.vm_state = 'building' OR i.task_state IS NOT "
        "NULL) AND " + _NO_LIVE_WORKFLOW.format(uuid='i.uuid'),
        'instance {uuid} is {vm_state}/{task_state} but no unfinished '
        'workflow drives it',
    ),
    (
        'active_without_claim',
        "SELECT i.uuid, i.host FROM instances i WHERE i.deleted = 0 AND "
        "i.vm_state = 'active' AND NOT EXISTS (SELECT 1 FROM resource_claims "
        "c WHERE c.instance_uuid = i.uuid AND c.host = i.host)",
        'active instance {uuid} on {host} holds no resource claim there',
    ),
    (
        'usage_mismatch',
        'SELECT n.host, n.hypervisor_hostname, n.vcpus_used, '
        'n.memory_mb_used, '
        'n.local_gb_used, COALESCE(SUM(c.vcpus), 0) AS claimed_vcpus, '
        'COALESCE(SUM(c.memory_mb), 0) AS claimed_memory_mb, '
        'COALESCE(SUM(c.disk_gb), 0) AS claimed_disk_gb FROM compute_nodes n '
        'LEFT JOIN resource_claims c ON c.compute_node_id = n.id '
        'WHERE n.deleted = 0 GROUP BY n.id, n.host, n.hypervisor_hostname, '
        'n.vcpus_used, n.memory_mb_used, n.local_gb_used HAVING '
        'n.vcpus_used <> COALESCE(SUM(c.vcpus), 0) OR n.memory_mb_used <> '
        'COALESCE(SUM(c.memory_mb), 0) OR n.local_gb_used <> '
        'COALESCE(SUM(c.disk_gb), 0)',
        'node {hypervisor_hostname} on {host} shows usage {vcpus_used} vCPU/'
        '{memory_mb_used} MiB/{local_gb_used} GiB but its claims sum to '
        '{claimed_vcpus}/{claimed_memory_mb}/{claimed_disk_gb}',
    ),
    (
        'duplicate_fixed_ip',
        'SELECT f.instance_uuid, f.network_id, COUNT(*) AS count FROM '
        'fixed_ips f WHERE f.instance_uuid IS NOT NULL GROUP BY '
        'f.instance_uuid, f.network_id HAVING COUNT(*) > 1',
        'instance {instance_uuid} holds {count} fixed IPs on network '
        '{network_id}',
    ),
    (
        'duplicate_block_device',
        'SELECT b.instance_uuid, b.device_name, COUNT(*) AS count FROM '
        'block_device_mappings b WHERE b.deleted = 0 AND b.device_name IS NOT '
        'NULL GROUP BY b.instance_uuid, b.device_name HAVING COUNT(*) > 1',
        'instance {instance_uuid} has {count} live block devices named '
        '{device_name}',
    ),
    (
        'workflow_without_target',
        "SELECT w.id, w.name, w.target_id FROM workflows w WHERE "
        "w.target_type = 'instance' AND w.state IN :unfinished AND NOT EXISTS "
        "(SELECT 1 FROM instances i WHERE i.uuid = w.target_id)",
        'unfinished workflow {id} ({name}) targets missing instance '
        '{target_id}',
    ),
)

#: Kinds of finding, for the docs and --json consumers.
KINDS = tuple(kind for kind, _, _ in _CHECKS)


@db_api.context_manager.reader
def audit(context):
    """Run every check; return the list of :class:`Finding`."""
    conn = context.session.connection()
    findings = []
    for kind, sql, template in _CHECKS:
        statement = sa.text(sql)
        if ':unfinished' in sql:
            statement = statement.bindparams(
                sa.bindparam('unfinished', expanding=True)
            )
        for row in conn.execute(
            statement,
            {'unfinished': _UNFINISHED} if ':unfinished' in sql else {},
        ):
            values = dict(row._mapping)
            findings.append(Finding(kind, template.format(**values), **values))
    return findings
