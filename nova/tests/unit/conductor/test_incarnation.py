"""Owner names, proof of death and freeing what dead owners held."""

import os
import subprocess
import sys
from unittest import mock

import fixtures

from nova import orchestration as orc
from nova import test
from nova.conductor import incarnation

BOOT = '26c0e375-2dd6-40ba-a622-c42be6ffc9e7'
OTHER_BOOT = '0f7a3d6e-9c1b-4e2a-8d5f-3b6c7e8a9f01'


def owner(host='host1', boot=BOOT, pid=None, nonce='0123abcd'):
    return '%s:%s:%d:%s' % (
        host,
        boot,
        os.getpid() if pid is None else pid,
        nonce,
    )


class Processes(fixtures.Fixture):
    """A live child process and the pid of one that is gone."""

    def _setUp(self):
        self.live = subprocess.Popen(
            [sys.executable, '-c', 'import time; time.sleep(60)'],
            stdin=subprocess.DEVNULL,
        )
        self.addCleanup(self.live.wait)
        self.addCleanup(self.live.kill)
        gone = subprocess.Popen([sys.executable, '-c', 'pass'])
        gone.wait()  # reaped: its pid names no process any more
        self.gone_pid = gone.pid


class TestOwnerName(test.TestCase):
    def test_new_name_carries_host_boot_pid_nonce(self):
        name = incarnation.new_owner_name('host1')
        parsed = incarnation.parse_owner_name(name)
        self.assertEqual(
            ('host1', incarnation.boot_id(), os.getpid()), parsed[:3]
        )
        self.assertRegex(parsed.nonce, '^[0-9a-f]{8}$')
        self.assertEqual(name, str(parsed))
        self.assertTrue(name.startswith('host1:'))  # --owner / LIKE 'h:%'
        self.assertNotEqual(name, incarnation.new_owner_name('host1'))

    def test_host_with_colons_parses_from_the_right(self):
        name = owner(host='fe80::1:cond', pid=42)
        self.assertEqual(
            ('fe80::1:cond', BOOT, 42, '0123abcd'),
            tuple(incarnation.parse_owner_name(name)),
        )

    def test_without_boot_id(self):
        self.useFixture(
            fixtures.MockPatch(
                'nova.conductor.incarnation.boot_id', return_value=None
            )
        )
        name = incarnation.new_owner_name('host1')
        self.assertEqual('host1:-:%d:' % os.getpid(), name[:-8])
        self.assertIsNone(incarnation.parse_owner_name(name).boot_id)

    def test_long_host_fits_the_column_and_proves_nothing(self):
        name = incarnation.new_owner_name('h' * 300)
        self.assertEqual(incarnation.MAX_OWNER_LENGTH, len(name))
        parsed = incarnation.parse_owner_name(name)
        self.assertIsNone(parsed.boot_id)
        self.assertIsNone(incarnation.death_proof(name, parsed.host))
        # A name that fits keeps its boot id.
        name = incarnation.new_owner_name('h' * 200)
        self.assertEqual(
            incarnation.boot_id(), incarnation.parse_owner_name(name).boot_id
        )

    def test_other_forms_do_not_parse(self):
        for name in (
            None,
            42,
            '',
            'conductor-a',
            'host1:1234:abcdef',  # host:pid:nonce (old)
            'a:b:1234:abcdef12',  # old, colon in host
            owner(host=''),
            owner(boot='not-a-boot-id'),
            owner(boot=BOOT.upper()),
            owner(pid=0),
            'host1:%s:-5:0123abcd' % BOOT,
            'host1:%s:+5:0123abcd' % BOOT,
            'host1:%s:12345678901:0123abcd' % BOOT,
            owner(nonce='xyz'),
            owner(nonce='abc'),
            owner() + ':extra',
        ):
            self.assertIsNone(incarnation.parse_owner_name(name), name)

    def test_boot_id_of_this_kernel(self):
        if not os.path.exists(incarnation.BOOT_ID_PATH):
            self.skipTest('no %s here' % incarnation.BOOT_ID_PATH)
        with open(incarnation.BOOT_ID_PATH) as f:
            self.assertEqual(f.read().strip(), incarnation.boot_id())


class TestDeathProof(test.TestCase):
    def setUp(self):
        super().setUp()
        self.useFixture(
            fixtures.MockPatch(
                'nova.conductor.incarnation.boot_id', return_value=BOOT
            )
        )
        self.procs = self.useFixture(Processes())

    def proof(self, name, host='host1'):
        return incarnation.death_proof(name, host)

    def test_process_gone(self):
        reason = self.proof(owner(pid=self.procs.gone_pid))
        self.assertIn('process %d is gone' % self.procs.gone_pid, reason)

    def test_process_alive(self):
        # Our predecessor still running, or a new process with its pid:
        # either way the lease decides.
        self.assertIsNone(self.proof(owner(pid=self.procs.live.pid)))

    def test_process_of_another_user_is_alive(self):
        with mock.patch('os.kill', side_effect=PermissionError):
            self.assertIsNone(self.proof(owner(pid=self.procs.gone_pid)))

    def test_this_pid_but_not_a_live_runner(self):
        name = owner(nonce='feedbeef')
        self.assertIn('is this process', self.proof(name))
        incarnation.register(name)
        self.addCleanup(incarnation.unregister, name)
        self.assertIsNone(self.proof(name))
        # Another runner of this process (another nonce) is not it.
        self.assertIsNotNone(self.proof(owner(nonce='deadbeef')))
        incarnation.unregister(name)
        self.assertIsNotNone(self.proof(name))

    def test_other_host_or_boot_proves_nothing(self):
        gone = self.procs.gone_pid
        self.assertIsNone(self.proof(owner(host='host2', pid=gone)))
        self.assertIsNone(self.proof(owner(host='host1.example', pid=gone)))
        self.assertIsNone(self.proof(owner(boot=OTHER_BOOT, pid=gone)))
        self.assertIsNone(self.proof(owner(boot='-', pid=gone)))

    def test_without_boot_id_nothing_is_proven(self):
        self.useFixture(
            fixtures.MockPatch(
                'nova.conductor.incarnation.boot_id', return_value=None
            )
        )
        self.assertIsNone(self.proof(owner(boot='-', pid=self.procs.gone_pid)))
        self.assertIsNone(self.proof(owner(pid=self.procs.gone_pid)))

    def test_garbage_proves_nothing(self):
        for name in (
            'host1:%d:abcdef' % self.procs.gone_pid,
            'host1',
            'host1:%s:0:0123abcd' % BOOT,
            '',
        ):
            self.assertIsNone(self.proof(name), name)


class TestFreeDeadOwners(test.TestCase):
    """On the memory backend; the runner's tests use SQLite."""

    def setUp(self):
        super().setUp()
        self.useFixture(
            fixtures.MockPatch(
                'nova.conductor.incarnation.boot_id', return_value=BOOT
            )
        )
        self.procs = self.useFixture(Processes())
        self.backend = orc.persistence.MemoryBackend()
        self.n = 0

    def workflow(self, owner=None, state=None):
        self.n += 1
        row = {
            'id': 'wf-%d' % self.n,
            'name': 'w',
            'factory': 'f',
            'factory_version': 1,
            'state': orc.states.PENDING,
            'store': '{}',
            'target_type': 'instance',
            'target_id': 'i-%d' % self.n,
        }
        gen = self.backend.create_workflow(
            row, [('a', 0)], owner=owner, lease_seconds=30
        )
        if state is not None:
            self.backend.save(
                row['id'], gen, workflow={'state': state}, check_abort=False
            )
        return row['id']

    def test_frees_only_what_provably_dead_owners_hold(self):
        dead = owner(pid=self.procs.gone_pid)
        alive = owner(pid=self.procs.live.pid)
        elsewhere = owner(host='host2', pid=self.procs.gone_pid)
        freed = [self.workflow(dead), self.workflow(dead)]
        finished = self.workflow(dead, state=orc.states.SUCCESS)
        kept = [
            self.workflow(alive),
            self.workflow(elsewhere),
            self.workflow('host1:1:abcdef'),
        ]
        waiting = self.workflow(None)

        self.assertEqual(
            {dead: 2}, incarnation.free_dead_owners(self.backend, 'host1')
        )
        rows = {
            w: self.backend.get_workflow(w)
            for w in freed + kept + [finished, waiting]
        }
        for wid in freed:
            self.assertEqual(
                (None, 2, 1),
                (
                    rows[wid]['owner'],
                    rows[wid]['generation'],
                    rows[wid]['adoptions'],
                ),
            )
        # Adoptable at once, though their leases had 30 s left.
        self.assertEqual(set(freed), set(self.backend.find_adoptable(3600)))
        self.assertEqual(
            [alive, elsewhere, 'host1:1:abcdef'],
            [rows[w]['owner'] for w in kept],
        )
        self.assertEqual(dead, rows[finished]['owner'])
        self.assertEqual(
            (None, 0), (rows[waiting]['owner'], rows[waiting]['generation'])
        )
        # Nothing left to free: a second start frees nothing.
        self.assertEqual(
            {}, incarnation.free_dead_owners(self.backend, 'host1')
        )
