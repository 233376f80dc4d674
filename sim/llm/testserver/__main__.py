"""``python -m sim.llm.testserver``: see :func:`sim.llm.testserver.cli.main`."""

import sys

from sim.llm.testserver.cli import main

sys.exit(main())
