"""Deleting servers in every state leaves nothing behind."""

from nova import exception
from nova.tests.functional import base


class TestDelete(base.FunctionalTestCase):

    def test_delete_active(self):
        server = self.boot()
        self.wait_for(server['uuid'], 'active')
        self.api.delete(self.context, server['uuid'])
        row = self.wait_for(server['uuid'], gone=True)
        self.wait_for_workflows(server['uuid'])
        self.assertEqual('deleted', row['vm_state'])
        self.assert_nothing_leaked(server['uuid'])
        self.assert_usage_matches_claims()
        self.assert_audit_clean()
        events = self.finished_action_events(server['uuid'], 'delete')
        self.assertTrue(events)
        self.assertEqual({'Success'}, {e['result'] for e in events})

    def test_delete_error(self):
        self.flags(group='fake_driver', spawn_failure_hosts=['host1'])
        server = self.boot()
        self.wait_for(server['uuid'], 'error')
        self.api.delete(self.context, server['uuid'])
        self.wait_for(server['uuid'], gone=True)
        self.assert_nothing_leaked(server['uuid'])

    def test_delete_while_building(self):
        self.flags(group='fake_driver', spawn_delay=1.0)
        server = self.boot()
        # Delete as soon as the build is under way.
        self.api.delete(self.context, server['uuid'])
        self.wait_for(server['uuid'], gone=True)
        self.wait_for_workflows(server['uuid'])
        self.assert_nothing_leaked(server['uuid'])
        self.assert_usage_matches_claims()
        states = {w['name']: w['state']
                  for w in self.workflows_of(server['uuid'])}
        self.assertEqual('SUCCESS', states['delete_instance'])
        self.assertIn(states['build_instance'], ('REVERTED', 'SUCCESS'))
        # The build's sentinel did not turn the deleted server to ERROR.
        self.assertEqual([], self.faults(server['uuid']))
        self.assert_audit_clean()

    def test_second_delete_is_a_noop(self):
        server = self.boot()
        self.wait_for(server['uuid'], 'active')
        self.api.delete(self.context, server['uuid'])
        try:
            self.api.delete(self.context, server['uuid'])
        except exception.InstanceNotFound:
            pass  # the first delete already finished: also fine
        self.wait_for(server['uuid'], gone=True)
        deletes = [w for w in self.workflows_of(server['uuid'])
                   if w['name'] == 'delete_instance']
        self.assertEqual(1, len(deletes))
