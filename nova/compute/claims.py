"""Atomic resource claims of instances on compute nodes.

A claim is a ``resource_claims`` row plus the same amounts added to the
node's ``*_used`` columns, written in one transaction. The capacity check
is inside the UPDATE (see :func:`nova.db.compute_nodes.consume`), so
claims need no lock and concurrent builds never over-commit a node.

Claims are idempotent per (instance, node) thanks to the table's unique
constraint: the claim step of a build re-executed after a conductor crash
finds its row and counts nothing twice. Releases delete the row first and
give the resources back only if they deleted it, so a release replayed
(revert, then delete) gives back nothing the second time.
"""

from oslo_db import api as oslo_db_api
from oslo_db import exception as db_exc
from oslo_log import log as logging
from oslo_utils import timeutils
import sqlalchemy as sa

from nova import exception
from nova.db import api as db_api
from nova.db import compute_nodes
from nova.db import fencing
from nova.db import models

LOG = logging.getLogger(__name__)
_claims = models.ResourceClaim.__table__
_nodes = models.ComputeNode.__table__


def _to_dict(row):
    return dict(row._mapping) if row is not None else None


@db_api.context_manager.reader
def _find_node(context, host, nodename):
    query = sa.select(_nodes.c.id, _nodes.c.hypervisor_hostname).where(
        _nodes.c.host == host, _nodes.c.deleted == 0
    )
    if nodename:
        query = query.where(_nodes.c.hypervisor_hostname == nodename)
    return (
        context.session.connection()
        .execute(query.order_by(_nodes.c.id))
        .first()
    )


@db_api.context_manager.reader
def _existing(context, instance_uuid, node_id):
    return _to_dict(
        context.session.connection()
        .execute(
            sa.select(_claims).where(
                _claims.c.instance_uuid == instance_uuid,
                _claims.c.compute_node_id == node_id,
            )
        )
        .first()
    )


# MySQL may pick a claim as a deadlock victim when releases and claims of
# one node interleave; the whole transaction is simply run again.
@oslo_db_api.wrap_db_retry(max_retries=5, retry_on_deadlock=True)
def claim(
    context,
    instance_uuid,
    host,
    nodename,
    vcpus,
    memory_mb,
    disk_gb,
    workflow_id=None,
):
    """Claim resources for ``instance_uuid`` on the node of ``host``.

    :returns: the claim dict (the resource_claims row); the existing one
        when the instance already holds a claim on that node.
    :raises ComputeResourcesUnavailable: the node is unknown or the
        resources do not fit within its allocation ratios.
    """
    node = _find_node(context, host, nodename)
    if node is None:
        raise exception.ComputeResourcesUnavailable(
            reason='host %s has no compute node %s; has its nova-compute '
            'reported yet?' % (host, nodename or '')
        )
    existing = _existing(context, instance_uuid, node.id)
    if existing is not None:
        return existing
    try:
        _consume_and_record(
            context,
            instance_uuid,
            node,
            host,
            int(vcpus),
            int(memory_mb),
            int(disk_gb),
            workflow_id,
        )
    except db_exc.DBDuplicateEntry:
        # A concurrent claim of the same instance on the same node won;
        # its transaction holds the resources, ours was rolled back.
        pass
    return _existing(context, instance_uuid, node.id)


@db_api.context_manager.writer
def _consume_and_record(
    context, instance_uuid, node, host, vcpus, memory_mb, disk_gb, workflow_id
):
    """The claim transaction: usage UPDATE, then the claim row INSERT.

    The UPDATE is the first statement on purpose. On SQLite (WAL) a
    transaction that read before writing fails at once with "database is
    locked" if another writer committed meanwhile, whereas one that
    starts by writing waits for the lock. On MySQL the INSERT's foreign
    key check share-locks the node row, and two claims holding that share
    lock while both waiting to update the row would deadlock.
    """
    fencing.check(context, 'claim_resources')
    conn = context.session.connection()
    if not compute_nodes.consume(conn, node.id, vcpus, memory_mb, disk_gb):
        raise exception.ComputeResourcesUnavailable(
            reason='instance %s needs %d vCPU, %d MB RAM, %d GB disk, more '
            'than is free on %s (node %s)'
            % (
                instance_uuid,
                vcpus,
                memory_mb,
                disk_gb,
                host,
                node.hypervisor_hostname,
            )
        )
    conn.execute(
        _claims.insert().values(
            instance_uuid=instance_uuid,
            compute_node_id=node.id,
            host=host,
            vcpus=vcpus,
            memory_mb=memory_mb,
            disk_gb=disk_gb,
            workflow_id=workflow_id,
            created_at=timeutils.utcnow(),
        )
    )


def release(context, instance_uuid, host=None):
    """Release the claims of ``instance_uuid`` (only on ``host`` if given).

    Idempotent: a claim already released gives nothing back again.
    """
    for claim_row in get_claims(context, instance_uuid, host=host):
        _release_one(context, claim_row)


@oslo_db_api.wrap_db_retry(max_retries=5, retry_on_deadlock=True)
@db_api.context_manager.writer
def _release_one(context, claim_row):
    fencing.check(context, 'release_claim')
    conn = context.session.connection()
    # Only the transaction that deletes the row gives back its usage, so
    # concurrent or repeated releases count it once.
    if conn.execute(
        _claims.delete().where(_claims.c.id == claim_row['id'])
    ).rowcount:
        compute_nodes.give_back(
            conn,
            claim_row['compute_node_id'],
            claim_row['vcpus'],
            claim_row['memory_mb'],
            claim_row['disk_gb'],
        )
        LOG.debug(
            'Released claim of %s on %s',
            claim_row['instance_uuid'],
            claim_row['host'],
        )


@db_api.context_manager.reader
def get_claims(context, instance_uuid=None, host=None):
    """Claim dicts, of one instance and/or host when given, by id."""
    query = sa.select(_claims)
    if instance_uuid is not None:
        query = query.where(_claims.c.instance_uuid == instance_uuid)
    if host is not None:
        query = query.where(_claims.c.host == host)
    rows = context.session.connection().execute(query.order_by(_claims.c.id))
    return [_to_dict(row) for row in rows]
