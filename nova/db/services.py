"""DB API of the services table: registration and liveness.

A service is up when it reported within ``[DEFAULT] service_down_time``
seconds. Reports compare times taken from this process's clock with
times it wrote itself, so only the reader's skew matters: keep
service_down_time several times larger than the skew between hosts.
"""

import datetime

from oslo_utils import timeutils
from oslo_utils import uuidutils
import sqlalchemy as sa

import nova.conf
from nova.db import api as db_api
from nova.db import models

CONF = nova.conf.CONF
_services = models.Service.__table__


class ServiceNotFound(Exception):
    """No live service has that id or host and binary."""


def _row_to_dict(row):
    return dict(row._mapping) if row is not None else None


@db_api.context_manager.writer
def register(context, host, binary, topic, availability_zone='nova'):
    """Create the row of (host, binary), or revive it; return it."""
    now = timeutils.utcnow()
    conn = context.session.connection()
    row = conn.execute(
        sa.select(_services).where(
            _services.c.host == host,
            _services.c.binary == binary,
            _services.c.deleted == 0,
        )
    ).first()
    if row is None:
        conn.execute(
            _services.insert().values(
                uuid=uuidutils.generate_uuid(),
                host=host,
                binary=binary,
                topic=topic,
                report_count=0,
                disabled=False,
                forced_down=False,
                version=0,
                availability_zone=availability_zone,
                created_at=now,
                updated_at=now,
                last_seen_up=now,
                deleted=0,
            )
        )
    else:
        conn.execute(
            _services.update()
            .where(_services.c.id == row.id)
            .values(topic=topic, updated_at=now, last_seen_up=now)
        )
    return _row_to_dict(
        conn.execute(
            sa.select(_services).where(
                _services.c.host == host,
                _services.c.binary == binary,
                _services.c.deleted == 0,
            )
        ).first()
    )


@db_api.context_manager.writer
def report_alive(context, service_id):
    """Record one liveness report: report_count + 1, updated_at = now."""
    now = timeutils.utcnow()
    result = context.session.connection().execute(
        _services.update()
        .where(_services.c.id == service_id, _services.c.deleted == 0)
        .values(
            report_count=_services.c.report_count + 1,
            updated_at=now,
            last_seen_up=now,
        )
    )
    if result.rowcount == 0:
        raise ServiceNotFound('service %s is gone' % service_id)


@db_api.context_manager.reader
def get_all(context, binary=None, host=None, include_disabled=True):
    """Live service rows, optionally of one binary and/or host."""
    query = sa.select(_services).where(_services.c.deleted == 0)
    if binary:
        query = query.where(_services.c.binary == binary)
    if host:
        query = query.where(_services.c.host == host)
    if not include_disabled:
        query = query.where(_services.c.disabled == sa.false())
    rows = context.session.connection().execute(query.order_by(_services.c.id))
    return [_row_to_dict(row) for row in rows]


def is_up(service, now=None):
    """Whether ``service`` (a row dict) reported recently enough."""
    if service.get('forced_down'):
        return False
    last = (
        service.get('last_seen_up')
        or service.get('updated_at')
        or service.get('created_at')
    )
    if last is None:
        return False
    now = now or timeutils.utcnow()
    return (now - last) <= datetime.timedelta(seconds=CONF.service_down_time)


def down_hosts(context, binary, hosts):
    """The ones of ``hosts`` whose ``binary`` service is registered and
    down (not up, or forced down). A host with no such service is not
    counted: nothing says it went away."""
    return {
        service['host']
        for service in get_all(context, binary=binary)
        if service['host'] in hosts and not is_up(service)
    }
