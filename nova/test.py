"""Base classes of nova's tests.

:class:`TestCase` gives every test its own configuration (a config
fixture), a temporary ``state_path`` and captured logging, so tests can
run in parallel and in any order.
"""

import fixtures
from oslo_config import fixture as config_fixture
from oslotest import base

import nova.conf

CONF = nova.conf.CONF


class TestCase(base.BaseTestCase):
    """Base of every nova test."""

    def setUp(self):
        super().setUp()
        self.conf = self.useFixture(config_fixture.Config(CONF))
        self.state_path = self.useFixture(fixtures.TempDir()).path
        self.flags(state_path=self.state_path)

    def flags(self, group=None, **kw):
        """Override configuration options for this test only."""
        for name, value in kw.items():
            self.conf.config(group=group, **{name: value})
