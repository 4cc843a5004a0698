"""Container entry: ``python -m services.evaluator [--window-days N] [--end YYYY-MM-DD]``."""

import sys

from flightdelay.cli import main

sys.argv = ["flightdelay", "evaluate", *sys.argv[1:]]
main()
