"""``python -m nova.tests.unit.orchestration.simulation --help``."""

import sys

from nova.tests.unit.orchestration.simulation import explorer

sys.exit(explorer.main())
