"""A nova service: an RPC server plus liveness reports and periodics.

Every binary (nova-conductor, nova-scheduler, nova-compute, and each of
them inside nova-all) runs as a :class:`Service`. The manager object is
the RPC endpoint; its ``periodic_tasks()`` (optional) returns callables
decorated with :func:`futurist.periodics.periodic` that run beside it.
"""

import threading

from futurist import periodics
from oslo_log import log as logging
import oslo_messaging as messaging

from nova import context as nova_context
from nova import rpc
import nova.conf
from nova.db import services as services_db

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)


class Service:
    """Serve ``manager`` on ``topic`` (server ``host``) until stopped."""

    def __init__(
        self, binary, topic, manager, host=None, report_interval=None
    ):
        self.binary = binary
        self.topic = topic
        self.host = host or CONF.host
        self.manager = manager
        self.report_interval = report_interval or CONF.report_interval
        self.service_id = None
        self._rpc_server = None
        self._periodics = None
        self._periodic_thread = None
        self._stopped = threading.Event()

    def __repr__(self):
        return '<Service %s on %s>' % (self.binary, self.host)

    def start(self):
        """Register in the services table, serve RPC, run periodics."""
        ctxt = nova_context.get_admin_context()
        row = services_db.register(ctxt, self.host, self.binary, self.topic)
        self.service_id = row['id']
        if hasattr(self.manager, 'init_host'):
            self.manager.init_host()
        target = messaging.Target(topic=self.topic, server=self.host)
        self._rpc_server = rpc.get_server(target, [self.manager])
        self._rpc_server.start()

        @periodics.periodic(self.report_interval, run_immediately=False)
        def report_state():
            self._report_state()

        tasks = [report_state]
        if hasattr(self.manager, 'periodic_tasks'):
            tasks += self.manager.periodic_tasks()
        self._periodics = periodics.PeriodicWorker(
            [(task, (), {}) for task in tasks]
        )
        self._periodic_thread = threading.Thread(
            target=self._periodics.start,
            name='%s-periodics' % self.binary,
            daemon=True,
        )
        self._periodic_thread.start()
        LOG.info(
            '%s started on host %s (topic %s)',
            self.binary,
            self.host,
            self.topic,
        )

    def _report_state(self):
        try:
            services_db.report_alive(
                nova_context.get_admin_context(), self.service_id
            )
        except Exception:
            # A DB outage must not kill the service: it reports again
            # at the next interval and shows as down meanwhile.
            LOG.exception('%s could not report liveness', self.binary)

    def stop(self, graceful=True):
        """Stop taking RPC, let in-flight calls finish, stop periodics."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        if hasattr(self.manager, 'pre_stop'):
            self.manager.pre_stop()
        if self._rpc_server is not None:
            self._rpc_server.stop()
            if graceful:
                self._rpc_server.wait()
        if self._periodics is not None:
            self._periodics.stop()
            self._periodics.wait()
        if hasattr(self.manager, 'cleanup_host'):
            self.manager.cleanup_host()
        LOG.info('%s on %s stopped', self.binary, self.host)
