"""Container entry: ``python -m services.conditions [--at YYYY-MM-DDTHH:MM]`` (hourly)."""

from services.conditions.cli import main

main()
