"""nova's binaries run on native threads and never import eventlet.

Each test runs a fresh interpreter: whether eventlet gets imported is
decided by the first imports of a process, which this test process made
long ago.
"""

import configparser
import json
import os
import subprocess
import sys
import textwrap

from nova import test

_SETUP_CFG = os.path.join(
    os.path.dirname(__file__),
    os.pardir,
    os.pardir,
    os.pardir,
    os.pardir,
    'setup.cfg',
)


def _entry_point_modules():
    """The modules of nova's console scripts, as setup.cfg declares them."""
    parser = configparser.ConfigParser()
    parser.read(_SETUP_CFG)
    scripts = parser['entry_points']['console_scripts']
    return sorted(
        {
            line.split('=')[1].split(':')[0].strip()
            for line in scripts.strip().splitlines()
        }
    )


def _python(*args, **kwargs):
    # Without PYTHONWARNINGS: the warning filters an operator has.
    env = kwargs.pop('env', None) or {
        k: v for k, v in os.environ.items() if k != 'PYTHONWARNINGS'
    }
    return subprocess.run(
        [sys.executable] + list(args),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        **kwargs,
    )


class NoEventletTest(test.TestCase):
    def test_nova_manage_prints_nothing_on_stderr(self):
        # eventlet, once imported, prints its deprecation warning on
        # stderr: an operator saw it on every nova-manage call.
        conf = os.path.join(self.state_path, 'nova.conf')
        with open(conf, 'w') as f:
            f.write(
                '[DEFAULT]\nstate_path = %s\n[database]\n'
                'connection = sqlite:///%s/nova.sqlite\n'
                % (self.state_path, self.state_path)
            )
        result = _python(
            '-m',
            'nova.cmd.manage',
            '--config-file',
            conf,
            'db',
            'version',
            cwd=self.state_path,
        )
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertEqual('None\n', result.stdout)
        self.assertEqual('', result.stderr)

    def test_entry_points_leave_eventlet_out(self):
        modules = _entry_point_modules()
        self.assertIn('nova.cmd.manage', modules)
        result = _python(
            '-c',
            textwrap.dedent('''
            import importlib, json, sys
            for name in sys.argv[1:]:
                importlib.import_module(name)
            from oslo_service import backend
            print(json.dumps({
                'eventlet': sorted(
                    name for name, module in sys.modules.items()
                    if module is not None
                    and name.split('.')[0] == 'eventlet'),
                'backend': backend.get_backend_type().value,
            }))
            '''),
            *modules,
        )
        self.assertEqual(0, result.returncode, result.stderr)
        loaded = json.loads(result.stdout)
        self.assertEqual([], loaded['eventlet'])
        self.assertEqual('threading', loaded['backend'])

    def test_wsgi_application_leaves_eventlet_out(self):
        # uWSGI and mod_wsgi import this module, not a nova.cmd one.
        with open(os.path.join(self.state_path, 'nova.conf'), 'w') as f:
            f.write(
                '[DEFAULT]\nstate_path = %s\n[database]\n'
                'connection = sqlite:///%s/nova.sqlite\n'
                % (self.state_path, self.state_path)
            )
        result = _python(
            '-c',
            textwrap.dedent('''
            import sys
            from nova.api.openstack.compute import wsgi
            assert callable(wsgi.application)
            print(sorted(name for name, module in sys.modules.items()
                         if module is not None
                         and name.split('.')[0] == 'eventlet'))
            '''),
            env=dict(
                {k: v for k, v in os.environ.items() if k != 'PYTHONWARNINGS'},
                OS_NOVA_CONFIG_DIR=self.state_path,
            ),
        )
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertEqual('[]\n', result.stdout)
        self.assertEqual('', result.stderr)

    def test_eventlet_imported_first_is_left_usable(self):
        # A process that chose eventlet before importing nova.cmd (a test
        # runner covering the orchestration's green executor) keeps it.
        result = _python(
            '-c',
            textwrap.dedent('''
            import eventlet
            import nova.cmd.manage
            import futurist
            with futurist.GreenThreadPoolExecutor(max_workers=2) as ex:
                print(ex.submit(lambda: eventlet.sleep(0) or 'green').result())
            '''),
        )
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertEqual('green\n', result.stdout)
