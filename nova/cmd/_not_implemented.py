"""Entry point of services whose implementation has not landed yet."""

import sys


def exit_not_implemented(binary):
    sys.stderr.write('%s: not implemented yet; run nova-all for the '
                     'embedded deployment once it lands.\n' % binary)
    return 2
