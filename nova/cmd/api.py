"""nova-api: not implemented yet (see the project's issues)."""

import sys

from nova.cmd import _not_implemented


def main():
    sys.exit(_not_implemented.exit_not_implemented('nova-api'))
