"""Pins the public surface: a change to it must be deliberate."""

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

    def test_persistence_names(self):
        self.assertTrue(callable(orc.persistence.backend_from_url))
        self.assertTrue(callable(orc.persistence.backend_from_engine))

    def test_exceptions_documented(self):
        for name in orc.__all__:
            obj = getattr(orc, name)
            if isinstance(obj, type) and issubclass(obj, Exception):
                self.assertTrue(issubclass(obj, orc.OrchestrationError), name)
                self.assertTrue(obj.__doc__, name)
