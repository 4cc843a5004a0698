"""The evaluator's command: ``flightdelay evaluate``; ``python -m services.evaluator`` in its task."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Annotated

import typer

from flightdelay import entry
from flightdelay.errors import FlightDelayError
from flightdelay.records import Monitoring, Verdict
from flightdelay.registry import Registry
from flightdelay.storage import open_store

app = typer.Typer(pretty_exceptions_enable=False, add_completion=False, rich_markup_mode=None)
parse_day = partial(entry.parse_day, error=typer.BadParameter)
# One exit code per outcome, so a scheduler (and its alarms) can tell them apart.
EXIT_CODES: dict[Verdict, int] = {
    "promoted": 0,
    "rejected": 10,
    "no_decision": 11,
    "nothing_to_evaluate": 12,
    "failed": 3,  # the promotion lost a race to another promoter
}
WATCH_FAILED = 13  # the verdict was recorded, but watching the live model failed


@app.command()
def evaluate(
    candidate: Annotated[
        str | None, typer.Option(help="staged version (default: newest without a verdict)")
    ] = None,
    window_days: Annotated[int | None, typer.Option(help="days of new/clean/ to score on", min=1)] = None,
    end: Annotated[
        date | None,
        typer.Option(
            parser=parse_day, metavar=entry.DAY, help="last day of the window (default: yesterday, UTC)"
        ),
    ] = None,
    watch: Annotated[
        bool, typer.Option(help="also judge the live model's answers about the window's last day")
    ] = True,
) -> None:
    """Score the candidate and the live model on recent flights; promote or reject, and record why;
    then watch the live model on the last day (see `flightdelay monitor`).

    Exit codes: 0 promoted, 10 rejected, 11 no decision (too little data), 12 nothing to evaluate,
    3 the promotion lost a race, 13 the verdict stands but the watch failed, 1/2 errors, 9 the
    store cannot be read or written.
    """
    from services.evaluator.evaluate import evaluate as run_evaluation  # the heavy part, when it runs
    from services.evaluator.monitor import monitor, summary

    settings = entry.start()
    data = open_store(settings.data_url, region=settings.aws_region)
    registry = Registry(open_store(settings.models_url, region=settings.aws_region))
    day = end or datetime.now(UTC).date() - timedelta(days=1)
    days = window_days or settings.eval_window_days
    entry.note(
        f"Evaluating {candidate or 'the newest staged model'} against the live one on the {days} days "
        f"ending {day} ({settings.eval_bootstrap_resamples} bootstrap resamples) …"
    )
    outcome = run_evaluation(settings, data, registry, candidate=candidate, window_days=window_days, end=day)
    entry.note(
        f"{outcome.verdict.replace('_', ' ').capitalize()}: "
        + (f"{outcome.candidate}: " if outcome.candidate else "")
        + outcome.reason
    )
    window = outcome.evaluation.window if outcome.evaluation else None
    if window is not None and window.days_with_data is not None:
        asked = (window.end - window.start).days + 1
        if window.days_with_data < asked:
            entry.note(
                f"warning: only {window.days_with_data} of the window's {asked} days "
                f"({window.start}..{window.end}) hold fetched flights ({window.rows:,} labelled): "
                "fetch the missing days (flightdelay fetch --start … --end …) for a fuller judgement"
            )
    result = outcome.summary()
    code = EXIT_CODES[outcome.verdict]
    if watch:
        entry.note(f"Watching the live model on {day}: its logged answers against what happened, and drift …")
        try:
            record = monitor(settings, data, registry, day)
            result["monitor"] = summary(record)
            _say_watch(record)
        except FlightDelayError as exc:
            entry.note(f"error: watching the live model on {day} failed: {exc}")
            result["monitor"] = {"error": str(exc)}
            code = WATCH_FAILED
    entry.emit_summary(result)
    raise typer.Exit(code)


@app.command()
def monitor(
    start: Annotated[
        date | None,
        typer.Option(
            parser=parse_day, metavar=entry.DAY, help="first departure day to judge (default: --end)"
        ),
    ] = None,
    end: Annotated[
        date | None,
        typer.Option(
            parser=parse_day, metavar=entry.DAY, help="last departure day to judge (default: yesterday, UTC)"
        ),
    ] = None,
) -> None:
    """Judge the live model's logged answers against the fetched outcomes, day by day, and measure
    drift from its training data; records go to the MODELS bucket's monitoring/."""
    from services.evaluator.monitor import monitor as watch_day
    from services.evaluator.monitor import summary

    settings = entry.start()
    data = open_store(settings.data_url, region=settings.aws_region)
    registry = Registry(open_store(settings.models_url, region=settings.aws_region))
    last = end or datetime.now(UTC).date() - timedelta(days=1)
    first = start or last
    if first > last:
        raise typer.BadParameter("--start is after --end")
    summaries = []
    for offset in range((last - first).days + 1):
        record = watch_day(settings, data, registry, first + timedelta(days=offset))
        _say_watch(record)
        summaries.append(summary(record))
    entry.emit_summary({"stage": "monitor", "days": summaries})


def _say_watch(record: Monitoring) -> None:
    quality = record.quality
    entry.note(
        f"Watched {record.day}: {record.answers} answers"
        + (
            f", {quality.flights} flights with an outcome, ROC-AUC "
            f"{'-' if quality.roc_auc is None else f'{quality.roc_auc:.3f}'}, flag right "
            f"{quality.flag_accuracy:.0%}"
            if quality
            else ", no outcome known yet"
        )
        + (f"; drift max PSI {record.drift.max_psi:.2f}" if record.drift else "")
    )
    for alarm in record.alarms:
        entry.note(f"alarm: {alarm}")


def main() -> None:
    """The scheduled task: the daily evaluation, which also watches the live model."""
    daily = typer.Typer(pretty_exceptions_enable=False, add_completion=False, rich_markup_mode=None)
    daily.command()(evaluate)
    entry.run(daily)
