"""A conductor that stops gracefully hands its workflows to another."""

import time

from nova.tests.functional import base


class TestGracefulStop(base.FunctionalTestCase):
    conductors = 2

    def configure(self):
        self.flags(group='fake_driver', spawn_delay=1.0)

    def test_stopped_conductor_hands_back_and_peer_finishes(self):
        servers = [self.boot(name='s%d' % i) for i in range(4)]
        # Stop whichever conductor runs builds (the in-process transport
        # may hand every cast to the same one).
        deadline = time.monotonic() + base.WAIT_TIMEOUT
        busy = []
        while not busy:
            busy = [c for c in self.stack.conductors if c.runner.active()]
            if time.monotonic() > deadline:
                self.fail('no conductor ever ran a workflow')
            time.sleep(0.02)
        first = busy[0]
        service = [s for s in self.stack.services if s.manager is first][0]
        service.stop()
        self.assertEqual(set(), first.runner.active())
        for server in servers:
            self.wait_for(server['uuid'], 'active')
            # ACTIVE comes with the last step, the owner's release with
            # the workflow's end, a commit later.
            self.wait_for_workflows(server['uuid'])
            self.assertEqual(1, self.boots_of(server['uuid']))
        rows = self.query('SELECT owner, generation FROM workflows')
        self.assertEqual({None}, {row['owner'] for row in rows})
        # At least one build was handed back and claimed again.
        self.assertGreaterEqual(max(row['generation'] for row in rows), 2)
        self.assert_audit_clean()
