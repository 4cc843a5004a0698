"""The fetcher's command: ``flightdelay fetch``, and ``python -m services.fetcher`` in its container."""

from __future__ import annotations

from datetime import date, timedelta
from functools import partial
from typing import Annotated

import typer

from flightdelay import entry
from flightdelay.storage import open_store

app = typer.Typer(pretty_exceptions_enable=False, add_completion=False, rich_markup_mode=None)
parse_day = partial(entry.parse_day, error=typer.BadParameter)


@app.command()
def fetch(
    day: Annotated[
        date | None,
        typer.Option(
            "--date", parser=parse_day, metavar="YYYY-MM-DD", help="day to fetch (default: yesterday, UTC)"
        ),
    ] = None,
    start: Annotated[
        date | None,
        typer.Option(
            parser=parse_day,
            metavar="YYYY-MM-DD",
            help="first day of a range to fetch, one day after another",
        ),
    ] = None,
    end: Annotated[
        date | None,
        typer.Option(parser=parse_day, metavar="YYYY-MM-DD", help="last day of the range (with --start)"),
    ] = None,
    airports: Annotated[str | None, typer.Option(help="comma-separated departure airports (IATA)")] = None,
    force: Annotated[
        bool, typer.Option(help="replace a day's clean partition even with an empty or mostly rejected day")
    ] = False,
) -> None:
    """Pull a day (or --start..--end, a day at a time) of flights from Aviation Stack into new/
    (raw pages, clean partition, run summary)."""
    if (start is None) != (end is None) or (start is not None and day is not None):
        raise typer.BadParameter("give --date, or both --start and --end")
    if start is not None and end is not None and start > end:
        raise typer.BadParameter("--start is after --end")
    from services.fetcher.fetch import known_airports, run_fetch  # the heavy part, when it runs

    # Before anything starts: a wrong code is one line and exit 2 (entry.run), as a wrong setting is.
    codes = known_airports(airports) if airports is not None else None
    settings = entry.start()
    data = open_store(settings.data_url, region=settings.aws_region)
    days: list[date | None] = (
        [start + timedelta(days=i) for i in range((end - start).days + 1)]
        if start is not None and end is not None
        else [day]
    )
    summaries = []
    for one in days:
        summary = run_fetch(settings, data, one, codes, force=force)
        entry.note(
            f"Fetched {summary['date']}: {summary['kept']:,} flights kept, {summary['rejected']} rejected, "
            f"{summary['duplicates_dropped']} codeshare duplicates dropped ({summary['requests']} requests)."
        )
        summaries.append(summary)
    entry.emit_summary(summaries[0] if len(summaries) == 1 else {"stage": "fetch", "days": summaries})


def main() -> None:
    entry.run(app)
