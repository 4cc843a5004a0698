"""Container entry: ``python -m services.api`` (host, port and workers from FLIGHTDELAY_API_*)."""

from services.api.cli import main

main()
