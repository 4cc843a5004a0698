"""The conditions stage's command: ``flightdelay conditions``; ``python -m services.conditions``."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Annotated

import typer

from flightdelay import entry
from flightdelay.storage import open_store

app = typer.Typer(pretty_exceptions_enable=False, add_completion=False, rich_markup_mode=None)


@app.command()
def conditions(
    at: Annotated[
        datetime | None,
        typer.Option(
            parser=partial(entry.parse_minute, error=typer.BadParameter),
            metavar=entry.MINUTE,
            help="the time (UTC) the conditions are as of: default now; a past time for a replay",
        ),
    ] = None,
) -> None:
    """Pull the airports' recent weather (METAR) into conditions/, and publish conditions/latest.json."""
    from services.conditions.run import run_conditions  # the heavy part, when it runs

    settings = entry.start()
    data = open_store(settings.data_url, region=settings.aws_region)
    summary = run_conditions(settings, data, at=at)
    entry.note(
        f"Conditions as of {summary['as_of']}: {summary['observations']} observations kept, weather known at "
        f"{', '.join(summary['airports_with_weather']) or 'no airport'}."
    )
    entry.emit_summary(summary)


def main() -> None:
    entry.run(app)
