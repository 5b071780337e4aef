"""A spawn that outlives its step timeout leaves nothing on the host.

The spawn step times out while the host is still spawning; its revert
destroys the instance on the host. The destroy must win over the spawn
still in flight: the server is ERROR with nothing left behind, and no
guest appears once the spawn would have finished. Both spawn modes.
"""

import time

from nova.tests.functional import base

#: Seconds the fake hypervisor takes to spawn: well beyond the step's
#: timeout (1 s) plus the time a report-mode wait takes to expire.
SPAWN_DELAY = 8.0


class SpawnOutlivesItsStep(base.FunctionalTestCase):
    spawn_mode = 'call'

    def configure(self):
        self.flags(group='conductor', spawn_mode=self.spawn_mode)
        self.flags(group='conductor', spawn_timeout=1)
        self.flags(group='fake_driver', spawn_delay=SPAWN_DELAY)

    def test_timed_out_spawn_leaves_no_guest(self):
        started = time.monotonic()
        server = self.boot()
        self.wait_for(server['uuid'], 'error')
        self.wait_for_workflows(server['uuid'])
        # The revert did not wait for the whole spawn: it interrupted it.
        self.assertLess(time.monotonic() - started, SPAWN_DELAY)
        self.assertIsNone(self.instance_row(server['uuid'])['host'])
        self.assert_nothing_leaked(server['uuid'])
        # Past the moment the interrupted spawn would have booted.
        time.sleep(SPAWN_DELAY - (time.monotonic() - started) + 0.5)
        self.assert_nothing_leaked(server['uuid'])
        self.assertEqual(0, self.boots_of(server['uuid']))
        self.assert_usage_matches_claims()

        self.api.delete(self.context, server['uuid'])
        self.wait_for(server['uuid'], gone=True)
        self.wait_for_workflows(server['uuid'])
        self.assert_nothing_leaked(server['uuid'])
        self.assert_audit_clean()


class SpawnOutlivesItsStepReport(SpawnOutlivesItsStep):
    spawn_mode = 'report'
