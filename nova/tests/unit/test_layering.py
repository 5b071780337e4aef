"""The layering rules of doc/source/architecture.rst, checked on the code.

Imports are read from the syntax tree of every module, so none escapes:
``from nova import conf``, relative imports (``from .. import conf``)
and imports inside functions count as much as a module-level
``import nova.conf``. One test per rule; a failure names each offending
file, line and import.
"""

import ast
import pathlib

import testtools

import nova

NOVA_DIR = pathlib.Path(nova.__file__).resolve().parent
SOURCE_ROOT = NOVA_DIR.parent

#: The services and what runs them: the bottom layers never reach up.
SERVICE_PACKAGES = (
    'nova.api',
    'nova.cmd',
    'nova.compute',
    'nova.conductor',
    'nova.network',
    'nova.scheduler',
    'nova.service',
    'nova.embedded',
)


def module_name(path):
    """The dotted module name of a source file under SOURCE_ROOT."""
    parts = list(path.resolve().relative_to(SOURCE_ROOT).with_suffix('').parts)
    if parts[-1] == '__init__':
        parts.pop()
    return '.'.join(parts)


def imported_names(source, module, is_package=False):
    """``(line, dotted name, statement)`` of every import in ``source``.

    ``module`` is the dotted name of the module ``source`` is, used to
    resolve relative imports. ``from a.b import c`` gives ``a.b.c``
    (which may name an attribute rather than a module: a rule on the
    prefix ``a.b`` still applies); ``from a.b import *`` gives ``a.b``.
    """
    package = module if is_package else module.rpartition('.')[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, ast.unparse(node)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ''
            if node.level:
                parts = package.split('.')
                anchor = parts[: len(parts) - (node.level - 1)]
                base = '.'.join(anchor + ([base] if base else []))
            for alias in node.names:
                name = (
                    base if alias.name == '*' else '%s.%s' % (base, alias.name)
                )
                yield node.lineno, name, ast.unparse(node)


def _within(name, prefix):
    return name == prefix or name.startswith(prefix + '.')


class Rule:
    """``sources`` (paths under nova/'s parent) import none of
    ``forbidden`` (dotted prefixes) unless under one of ``allowed``.
    """

    def __init__(self, summary, sources, forbidden, allowed=()):
        self.summary = summary
        self.sources = sources
        self.forbidden = forbidden
        self.allowed = allowed

    def violations_in(self, source, module, path, is_package=False):
        """One message per forbidden import of ``source``."""
        return [
            '%s:%d: %s (imports %s; rule: %s)'
            % (path, line, statement, name, self.summary)
            for line, name, statement in imported_names(
                source, module, is_package
            )
            if any(_within(name, f) for f in self.forbidden)
            and not any(_within(name, a) for a in self.allowed)
        ]

    def files(self):
        for source in self.sources:
            path = SOURCE_ROOT / source
            yield from sorted(path.rglob('*.py')) if path.is_dir() else [path]

    def violations(self):
        """Messages for the whole tree covered by the rule."""
        found = []
        for path in self.files():
            found += self.violations_in(
                path.read_text(),
                module_name(path),
                path.relative_to(SOURCE_ROOT),
                is_package=path.name == '__init__.py',
            )
        return found


ORCHESTRATION = Rule(
    'nova/orchestration imports nothing else from nova',
    ['nova/orchestration'],
    forbidden=['nova'],
    allowed=['nova.orchestration'],
)

API = Rule(
    'the API imports neither nova.virt nor nova.scheduler, and reaches '
    'the conductor through nova.conductor.api only',
    ['nova/api', 'nova/compute/api.py'],
    forbidden=['nova.virt', 'nova.scheduler', 'nova.conductor'],
    allowed=['nova.conductor.api'],
)

BOTTOM_LAYERS = Rule(
    'nova/db and nova/virt import no service package (%s)'
    % ', '.join(SERVICE_PACKAGES),
    ['nova/db', 'nova/virt'],
    forbidden=SERVICE_PACKAGES,
)


class LayeringTest(testtools.TestCase):
    """One test per rule of architecture.rst's "Layering"."""

    def assertFollows(self, rule):
        self.assertTrue(
            list(rule.files()), 'no file under %s' % (rule.sources,)
        )
        violations = rule.violations()
        self.assertEqual([], violations, '\n'.join(violations))

    def test_orchestration_imports_no_other_nova_package(self):
        self.assertFollows(ORCHESTRATION)

    def test_api_imports_no_virt_scheduler_nor_conductor_internals(self):
        self.assertFollows(API)

    def test_db_and_virt_import_no_service_package(self):
        self.assertFollows(BOTTOM_LAYERS)


class CheckerTest(testtools.TestCase):
    """The checker catches every form of import (fed source strings)."""

    def check(self, rule, source, module, is_package=False):
        return rule.violations_in(source, module, 'x.py', is_package)

    def test_from_nova_import_a_package(self):
        self.assertEqual(
            [
                'x.py:2: from nova import conf (imports nova.conf; rule: %s)'
                % ORCHESTRATION.summary
            ],
            self.check(
                ORCHESTRATION,
                'import os\nfrom nova import conf\n',
                'nova.orchestration.flow',
            ),
        )

    def test_from_nova_import_exception(self):
        self.assertEqual(
            1,
            len(
                self.check(
                    ORCHESTRATION,
                    'from nova import exception\n',
                    'nova.orchestration.flow',
                )
            ),
        )

    def test_dotted_import(self):
        [message] = self.check(
            API,
            'import nova.virt.fake\n',
            'nova.api.openstack.compute.servers',
        )
        self.assertIn('x.py:1: import nova.virt.fake', message)

    def test_relative_imports(self):
        # nova/orchestration/engine/_engine.py: '...' is nova.
        [message] = self.check(
            ORCHESTRATION,
            'from ... import conf\n',
            'nova.orchestration.engine._engine',
        )
        self.assertIn(
            'x.py:1: from ... import conf (imports nova.conf;', message
        )
        # In a package's __init__, '.' is the package itself.
        [message] = self.check(
            API,
            'from ..scheduler import rpcapi\n',
            'nova.compute',
            is_package=True,
        )
        self.assertIn('(imports nova.scheduler.rpcapi;', message)

    def test_function_local_import(self):
        source = (
            'def create():\n'
            '    if True:\n'
            '        from nova.conductor.workflows import '
            'build_instance\n'
        )
        [message] = self.check(API, source, 'nova.compute.api')
        self.assertIn(
            'x.py:3: from nova.conductor.workflows import build_instance '
            '(imports nova.conductor.workflows.build_instance;',
            message,
        )

    def test_allowed_imports(self):
        self.assertEqual(
            [],
            self.check(
                ORCHESTRATION,
                'from nova import orchestration\n'
                'from nova.orchestration import states\n'
                'from . import task\n'
                'from .engine import _engine\n'
                'import nova.orchestration.retry\n',
                'nova.orchestration.flow',
            ),
        )
        self.assertEqual(
            [],
            self.check(
                API,
                'from nova.conductor import api\n'
                'from nova.conductor.api import ComputeTaskAPI\n'
                'from nova.virtual import nothing\n',
                'nova.compute.api',
            ),
        )
        self.assertEqual(
            1,
            len(
                self.check(
                    API, 'from nova import conductor\n', 'nova.compute.api'
                )
            ),
        )

    def test_module_names_of_files(self):
        self.assertEqual(
            'nova.compute.api', module_name(NOVA_DIR / 'compute' / 'api.py')
        )
        self.assertEqual(
            'nova.orchestration',
            module_name(NOVA_DIR / 'orchestration' / '__init__.py'),
        )
