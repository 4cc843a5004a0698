"""Container entry: ``python -m services.fetcher [--date YYYY-MM-DD] [--airports JFK,LGA]``."""

import sys

from flightdelay.cli import main

sys.argv = ["flightdelay", "fetch", *sys.argv[1:]]
main()
