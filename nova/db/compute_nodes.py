"""DB API of the compute_nodes table: capacity and claimed usage.

Two writers touch a node row and never each other's columns:

* the node's own nova-compute reports its capacity
  (:func:`update_capacity`: totals, hypervisor info, allocation ratios);
* claims (:mod:`nova.compute.claims`) change ``*_used`` and
  ``running_vms`` with :func:`consume` / :func:`give_back`, conditional
  UPDATEs that check capacity in the statement itself, so no interleaving
  of concurrent claims can over-commit a node beyond its ratios.
"""

from oslo_db import api as oslo_db_api
from oslo_utils import timeutils
from oslo_utils import uuidutils
import sqlalchemy as sa

from nova import exception
import nova.conf
from nova.db import api as db_api
from nova.db import models

CONF = nova.conf.CONF
_nodes = models.ComputeNode.__table__

# Keys of a driver's get_available_resource() stored by a report.
_REPORTED = (
    'hypervisor_type',
    'hypervisor_version',
    'host_ip',
    'vcpus',
    'memory_mb',
    'local_gb',
)


def _to_dict(row):
    node = dict(row._mapping)
    node['free_ram_mb'] = node['memory_mb'] - node['memory_mb_used']
    node['free_disk_gb'] = node['local_gb'] - node['local_gb_used']
    node['vcpus_free'] = node['vcpus'] - node['vcpus_used']
    return node


def _live():
    return sa.select(_nodes).where(_nodes.c.deleted == 0)


@db_api.context_manager.reader
def get_all(context):
    """Every live compute node, by id."""
    rows = context.session.connection().execute(_live().order_by(_nodes.c.id))
    return [_to_dict(row) for row in rows]


@db_api.context_manager.reader
def get(context, node_id):
    """The node of that id.

    :raises ComputeHostNotFound: no live node has it.
    """
    row = (
        context.session.connection()
        .execute(_live().where(_nodes.c.id == node_id))
        .first()
    )
    if row is None:
        raise exception.ComputeHostNotFound(host='(node id %s)' % node_id)
    return _to_dict(row)


@db_api.context_manager.reader
def get_by_host(context, host, nodename=None):
    """The node of ``host`` (its first, or the one named ``nodename``).

    The fake driver has one node per host, named like the host.

    :raises ComputeHostNotFound: the host never reported a node.
    """
    query = _live().where(_nodes.c.host == host)
    if nodename is not None:
        query = query.where(_nodes.c.hypervisor_hostname == nodename)
    row = (
        context.session.connection()
        .execute(query.order_by(_nodes.c.id))
        .first()
    )
    if row is None:
        raise exception.ComputeHostNotFound(host=host)
    return _to_dict(row)


# Two computes making their first report at once may deadlock on
# MariaDB's insert intention locks; the report is simply run again.
@oslo_db_api.wrap_db_retry(max_retries=5, retry_on_deadlock=True)
@db_api.context_manager.writer
def update_capacity(context, host, resources):
    """Record a node's capacity report; create the node on the first one.

    ``resources`` is a driver's get_available_resource(). Totals, ratios
    (this host's ``[DEFAULT] *_allocation_ratio``) and hypervisor info
    are overwritten; the ``*_used`` columns are left to the claims.
    """
    nodename = resources.get('hypervisor_hostname') or host
    values = {key: resources[key] for key in _REPORTED if key in resources}
    values.update(
        cpu_allocation_ratio=CONF.cpu_allocation_ratio,
        ram_allocation_ratio=CONF.ram_allocation_ratio,
        disk_allocation_ratio=CONF.disk_allocation_ratio,
        updated_at=timeutils.utcnow(),
    )
    conn = context.session.connection()
    where = (
        _nodes.c.host == host,
        _nodes.c.hypervisor_hostname == nodename,
        _nodes.c.deleted == 0,
    )
    if (
        conn.execute(_nodes.update().where(*where).values(**values)).rowcount
        == 0
    ):
        # First report. A concurrent first report of the same node (two
        # services claiming the same host name) hits the unique
        # constraint and fails the second, which is what we want.
        values.setdefault('hypervisor_type', 'unknown')
        values.setdefault('hypervisor_version', 0)
        conn.execute(
            _nodes.insert().values(
                uuid=uuidutils.generate_uuid(),
                host=host,
                hypervisor_hostname=nodename,
                vcpus_used=0,
                memory_mb_used=0,
                local_gb_used=0,
                running_vms=0,
                created_at=values['updated_at'],
                deleted=0,
                **values,
            )
        )
    return _to_dict(conn.execute(_live().where(*where[:2])).first())


def consume(connection, node_id, vcpus, memory_mb, disk_gb):
    """Add one instance's usage to a node if it fits; True when it did.

    One conditional UPDATE: the capacity check (with the allocation
    ratios) and the increment are a single statement, atomic on every
    database, so two claims racing for the last slot cannot both win.
    Runs on the caller's connection (inside its transaction).
    """
    c = _nodes.c
    result = connection.execute(
        _nodes.update()
        .where(
            c.id == node_id,
            c.deleted == 0,
            c.vcpus_used + vcpus <= c.vcpus * c.cpu_allocation_ratio,
            c.memory_mb_used + memory_mb
            <= c.memory_mb * c.ram_allocation_ratio,
            c.local_gb_used + disk_gb <= c.local_gb * c.disk_allocation_ratio,
        )
        .values(
            vcpus_used=c.vcpus_used + vcpus,
            memory_mb_used=c.memory_mb_used + memory_mb,
            local_gb_used=c.local_gb_used + disk_gb,
            running_vms=c.running_vms + 1,
        )
    )
    return result.rowcount == 1


def give_back(connection, node_id, vcpus, memory_mb, disk_gb):
    """Subtract one instance's usage from a node (never below zero)."""
    c = _nodes.c
    connection.execute(
        _nodes.update()
        .where(c.id == node_id)
        .values(
            vcpus_used=_floor_zero(connection, c.vcpus_used - vcpus),
            memory_mb_used=_floor_zero(
                connection, c.memory_mb_used - memory_mb
            ),
            local_gb_used=_floor_zero(connection, c.local_gb_used - disk_gb),
            running_vms=_floor_zero(connection, c.running_vms - 1),
        )
    )


def _floor_zero(connection, expression):
    if connection.dialect.name == 'sqlite':
        return sa.func.max(expression, 0)
    return sa.func.greatest(expression, 0)
