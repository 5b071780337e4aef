"""Every nova service in one process: what nova-all and the functional
tests run.

The services are the same classes the separate binaries run; only the
transport (``fake://``, in-process) and the database (SQLite under
``[DEFAULT] state_path`` by default) differ.
"""

from oslo_log import log as logging

from nova import service
from nova.compute import manager as compute_manager
from nova.conductor import manager as conductor_manager
import nova.conf
from nova.scheduler import manager as scheduler_manager
from nova.virt import driver as virt_driver

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)


class EmbeddedNova:
    """Conductor(s), scheduler and fake compute hosts in this process."""

    def __init__(self, compute_hosts=None, conductors=1):
        self.compute_hosts = list(compute_hosts or CONF.all.compute_hosts)
        self.conductor_count = conductors
        self.services = []
        self.conductors = []
        self.computes = {}

    def start(self):
        """Start the services; computes first so capacity is reported."""
        for host in self.compute_hosts:
            driver = virt_driver.load_compute_driver(host)
            manager = compute_manager.ComputeManager(host, driver)
            self._start(
                service.Service('nova-compute', 'compute', manager, host=host)
            )
            self.computes[host] = manager
        self._start(
            service.Service(
                'nova-scheduler',
                'scheduler',
                scheduler_manager.SchedulerManager(),
            )
        )
        for index in range(self.conductor_count):
            host = (
                CONF.host
                if self.conductor_count == 1
                else '%s-conductor%d' % (CONF.host, index + 1)
            )
            manager = conductor_manager.ConductorManager(host)
            self._start(
                service.Service(
                    'nova-conductor', CONF.conductor.topic, manager, host=host
                )
            )
            self.conductors.append(manager)
        return self

    def _start(self, svc):
        svc.start()
        self.services.append(svc)

    def stop(self):
        """Stop every service, newest first."""
        while self.services:
            svc = self.services.pop()
            try:
                svc.stop()
            except Exception:
                LOG.exception('Error stopping %r', svc)
