"""Container entry: ``python -m services.fetcher [--date YYYY-MM-DD] [--airports JFK,LGA]``."""

from services.fetcher.cli import main

main()
