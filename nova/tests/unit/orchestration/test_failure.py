"""Failure as a value: capture, JSON round trip, re-raise."""

import json

import testtools

from nova import orchestration as orc


class CustomError(Exception):
    pass


def _capture(exc):
    try:
        raise exc
    except Exception:
        return orc.Failure()


class FailureTest(testtools.TestCase):
    def test_capture(self):
        f = _capture(CustomError('bad', 42))
        self.assertEqual(__name__ + '.CustomError', f.exc_type)
        self.assertEqual("('bad', 42)", f.message)
        self.assertEqual(['bad', 42], f.exc_args)
        self.assertIn('Traceback', f.traceback)
        self.assertIn('Exception', f.exc_type_names)

    def test_builtin_type_name(self):
        self.assertEqual('ValueError', _capture(ValueError('x')).exc_type)

    def test_round_trip_json(self):
        f = _capture(CustomError('bad'))
        g = orc.Failure.from_dict(json.loads(json.dumps(f.to_dict())))
        self.assertEqual(f, g)
        self.assertEqual(f.traceback, g.traceback)
        self.assertEqual(f.exc_args, g.exc_args)
        self.assertTrue(g.check(CustomError))
        self.assertTrue(g.check('Exception'))
        self.assertIsNone(g.check(KeyError))

    def test_unjsonable_args(self):
        f = _capture(CustomError(object()))
        self.assertIsNone(f.exc_args)
        json.dumps(f.to_dict())

    def test_reraise_original_in_memory(self):
        exc = CustomError('bad')
        f = _capture(exc)
        raised = self.assertRaises(CustomError, f.reraise)
        self.assertIs(exc, raised)

    def test_reraise_wrapped_after_round_trip(self):
        g = orc.Failure.from_dict(_capture(CustomError('bad')).to_dict())
        err = self.assertRaises(orc.WrappedFailure, g.reraise)
        self.assertIn('CustomError', str(err))
        self.assertIs(g, err.failure)

    def test_from_exception_unraised(self):
        f = orc.Failure.from_exception(KeyError('k'))
        self.assertEqual('KeyError', f.exc_type)

    def test_needs_exception(self):
        self.assertRaises(ValueError, orc.Failure)
