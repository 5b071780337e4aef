"""Calls to compute hosts: a timeout from a down host is not retried."""

import datetime

import fixtures
import oslo_messaging as messaging
from oslo_utils import timeutils

from nova import context as nova_context
from nova import exception
from nova import test
from nova.conductor.workflows import compute_hosts
import nova.conf
from nova.db import services as services_db
from nova.tests import fixtures as nova_fixtures

CONF = nova.conf.CONF


class ComputeHostsTestCase(test.TestCase):
    def setUp(self):
        super().setUp()
        self.db = self.useFixture(nova_fixtures.Database())
        self.ctxt = nova_context.get_admin_context()
        services_db.register(self.ctxt, 'up', 'nova-compute', 'compute')
        services_db.register(self.ctxt, 'down', 'nova-compute', 'compute')
        # 'down' reported last long ago.
        later = timeutils.utcnow() + datetime.timedelta(
            seconds=CONF.service_down_time + 5
        )
        timeutils.set_time_override(later)
        self.addCleanup(timeutils.clear_time_override)
        services_db.report_alive(self.ctxt, self._id('up'))

    def _id(self, host):
        return services_db.get_all(self.ctxt, host=host)[0]['id']

    def timeout_on(self, host):
        with compute_hosts.calling(self.ctxt, host):
            raise messaging.MessagingTimeout('no reply')

    def test_a_timeout_from_a_down_host_is_a_host_failure(self):
        self.assertTrue(compute_hosts.is_down(self.ctxt, 'down'))
        self.assertRaises(exception.ComputeHostDown, self.timeout_on, 'down')

    def test_a_timeout_from_a_host_that_is_up_stays_a_timeout(self):
        # Maybe a reply lost in a broker restart: the step tries again.
        self.assertFalse(compute_hosts.is_down(self.ctxt, 'up'))
        self.assertRaises(messaging.MessagingTimeout, self.timeout_on, 'up')

    def test_an_unknown_host_is_not_down(self):
        self.assertFalse(compute_hosts.is_down(self.ctxt, 'nowhere'))

    def test_a_clean_up_on_a_down_host_is_left_to_it(self):
        calls = []
        logs = self.useFixture(fixtures.FakeLogger())
        self.assertFalse(
            compute_hosts.unless_down(
                self.ctxt, 'uuid-1', 'down', lambda: calls.append(1), 'destroy'
            )
        )
        self.assertEqual([], calls)
        self.assertIn('down; it will destroy itself', logs.output)

    def test_a_host_that_dies_during_a_clean_up_is_left_to_it(self):
        def dies():
            timeutils.advance_time_seconds(CONF.service_down_time + 5)
            raise messaging.MessagingTimeout('no reply')

        self.assertFalse(
            compute_hosts.unless_down(
                self.ctxt, 'uuid-1', 'up', dies, 'destroy'
            )
        )

    def test_a_clean_up_on_a_host_that_is_up_is_made(self):
        calls = []
        self.assertTrue(
            compute_hosts.unless_down(
                self.ctxt, 'uuid-1', 'up', lambda: calls.append(1), 'destroy'
            )
        )
        self.assertEqual([1], calls)
