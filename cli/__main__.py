"""``python -m cli``: the ``flightdelay`` command without the console script."""

from cli.main import main

main()
