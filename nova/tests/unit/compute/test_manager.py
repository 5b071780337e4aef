"""The compute manager: driver calls, fencing, capacity reports and
the service's stop."""

import functools
import os
import threading
import time

import fixtures
from oslo_db import exception as db_exc
from oslo_utils import uuidutils
import sqlalchemy as sa

from nova import exception
from nova import rpc
from nova import service
from nova.compute import manager as compute_manager
from nova.compute import rpcapi as compute_rpcapi
from nova.db import block_device as block_device_db
from nova.db import compute_nodes
from nova.db import fencing
from nova.tests.unit.compute import base
from nova.virt import fake
from nova.virt import power_state


def add_workflow(engine, generation):
    """A workflows row at ``generation``; returns its id."""
    workflow_id = uuidutils.generate_uuid()
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                'INSERT INTO workflows (id, name, state, generation, '
                'abort_requested, adoptions) VALUES (:id, :name, :state, '
                ':generation, :abort, 0)'
            ),
            {
                'id': workflow_id,
                'name': 'build_instance',
                'state': 'RUNNING',
                'generation': generation,
                'abort': False,
            },
        )
    return workflow_id


def set_generation(engine, workflow_id, generation):
    with engine.begin() as conn:
        conn.execute(
            sa.text('UPDATE workflows SET generation = :g WHERE id = :id'),
            {'g': generation, 'id': workflow_id},
        )


class ComputeManagerTestCase(base.DBTestCase):
    def setUp(self):
        super().setUp()
        self.flags(group='fake_driver', vcpus=4, memory_mb=2048, local_gb=30)
        self.manager = compute_manager.ComputeManager(
            'host1', fake.FakeDriver('host1')
        )
        self.instance = {
            'uuid': uuidutils.generate_uuid(),
            'flavor': {'root_gb': 1},
        }
        self.path = fake.instance_path(self.instance['uuid'])
        self.workflow_id = add_workflow(self.db.engine, 2)

    def _spawn(self, generation=2, workflow_id=None):
        return self.manager.spawn(
            self.ctxt,
            self.instance,
            [],
            {},
            workflow_id=workflow_id or self.workflow_id,
            generation=generation,
        )

    def test_spawn_with_current_generation(self):
        info = self._spawn()
        self.assertEqual(power_state.RUNNING, info['power_state'])
        self.assertTrue(os.path.isfile(os.path.join(self.path, 'disk')))

    def test_fencing_check_survives_a_dropped_connection(self):
        # Found by test_db_outages: the check's read failed once when the
        # database killed the session, and the spawn failed with it,
        # reverting a healthy build.
        real = fencing.check
        calls = []

        def check(*args, **kwargs):
            calls.append(1)
            if len(calls) == 1:
                raise db_exc.DBConnectionError('session killed')
            return real(*args, **kwargs)

        self.useFixture(
            fixtures.MonkeyPatch('nova.compute.manager.fencing.check', check)
        )
        info = self._spawn()
        self.assertEqual(power_state.RUNNING, info['power_state'])
        self.assertEqual(2, len(calls))

    def test_stale_generation_is_refused_before_acting(self):
        set_generation(self.db.engine, self.workflow_id, 3)
        exc = self.assertRaises(exception.StaleWorkflowGeneration, self._spawn)
        self.assertIn(self.workflow_id, str(exc))
        self.assertFalse(os.path.exists(self.path))

    def test_every_fenced_operation_refuses_stale_generation(self):
        self._spawn()
        set_generation(self.db.engine, self.workflow_id, 5)
        calls = [
            lambda **kw: self.manager.destroy(self.ctxt, self.instance, **kw),
            lambda **kw: self.manager.prepare_block_devices(
                self.ctxt, self.instance, [], **kw
            ),
            lambda **kw: self.manager.cleanup_block_devices(
                self.ctxt, self.instance, [], **kw
            ),
            lambda **kw: self.manager.power_off(
                self.ctxt, self.instance, **kw
            ),
            lambda **kw: self.manager.power_on(self.ctxt, self.instance, **kw),
        ] + [
            functools.partial(
                self.manager.power_action, self.ctxt, self.instance, action
            )
            for action in compute_manager.POWER_ACTIONS
        ]
        for call in calls:
            self.assertRaises(
                exception.StaleWorkflowGeneration,
                call,
                workflow_id=self.workflow_id,
                generation=4,
            )
        self.assertTrue(os.path.isfile(os.path.join(self.path, 'disk')))
        self.assertEqual(
            power_state.RUNNING,
            self.manager.get_info(self.ctxt, self.instance['uuid'])[
                'power_state'
            ],
        )

    def test_power_actions(self):
        self._spawn()
        for action, expected in (
            ('stop', power_state.SHUTDOWN),
            ('stop', power_state.SHUTDOWN),  # idempotent
            ('start', power_state.RUNNING),
            ('pause', power_state.PAUSED),
            ('pause', power_state.PAUSED),
            ('unpause', power_state.RUNNING),
            ('suspend', power_state.SUSPENDED),
            ('resume', power_state.RUNNING),
            ('reboot_soft', power_state.RUNNING),
            ('stop', power_state.SHUTDOWN),
            ('reboot_hard', power_state.RUNNING),
        ):
            info = self.manager.power_action(
                self.ctxt,
                self.instance,
                action,
                workflow_id=self.workflow_id,
                generation=2,
            )
            self.assertEqual(expected, info['power_state'], action)

    def test_power_actions_the_guest_cannot_take_are_refused(self):
        self._spawn()
        self.manager.power_action(self.ctxt, self.instance, 'stop')
        for action in ('pause', 'suspend', 'unpause', 'resume', 'reboot_soft'):
            self.assertRaises(
                exception.Invalid,
                self.manager.power_action,
                self.ctxt,
                self.instance,
                action,
            )
        self.assertRaises(
            exception.Invalid,
            self.manager.power_action,
            self.ctxt,
            self.instance,
            'explode',
        )
        self.assertEqual(
            power_state.SHUTDOWN,
            self.manager.get_info(self.ctxt, self.instance['uuid'])[
                'power_state'
            ],
        )

    def test_missing_workflow_is_refused(self):
        self.assertRaises(
            exception.StaleWorkflowGeneration,
            self._spawn,
            workflow_id=uuidutils.generate_uuid(),
        )
        self.assertFalse(os.path.exists(self.path))

    def test_operations_without_workflow_are_not_fenced(self):
        self.manager.spawn(self.ctxt, self.instance, [], {})
        self.manager.power_off(self.ctxt, self.instance)
        self.assertEqual(
            power_state.SHUTDOWN,
            self.manager.get_info(self.ctxt, self.instance['uuid'])[
                'power_state'
            ],
        )
        self.manager.destroy(self.ctxt, self.instance)
        self.assertFalse(os.path.exists(self.path))

    def test_destroy_is_idempotent(self):
        self._spawn()
        for _ in range(2):
            self.manager.destroy(
                self.ctxt,
                self.instance,
                workflow_id=self.workflow_id,
                generation=2,
            )
        self.assertFalse(os.path.exists(self.path))
        self.assertRaises(
            exception.InstanceNotFound,
            self.manager.get_info,
            self.ctxt,
            self.instance['uuid'],
        )

    def test_spawn_failure_host(self):
        self.flags(group='fake_driver', spawn_failure_hosts=['host1'])
        self.assertRaises(exception.InstanceDeployFailure, self._spawn)
        self.assertFalse(os.path.exists(self.path))

    def test_unexpected_driver_error_becomes_deploy_failure(self):
        def broken(*args, **kwargs):
            raise OSError('disk full')

        self.manager.driver.spawn = broken
        exc = self.assertRaises(exception.InstanceDeployFailure, self._spawn)
        self.assertIn('disk full', str(exc))

    def test_block_devices(self):
        bdms = block_device_db.create_defaults_for_instance(
            self.ctxt,
            self.instance,
            {'root_gb': 1, 'ephemeral_gb': 1, 'swap': 256},
            'image',
        )
        info = self.manager.prepare_block_devices(
            self.ctxt,
            self.instance,
            bdms,
            workflow_id=self.workflow_id,
            generation=2,
        )
        self.assertEqual('/dev/vdb', info['ephemerals'][0]['device_name'])
        self.assertEqual('/dev/vdc', info['swap']['device_name'])
        self.assertTrue(os.path.isfile(os.path.join(self.path, 'disk.swap')))
        self.assertEqual(
            {'host1'},
            {
                bdm['host']
                for bdm in block_device_db.get_by_instance(
                    self.ctxt, self.instance['uuid']
                )
            },
        )
        self.manager.cleanup_block_devices(
            self.ctxt,
            self.instance,
            bdms,
            workflow_id=self.workflow_id,
            generation=2,
        )
        self.assertFalse(os.path.exists(self.path))

    def test_init_host_reports_capacity(self):
        self.manager.init_host()
        node = compute_nodes.get_by_host(self.ctxt, 'host1')
        self.assertEqual(
            (4, 2048, 30, 'fake', 'host1'),
            (
                node['vcpus'],
                node['memory_mb'],
                node['local_gb'],
                node['hypervisor_type'],
                node['hypervisor_hostname'],
            ),
        )

    def test_periodic_report_updates_totals_only(self):
        self.manager.init_host()
        node = compute_nodes.get_by_host(self.ctxt, 'host1')
        with self.db.engine.begin() as conn:
            conn.execute(
                sa.text(
                    'UPDATE compute_nodes SET vcpus_used = 3 WHERE id = :id'
                ),
                {'id': node['id']},
            )
        self.flags(group='fake_driver', vcpus=16)
        self.flags(cpu_allocation_ratio=2.0)
        report, _reap = self.manager.periodic_tasks()
        report()
        node = compute_nodes.get_by_host(self.ctxt, 'host1')
        self.assertEqual(
            (16, 3, 2.0),
            (node['vcpus'], node['vcpus_used'], node['cpu_allocation_ratio']),
        )
        self.assertEqual(1, len(compute_nodes.get_all(self.ctxt)))

    def test_a_guest_no_claim_holds_is_reaped(self):
        # Left by a build reverted while this host was down: the revert
        # could not destroy it, and released the claim.
        self._spawn()
        kept = dict(self.instance, uuid=uuidutils.generate_uuid())
        self.manager.spawn(self.ctxt, kept, [], {})
        self.useFixture(
            fixtures.MonkeyPatch(
                'nova.compute.claims.get_claims',
                lambda ctxt, instance_uuid, host: (
                    [{'host': host}] if instance_uuid == kept['uuid'] else []
                ),
            )
        )
        self.assertEqual(
            [self.instance['uuid']], self.manager.reap_orphans(self.ctxt)
        )
        self.assertFalse(os.path.exists(self.path))
        self.assertEqual([kept['uuid']], self.manager.driver.list_instances())

    def test_start_reaps_and_tells_the_conductors(self):
        started = []
        self.useFixture(
            fixtures.MonkeyPatch(
                'nova.conductor.rpcapi.ConductorAPI.compute_host_started',
                lambda api, ctxt, host: started.append(host),
            )
        )
        self._spawn()  # no claim holds it
        self.manager.init_host()
        self.assertFalse(os.path.exists(self.path))
        self.assertEqual(['host1'], started)

    def test_the_callers_context_is_not_left_fenced(self):
        self._spawn()
        set_generation(self.db.engine, self.workflow_id, 3)
        # Another write with the same context, for no workflow: allowed.
        bdms = block_device_db.create_defaults_for_instance(
            self.ctxt, self.instance, {'root_gb': 1}, 'image'
        )
        self.assertEqual(1, len(bdms))


class CountingDriver(fake.FakeDriver):
    """A fake driver that counts its cleanups and tells when a spawn
    has started."""

    def __init__(self, host):
        super().__init__(host)
        self.cleanups = 0
        self.spawning = threading.Event()

    def cleanup_host(self):
        self.cleanups += 1
        super().cleanup_host()

    def spawn(self, instance, **kwargs):
        self.spawning.set()
        return super().spawn(instance, **kwargs)


class ComputeServiceStopTestCase(base.DBTestCase):
    """nova-compute's stop, as nova.service.Service drives the manager."""

    def setUp(self):
        super().setUp()
        self.flags(transport_url=rpc.IN_PROCESS_URL)
        self.addCleanup(rpc.cleanup)
        self.driver = CountingDriver('host1')
        self.service = service.Service(
            'nova-compute',
            'compute',
            compute_manager.ComputeManager('host1', self.driver),
            host='host1',
        )
        self.service.start()
        self.addCleanup(self.service.stop)

    def test_driver_cleanup_runs_once_per_stop(self):
        self.service.stop()
        self.assertEqual(1, self.driver.cleanups)
        self.service.stop()
        self.assertEqual(1, self.driver.cleanups)

    def test_stop_interrupts_a_spawn_instead_of_waiting_for_it(self):
        self.flags(group='fake_driver', spawn_delay=60)
        instance = {'uuid': uuidutils.generate_uuid()}
        workflow_id = add_workflow(self.db.engine, 1)
        outcome = []

        def spawn():
            try:
                compute_rpcapi.ComputeAPI().spawn(
                    self.ctxt, 'host1', instance, [], {}, workflow_id, 1
                )
            except exception.InstanceDeployFailure as exc:
                outcome.append(exc)

        thread = threading.Thread(target=spawn)
        thread.start()
        self.assertTrue(self.driver.spawning.wait(10))
        started = time.monotonic()
        self.service.stop()
        thread.join(10)
        self.assertLess(time.monotonic() - started, 10)
        self.assertEqual(1, len(outcome))
        self.assertIn('stopping', str(outcome[0]))
        self.assertFalse(os.path.exists(fake.instance_path(instance['uuid'])))
