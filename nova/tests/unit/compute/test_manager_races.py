"""Operations of one instance on a host: one at a time, and a destroy
wins over spawns, over every interleaving of a spawn and a destroy.

The invariant is ComputeManager's docstring. The interleavings are made
deterministic with gates: a fake driver whose spawn stops before and
after it builds the guest, whose prepare_block_devices stops to keep a
spawn queued behind it, and a fencing check that stops, until the test
releases them. The fencing check never refuses here: it is a plain
read, so the worst case is that every call passes it.
"""

import itertools
import os
import threading
import time

import fixtures
from oslo_utils import uuidutils

from nova import exception
from nova.compute import completions
from nova.compute import manager as compute_manager
from nova.tests.unit.compute import base
from nova.tests.unit.compute import test_manager
from nova.virt import fake
from nova.virt import power_state

#: Seconds any wait of these tests may take before it counts as hung.
TIMEOUT = 10

#: Where the spawn stands when the destroy arrives.
BEFORE = 'destroy answered before the spawn arrived'
QUEUED = 'spawn waiting for its turn'
FENCING = 'spawn in its fencing check'
BOOTING = 'spawn in the driver, nothing built yet'
BOOTED = 'spawn in the driver, guest built'
AFTER = 'spawn answered before the destroy arrived'
POINTS = (BEFORE, QUEUED, FENCING, BOOTING, BOOTED, AFTER)
#: The points where the spawn is held until released (or interrupted).
HELD = {QUEUED: 'preparing', FENCING: 'fencing', BOOTING: 'booting'}
HELD[BOOTED] = 'booted'

#: The spawn's generation; the destroys' (workflow, generation).
SPAWN_GENERATION = 2
WORKFLOW = 'build'
DESTROYS = {
    'an older generation': (WORKFLOW, 1),
    'the same generation': (WORKFLOW, 2),
    'a newer generation': (WORKFLOW, 3),
    'another workflow': ('delete', 7),
    'no workflow': (None, None),
}


def wait_until(predicate, what):
    deadline = time.monotonic() + TIMEOUT
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError('timed out waiting until %s' % what)
        time.sleep(0.001)


class Gate:
    """A point where a call stops until the test releases it."""

    def __init__(self):
        self.reached = threading.Event()
        self.released = threading.Event()

    def hold(self, interrupt=None):
        """Stop here; True when ``interrupt`` was set before release."""
        self.reached.set()
        deadline = time.monotonic() + TIMEOUT
        while not self.released.wait(0.001):
            if interrupt is not None and interrupt.is_set():
                return True
            if time.monotonic() > deadline:
                raise AssertionError('gate never released')
        return False


class GatedDriver(fake.FakeDriver):
    """The fake driver, with gates the test holds its calls at.

    ``booting`` is in spawn before it builds anything, ``booted`` after
    the guest is built, ``preparing`` in prepare_block_devices. A
    cooperative driver gives up at a spawn gate when interrupted; the
    other ignores interrupts, like a driver that cannot stop a boot.
    """

    def __init__(self, host, cooperative):
        super().__init__(host)
        self.cooperative = cooperative
        self.gates = {}

    def hold_at(self, name):
        self.gates[name] = Gate()
        return self.gates[name]

    def _hold(self, name, interrupt=None):
        gate = self.gates.get(name)
        if gate is None:
            return False
        return gate.hold(interrupt if self.cooperative else None)

    def spawn(self, instance, interrupt=None, **kwargs):
        if self._hold('booting', interrupt):
            raise exception.InstanceDeployFailure(reason='interrupted')
        if not self.cooperative:
            interrupt = None
        info = super().spawn(instance, interrupt=interrupt, **kwargs)
        self._hold('booted', interrupt)
        return info

    def prepare_block_devices(self, instance, block_device_mappings):
        self._hold('preparing')
        return super().prepare_block_devices(instance, block_device_mappings)


class Call(threading.Thread):
    """A manager call on its own thread; its outcome once joined."""

    def __init__(self, func, *args, **kwargs):
        super().__init__(daemon=True)
        self._call = (func, args, kwargs)
        self.result = self.error = None

    def run(self):
        func, args, kwargs = self._call
        try:
            self.result = func(*args, **kwargs)
        except Exception as exc:
            self.error = exc

    def outcome(self):
        self.join(TIMEOUT)
        if self.is_alive():
            raise AssertionError('call still running after %ss' % TIMEOUT)
        return self.result, self.error


class RaceTestCase(base.DBTestCase):
    def setUp(self):
        super().setUp()
        self.fence_gate = None
        self.useFixture(
            fixtures.MonkeyPatch(
                'nova.compute.manager._check_fence', self._check_fence
            )
        )
        self.reports = []
        self.useFixture(
            fixtures.MonkeyPatch(
                'nova.conductor.rpcapi.ConductorAPI.report_completion',
                self._report_completion,
            )
        )

    def _report_completion(self, api, ctxt, *args, **kwargs):
        self.reports.append(kwargs)
        return completions.TAKEN

    def _check_fence(self, context, operation):
        if operation == 'spawn' and self.fence_gate is not None:
            self.fence_gate.hold()

    def make_manager(self, cooperative=True):
        self.fence_gate = None
        driver = GatedDriver('host1', cooperative)
        return compute_manager.ComputeManager('host1', driver), driver

    def new_instance(self):
        return {'uuid': uuidutils.generate_uuid(), 'flavor': {'root_gb': 1}}

    def has_guest(self, instance):
        return os.path.exists(fake.instance_path(instance['uuid']))

    def spawn(self, manager, instance, mode, generation=SPAWN_GENERATION):
        """Spawn in ``mode`` (call or report); return its outcome."""
        if mode == 'call':
            return manager.spawn(
                self.ctxt,
                instance,
                [],
                {},
                workflow_id=WORKFLOW,
                generation=generation,
            )
        del self.reports[:]
        manager.spawn_and_report(
            self.ctxt,
            instance,
            [],
            {},
            WORKFLOW,
            generation,
            'spawn',
            'token',
        )
        wait_until(lambda: self.reports, 'the spawn was reported')
        [report] = self.reports
        if report['failure'] is not None:
            raise exception.InstanceDeployFailure(
                reason=report['failure']['message']
            )
        return report['result']


class TestEveryInterleaving(RaceTestCase):
    """A spawn and a destroy of one instance, in every order."""

    def test_the_destroy_wins_in_every_interleaving(self):
        self.useFixture(
            fixtures.MonkeyPatch(
                'nova.compute.manager._destroy_wait', lambda: self.wait
            )
        )
        failures = []
        cases = 0
        for point, destroyer, cooperative, mode, late in itertools.product(
            POINTS, DESTROYS, (True, False), ('call', 'report'), (False, True)
        ):
            if late and point not in HELD:
                continue  # nothing is held: the destroy is never late
            case = '%s; destroy from %s; %s driver; %s mode%s' % (
                point,
                destroyer,
                'cooperative' if cooperative else 'uninterruptible',
                mode,
                '; destroy gave up waiting' if late else '',
            )
            cases += 1
            try:
                self._race(point, DESTROYS[destroyer], cooperative, mode, late)
            except AssertionError as exc:
                failures.append('%s: %s' % (case, exc))
        self.assertEqual(200, cases)
        self.assertEqual([], failures)

    def _race(self, point, destroy_by, cooperative, mode, late):
        workflow_id, generation = destroy_by
        # How long the destroy waits for its turn: a late one gives up
        # while the spawn is still held, the others never do.
        self.wait = 0.05 if late else TIMEOUT
        manager, driver = self.make_manager(cooperative)
        instance = self.new_instance()

        def destroy():
            manager.destroy(
                self.ctxt,
                instance,
                workflow_id=workflow_id,
                generation=generation,
            )

        if point == BEFORE:
            destroy()
            spawn = Call(self.spawn, manager, instance, mode)
            spawn.start()
        elif point == AFTER:
            spawn = Call(self.spawn, manager, instance, mode)
            spawn.start()
            spawn.outcome()
            destroy()
            assert not self.has_guest(instance), 'guest left by the destroy'
        else:
            gate = self._start_held_spawn(point, manager, driver, instance)
            spawn = Call(self.spawn, manager, instance, mode)
            spawn.start()
            self._wait_held(point, manager, instance, gate)
            destroying = Call(destroy)
            destroying.start()
            wait_until(
                lambda: (
                    'destroy' in manager._ops.queued(instance['uuid'])
                    or not destroying.is_alive()
                ),
                'the destroy arrived',
            )
            interruptible = cooperative and point in (BOOTING, BOOTED)
            if not interruptible and not late:
                gate.released.set()
            _, error = destroying.outcome()
            assert error is None, 'destroy failed: %r' % error
            if not late or interruptible:
                assert not self.has_guest(instance), (
                    'guest present when the destroy answered'
                )
            gate.released.set()

        info, error = spawn.outcome()
        if point == BEFORE:
            # Refused by the tombstone of its own workflow only.
            superseded = (
                workflow_id == WORKFLOW and SPAWN_GENERATION <= generation
            )
        else:
            superseded = point != AFTER
        if superseded:
            assert isinstance(error, exception.InstanceDeployFailure), (
                'spawn not refused: %r %r' % (info, error)
            )
            assert not self.has_guest(instance), 'guest leaked'
        else:
            assert error is None, 'spawn failed: %r' % error
            assert info['power_state'] == power_state.RUNNING, info
            assert self.has_guest(instance) == (point == BEFORE), (
                'guest present: %s' % self.has_guest(instance)
            )
        assert manager._ops.queues == {}, manager._ops.queues
        manager.driver.destroy(instance)

    def _start_held_spawn(self, point, manager, driver, instance):
        """Arrange for the next spawn to stop at ``point``; its gate."""
        if point == FENCING:
            self.fence_gate = Gate()
            return self.fence_gate
        gate = driver.hold_at(HELD[point])
        if point == QUEUED:
            Call(
                manager.prepare_block_devices,
                self.ctxt,
                instance,
                [],
                workflow_id=WORKFLOW,
                generation=SPAWN_GENERATION,
            ).start()
            self.assertTrue(gate.reached.wait(TIMEOUT))
        return gate

    def _wait_held(self, point, manager, instance, gate):
        if point == QUEUED:
            wait_until(
                lambda: (
                    manager._ops.queued(instance['uuid'])
                    == ['prepare_block_devices', 'spawn']
                ),
                'the spawn is queued',
            )
        else:
            assert gate.reached.wait(TIMEOUT), 'spawn never at ' + point


class TestOneAtATime(RaceTestCase):
    def test_an_operation_waits_for_the_spawn_ahead_of_it(self):
        manager, driver = self.make_manager(cooperative=False)
        instance, other = self.new_instance(), self.new_instance()
        gate = driver.hold_at('booting')
        spawn = Call(self.spawn, manager, instance, 'call')
        spawn.start()
        self.assertTrue(gate.reached.wait(TIMEOUT))
        power_off = Call(manager.power_off, self.ctxt, instance)
        power_off.start()
        wait_until(
            lambda: (
                manager._ops.queued(instance['uuid']) == ['spawn', 'power_off']
            ),
            'power_off is queued',
        )
        # Another instance is not held up. (Its spawn passes the gate
        # only once released: use power_off of an unknown instance.)
        self.assertRaises(
            exception.InstanceNotFound, manager.power_off, self.ctxt, other
        )
        gate.released.set()
        self.assertIsNone(spawn.outcome()[1])
        # Run before the spawn, it would have found no instance.
        info, error = power_off.outcome()
        self.assertIsNone(error)
        self.assertEqual(power_state.SHUTDOWN, info['power_state'])
        self.assertEqual({}, manager._ops.queues)

    def test_destroy_interrupts_the_fake_spawn_delay(self):
        self.flags(group='fake_driver', spawn_delay=30)
        manager = compute_manager.ComputeManager(
            'host1', fake.FakeDriver('host1')
        )
        instance = self.new_instance()
        spawn = Call(self.spawn, manager, instance, 'call')
        spawn.start()
        wait_until(
            lambda: manager._ops.queued(instance['uuid']) == ['spawn'],
            'the spawn is running',
        )
        started = time.monotonic()
        manager.destroy(self.ctxt, instance, WORKFLOW, SPAWN_GENERATION)
        self.assertLess(time.monotonic() - started, TIMEOUT / 2)
        _, error = spawn.outcome()
        self.assertIsInstance(error, exception.InstanceDeployFailure)
        self.assertIn('destroyed on host1 while it was spawning', str(error))
        self.assertFalse(self.has_guest(instance))

    def test_stale_spawn_that_passed_its_fencing_check(self):
        # The old owner's spawn read a current generation; then a new
        # owner adopted the workflow and reverted the step.
        manager, _ = self.make_manager()
        instance = self.new_instance()
        self.fence_gate = Gate()
        spawn = Call(self.spawn, manager, instance, 'call', generation=2)
        spawn.start()
        self.assertTrue(self.fence_gate.reached.wait(TIMEOUT))
        destroy = Call(manager.destroy, self.ctxt, instance, WORKFLOW, 3)
        destroy.start()
        wait_until(
            lambda: 'destroy' in manager._ops.queued(instance['uuid']),
            'the destroy arrived',
        )
        self.fence_gate.released.set()
        self.assertEqual((None, None), destroy.outcome())
        _, error = spawn.outcome()
        self.assertIn('before its spawn began', str(error))
        self.assertFalse(self.has_guest(instance))


class TestTombstones(RaceTestCase):
    def _prepare(self, manager, instance, generation):
        bdms = [
            {
                'boot_index': -1,
                'destination_type': 'local',
                'source_type': 'blank',
                'guest_format': 'swap',
                'device_name': '/dev/vdb',
                'volume_size': 1,
            }
        ]
        return manager.prepare_block_devices(
            self.ctxt,
            instance,
            bdms,
            workflow_id=WORKFLOW,
            generation=generation,
        )

    def test_block_devices_are_not_made_again_after_their_cleanup(self):
        manager, _ = self.make_manager()
        instance = self.new_instance()
        self._prepare(manager, instance, 2)
        self.assertTrue(self.has_guest(instance))
        manager.cleanup_block_devices(
            self.ctxt, instance, [], workflow_id=WORKFLOW, generation=2
        )
        self.assertFalse(self.has_guest(instance))
        exc = self.assertRaises(
            exception.InstanceDeployFailure,
            self._prepare,
            manager,
            instance,
            2,
        )
        self.assertIn('reverted before its prepare_block_devices', str(exc))
        self.assertFalse(self.has_guest(instance))
        # The new owner of the workflow prepares them again.
        self._prepare(manager, instance, 3)
        self.assertTrue(self.has_guest(instance))

    def test_tombstones_are_bounded_the_oldest_forgotten(self):
        self.useFixture(
            fixtures.MonkeyPatch('nova.compute.instance_queue.TOMBSTONES', 3)
        )
        manager, _ = self.make_manager()
        instances = [self.new_instance() for _ in range(5)]
        for instance in instances:
            manager.destroy(self.ctxt, instance, WORKFLOW, 2)
        self.assertEqual(3, len(manager._ops.tombstones))
        # The last destroys are remembered, the first forgotten.
        self.assertRaises(
            exception.InstanceDeployFailure,
            self.spawn,
            manager,
            instances[-1],
            'call',
        )
        self.assertFalse(self.has_guest(instances[-1]))
        self.spawn(manager, instances[0], 'call')
        self.assertTrue(self.has_guest(instances[0]))

    def test_a_newer_destroy_raises_the_tombstone(self):
        manager, _ = self.make_manager()
        instance = self.new_instance()
        manager.destroy(self.ctxt, instance, WORKFLOW, 3)
        manager.destroy(self.ctxt, instance, WORKFLOW, 1)
        for generation in (1, 2, 3):
            self.assertRaises(
                exception.InstanceDeployFailure,
                self.spawn,
                manager,
                instance,
                'report',
                generation,
            )
        self.assertFalse(self.has_guest(instance))
        self.spawn(manager, instance, 'report', 4)
        self.assertTrue(self.has_guest(instance))


class TestRealFencing(base.DBTestCase):
    """With the real check: a stale destroy supersedes nothing."""

    def test_stale_destroy_is_refused_and_interrupts_nothing(self):
        workflow_id = test_manager.add_workflow(self.db.engine, 3)
        driver = GatedDriver('host1', cooperative=True)
        manager = compute_manager.ComputeManager('host1', driver)
        instance = {'uuid': uuidutils.generate_uuid()}
        gate = driver.hold_at('booting')
        spawn = Call(
            manager.spawn, self.ctxt, instance, [], {}, workflow_id, 3
        )
        spawn.start()
        self.assertTrue(gate.reached.wait(TIMEOUT))
        self.assertRaises(
            exception.StaleWorkflowGeneration,
            manager.destroy,
            self.ctxt,
            instance,
            workflow_id,
            2,
        )
        gate.released.set()
        info, error = spawn.outcome()
        self.assertIsNone(error)
        self.assertEqual(power_state.RUNNING, info['power_state'])
