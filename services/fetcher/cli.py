"""The fetcher's command: ``flightdelay fetch``, and ``python -m services.fetcher`` in its container."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from flightdelay import entry
from flightdelay.schema import airport_codes
from flightdelay.storage import open_store

app = typer.Typer(pretty_exceptions_enable=False, add_completion=False)


@app.command()
def fetch(
    day: Annotated[
        datetime | None,
        typer.Option("--date", formats=["%Y-%m-%d"], help="day to fetch (default: yesterday, UTC)"),
    ] = None,
    airports: Annotated[str | None, typer.Option(help="comma-separated departure airports (IATA)")] = None,
    force: Annotated[
        bool, typer.Option(help="replace a day's clean partition even with an empty or mostly rejected day")
    ] = False,
) -> None:
    """Pull a day of flights from Aviation Stack into new/ (raw pages, clean partition, run summary)."""
    try:
        codes = airport_codes(airports) if airports is not None else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--airports") from None
    from services.fetcher.fetch import run_fetch  # the heavy part, when it runs

    settings = entry.start()
    data = open_store(settings.data_url, region=settings.aws_region)
    summary = run_fetch(settings, data, day.date() if day else None, codes, force=force)
    entry.note(
        f"Fetched {summary['date']}: {summary['kept']:,} flights kept, {summary['rejected']} rejected, "
        f"{summary['duplicates_dropped']} codeshare duplicates dropped ({summary['requests']} requests)."
    )
    entry.emit_summary(summary)


def main() -> None:
    entry.run(app)
