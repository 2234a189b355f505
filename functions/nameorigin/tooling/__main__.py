"""``python -m nameorigin.tooling`` = the ``nameorigin-batch`` command."""

import sys

from nameorigin.tooling.cli import main

sys.exit(main())
