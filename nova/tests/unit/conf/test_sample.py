"""etc/nova/nova.conf.sample is generated, and must not go stale."""

import os
import subprocess
import sys
import tempfile

import testtools

ROOT = os.path.abspath(
    os.path.join(os.path.dirname(__file__), '..', '..', '..', '..')
)
GENERATOR_CONF = os.path.join(
    ROOT, 'etc', 'nova', 'nova-config-generator.conf'
)
SAMPLE = os.path.join(ROOT, 'etc', 'nova', 'nova.conf.sample')


class TestConfigSample(testtools.TestCase):
    def test_sample_is_current(self):
        with tempfile.TemporaryDirectory() as tmp:
            output = os.path.join(tmp, 'nova.conf.sample')
            subprocess.run(
                [
                    sys.executable,
                    '-m',
                    'oslo_config.generator',
                    '--config-file',
                    GENERATOR_CONF,
                    '--output-file',
                    output,
                ],
                check=True,
                cwd=ROOT,
                capture_output=True,
            )
            with open(output) as f:
                fresh = f.read()
        with open(SAMPLE) as f:
            committed = f.read()
        self.assertEqual(
            committed,
            fresh,
            'etc/nova/nova.conf.sample is stale: run "tox -e genconfig" '
            'and commit the result',
        )

    def test_every_option_has_help(self):
        from nova.conf import opts

        for group, group_opts in opts.list_opts():
            for opt in group_opts:
                self.assertTrue(
                    opt.help, '%s.%s has no help' % (group, opt.name)
                )
