"""Shared tasks, backends and fixtures for the orchestration tests."""

import os
import threading

import fixtures
import testtools

from nova import orchestration as orc
from nova.orchestration.persistence import base as pbase
from nova.orchestration.persistence.sql import SQLBackend


class Ledger:
    """Records every execute/revert call and the resources they hold."""

    def __init__(self):
        self.lock = threading.Lock()
        self.calls = []  # (kind, name)
        self.held = {}  # name -> count of un-reverted executes

    def execute(self, name, value=None):
        with self.lock:
            self.calls.append(('execute', name))
            self.held[name] = self.held.get(name, 0) + 1

    def revert(self, name):
        with self.lock:
            self.calls.append(('revert', name))
            if self.held.get(name):
                self.held[name] -= 1
                if not self.held[name]:
                    del self.held[name]

    def count(self, kind, name):
        return sum(1 for k, n in self.calls if k == kind and n == name)

    def order(self, kind):
        return [n for k, n in self.calls if k == kind]


LEDGER = Ledger()


class Step(orc.Task):
    """Records to a ledger; idempotent steps hold a resource at most once."""

    def __init__(self, name, ledger=None, fail=False, provides=None, **kw):
        super().__init__(name=name, provides=provides, **kw)
        self.ledger = ledger if ledger is not None else LEDGER
        self.fail = fail

    def execute(self):
        if self.idempotent and self.ledger.held.get(self.name):
            self.ledger.calls.append(('execute', self.name))
        else:
            self.ledger.execute(self.name)
        if self.fail:
            raise RuntimeError('%s failed' % self.name)
        return self.name

    def revert(self, result, flow_failures, **kwargs):
        self.ledger.revert(self.name)


class IdemStep(Step):
    idempotent = True


class SimulatedCrash(BaseException):
    """The process 'died' right after a write committed."""


def expire_lease(backend, workflow_id):
    """Let the lease on ``workflow_id`` run out now (its owner is dead)."""
    backend = getattr(backend, 'inner', backend)
    if isinstance(backend, SQLBackend):
        from nova.orchestration.persistence import schema

        with backend.engine.begin() as conn:
            conn.execute(
                schema.workflows.update()
                .where(schema.workflows.c.id == workflow_id)
                .values(lease_expires_at=pbase.EXPIRED_LEASE)
            )
    else:
        backend._workflows[workflow_id]['lease_expires_at'] = (
            pbase.EXPIRED_LEASE
        )


class CrashingBackend:
    """Wraps a backend; raises SimulatedCrash after the Nth save commits.

    The crashed owner's lease is then made to run out at once, as it
    would some seconds later, so that another owner can resume.
    """

    def __init__(self, inner, crash_after=None):
        self.inner = inner
        self.crash_after = crash_after
        self.saves = 0

    def save(self, workflow_id, *args, **kwargs):
        self.inner.save(workflow_id, *args, **kwargs)
        self.saves += 1
        if self.crash_after is not None and self.saves == self.crash_after:
            expire_lease(self.inner, workflow_id)
            raise SimulatedCrash(self.saves)

    def __getattr__(self, name):
        return getattr(self.inner, name)


def make_backend(test, kind):
    """A fresh backend: 'memory', 'sqlite' (a file in a tempdir)."""
    if kind == 'memory':
        return orc.persistence.backend_from_url('memory://')
    path = test.useFixture(fixtures.TempDir()).path
    backend = orc.persistence.backend_from_url(
        'sqlite:///%s' % os.path.join(path, 'wf.sqlite')
    )
    backend.upgrade()
    test.addCleanup(backend.close)
    return backend


class BackendTestCase(testtools.TestCase):
    """Runs on memory and on a SQLite file (subclasses set backend_kind)."""

    backend_kind = 'memory'

    def setUp(self):
        super().setUp()
        self.backend = make_backend(self, self.backend_kind)
        self.ledger = Ledger()


def sql_backend_for(test, name):
    """An SQLBackend on a fresh database of ``name`` via the lead's fixture."""
    from nova.tests import db_fixture

    db = test.useFixture(db_fixture.OpportunisticDB(name))
    backend = SQLBackend.from_url(db.url)
    backend.upgrade()
    test.addCleanup(backend.close)
    return backend
