"""The evaluator's command: ``flightdelay evaluate``; ``python -m services.evaluator`` in its task."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from flightdelay import entry
from flightdelay.records import Verdict
from flightdelay.registry import Registry
from flightdelay.storage import open_store

app = typer.Typer(pretty_exceptions_enable=False, add_completion=False)
# One exit code per outcome, so a scheduler (and its alarms) can tell them apart.
EXIT_CODES: dict[Verdict, int] = {
    "promoted": 0,
    "rejected": 10,
    "no_decision": 11,
    "nothing_to_evaluate": 12,
    "failed": 3,  # the promotion lost a race to another promoter
}


@app.command()
def evaluate(
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
    from services.evaluator.evaluate import evaluate as run_evaluation  # the heavy part, when it runs

    settings = entry.start()
    outcome = run_evaluation(
        settings,
        open_store(settings.data_url, region=settings.aws_region),
        Registry(open_store(settings.models_url, region=settings.aws_region)),
        candidate=candidate,
        window_days=window_days,
        end=end.date() if end else None,
    )
    entry.note(
        f"{outcome.verdict.replace('_', ' ').capitalize()}: {outcome.candidate or '-'}: {outcome.reason}"
    )
    entry.emit_summary(outcome.summary())
    raise typer.Exit(EXIT_CODES[outcome.verdict])


def main() -> None:
    entry.run(app)
