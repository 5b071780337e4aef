"""Base classes of nova's tests.

:class:`TestCase` gives every test its own configuration (a config
fixture), a temporary ``state_path``, the in-process RPC transport and
captured logging, so tests can run in parallel and in any order.
"""

import fixtures
from oslo_config import fixture as config_fixture
from oslotest import base

from nova import rpc
import nova.conf

CONF = nova.conf.CONF


class TestCase(base.BaseTestCase):
    """Base of every nova test."""

    def setUp(self):
        super().setUp()
        self.conf = self.useFixture(config_fixture.Config(CONF))
        self.state_path = self.useFixture(fixtures.TempDir()).path
        self.flags(state_path=self.state_path)
        # nova.rpc keeps one transport per process: start and end every
        # test without one, on the in-process transport by default, so a
        # transport made by an earlier test (say, to a real broker) never
        # leaks into the next.
        rpc.cleanup()
        self.addCleanup(rpc.cleanup)
        self.flags(transport_url=rpc.IN_PROCESS_URL)

    def flags(self, group=None, **kw):
        """Override configuration options for this test only."""
        for name, value in kw.items():
            self.conf.config(group=group, **{name: value})
