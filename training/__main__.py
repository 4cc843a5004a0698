"""Container entry: ``python -m training`` trains on training/ and the fetched days, and stages the winner."""

import sys

from flightdelay.cli import main

sys.argv = ["flightdelay", "train", "--include-new", *sys.argv[1:]]
main()
