"""A migrated database and a reported compute node for compute tests."""

import threading

from nova import context as nova_context
from nova import test
from nova.db import compute_nodes
from nova.tests import fixtures as nova_fixtures


class DBTestCase(test.TestCase):
    """A test on a fresh migrated, seeded database of ``backend``."""

    backend = 'sqlite'

    def setUp(self):
        super().setUp()
        self.db = self.useFixture(nova_fixtures.Database(backend=self.backend))
        self.ctxt = nova_context.get_admin_context()

    def create_node(
        self, host='host1', vcpus=8, memory_mb=8192, local_gb=100, **ratios
    ):
        """Report a node as its nova-compute would; ratios default 1.0."""
        for name in ('cpu', 'ram', 'disk'):
            self.flags(**{'%s_allocation_ratio' % name: ratios.get(name, 1.0)})
        return compute_nodes.update_capacity(
            self.ctxt,
            host,
            {
                'hypervisor_hostname': host,
                'hypervisor_type': 'fake',
                'hypervisor_version': 1000,
                'vcpus': vcpus,
                'memory_mb': memory_mb,
                'local_gb': local_gb,
            },
        )


def run_concurrently(count, func):
    """Call ``func(index)`` from ``count`` threads started together.

    :returns: (results, errors): lists of what the calls returned and of
        the exceptions they raised.
    """
    barrier = threading.Barrier(count)
    results, errors = [], []
    lock = threading.Lock()

    def run(index):
        barrier.wait()
        try:
            result = func(index)
        except Exception as exc:
            with lock:
                errors.append(exc)
        else:
            with lock:
                results.append(result)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results, errors
