"""Pins the public surface: a change to it must be deliberate."""

import inspect

import testtools

from nova import orchestration as orc


class PublicAPITest(testtools.TestCase):
    def test_all(self):
        self.assertEqual(
            sorted(
                [
                    'Aborted',
                    'Engine',
                    'EnginePolicy',
                    'Event',
                    'Failure',
                    'FlowChanged',
                    'GraphFlow',
                    'InvalidFlow',
                    'InvalidTransition',
                    'LinearFlow',
                    'MissingRequirement',
                    'NotSerializable',
                    'OrchestrationError',
                    'OwnershipLost',
                    'Pending',
                    'ResultTooLarge',
                    'Retry',
                    'SchemaMissing',
                    'Task',
                    'TaskTimeout',
                    'UnknownFactory',
                    'UnorderedFlow',
                    'WorkflowFailed',
                    'WorkflowNotFound',
                    'WrappedFailure',
                    'describe_workflow',
                    'flow_factory',
                    'persistence',
                    'request_abort',
                    'retry',
                    'states',
                ]
            ),
            sorted(orc.__all__),
        )
        for name in orc.__all__:
            self.assertTrue(hasattr(orc, name), name)

    def test_retry_module_names(self):
        for name in (
            'Times',
            'ForEach',
            'ParameterizedForEach',
            'RETRY',
            'REVERT',
            'REVERT_ALL',
            'Retry',
        ):
            self.assertTrue(hasattr(orc.retry, name), name)

    def test_signatures(self):
        # What library users call, keyword for keyword: a renamed or
        # reordered parameter breaks callers and must be deliberate.
        pinned = {
            orc.Engine: (
                '(flow, store=None, backend=None, *, policy=None, '
                'listeners=(), owner=None, secret=(), name=None, '
                'target=None, request_id=None, project_id=None, '
                'user_id=None, workflow_id=None, resumable=None)'
            ),
            orc.Engine.create: (
                '(flow, store=None, backend=None, connection=None, '
                'secret=(), name=None, target=None, request_id=None, '
                'project_id=None, user_id=None, workflow_id=None, '
                'result_size_limit=None, resumable=None)'
            ),
            orc.Engine.load: (
                '(workflow_id, backend, *, policy=None, owner=None, '
                'listeners=(), secrets=None)'
            ),
            orc.Engine.resume: '(workflow_id, backend, **kwargs)',
            orc.Engine.complete: (
                '(workflow_id, task_name, token, backend, result=None, '
                'failure=None, *, run=True, policy=None, owner=None, '
                'listeners=(), secrets=None)'
            ),
            orc.Engine.redo: (
                '(workflow_id, task_name, token, backend, *, run=True, '
                'policy=None, owner=None, listeners=(), secrets=None)'
            ),
            orc.Engine.waits_for: '(workflow_id, task_name, token, backend)',
            orc.Engine.waiting_tokens: '(workflow_id, backend)',
            orc.Engine.sweep: (
                '(backend, *, grace_seconds=60, limit=100, **kwargs)'
            ),
            orc.EnginePolicy: (
                "(lease_seconds=30, max_adoptions=None, "
                "result_size_limit=None, executor='threads', "
                "max_workers=None, clock=None, save_attempts=3, "
                "save_retry_delay=0.2)"
            ),
            orc.request_abort: '(workflow_id, backend, connection=None)',
            orc.persistence.backend_from_url: '(url, **opts)',
            orc.persistence.backend_from_engine: '(engine, **opts)',
        }
        for obj, signature in pinned.items():
            self.assertEqual(
                signature, str(inspect.signature(obj)), obj.__qualname__
            )

    def test_exceptions_documented(self):
        for name in orc.__all__:
            obj = getattr(orc, name)
            if isinstance(obj, type) and issubclass(obj, Exception):
                self.assertTrue(issubclass(obj, orc.OrchestrationError), name)
                self.assertTrue(obj.__doc__, name)
