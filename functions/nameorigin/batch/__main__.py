"""``python -m nameorigin.batch`` = the ``nameorigin-batch`` command."""

import sys

from nameorigin.batch.cli import main

sys.exit(main())
