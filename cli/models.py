"""The operator's commands on the model registry: status, promote, rollback, history."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from flightdelay import entry
from flightdelay.errors import CorruptRecord, RegistryError
from flightdelay.registry import Decision, Manifest, Registry
from flightdelay.storage import open_store

app = typer.Typer(pretty_exceptions_enable=False, add_completion=False, rich_markup_mode=None)
# Wide when piped, so versions and reasons are never cut in logs or by `| grep`.
console = Console() if sys.stdout.isatty() else Console(width=200)


def _registry() -> Registry:
    settings = entry.start()
    return Registry(open_store(settings.models_url, region=settings.aws_region))


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
def status() -> None:
    """Show what is staged, what is live, and the last decisions."""
    registry = _registry()
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
        verdicts = registry.verdicts()
        # Every trained model stays in staging/; the state column says which is live.
        table = Table(title="Trained models (newest first)", title_justify="left")
        for column in ("version", "created (UTC)", "model", "val ROC-AUC", "threshold", "state"):
            table.add_column(column)
        for m in staged:
            auc = m.metrics.get("roc_auc")
            table.add_row(
                m.version,
                f"{m.created_at:%Y-%m-%d %H:%M}",
                m.model_type,
                f"{auc:.3f}" if auc is not None else "-",
                f"{m.threshold:.3f}",
                ("LIVE" if m.version == live else verdicts.get(m.version, "pending evaluation")),
            )
        console.print(table)
    decisions = registry.decisions(limit=5)
    if decisions:
        console.print(_decisions_table(decisions, "Last decisions"))
    else:
        console.print("Decisions: none recorded yet.")


def switch(
    registry: Registry, action: str, version: str | None, *, reason: str | None, source: str
) -> Decision:
    """Promote (``version``) or roll back (to ``version``, or the one live before) by hand, with a
    report beside the decision, as the evaluator's decisions have."""
    from services.evaluator.report import render_switch  # the report's code, when it runs

    now = datetime.now(UTC)
    try:
        before = registry.live_version()
    except CorruptRecord:  # the switch repairs an unreadable latest.txt: nothing readable was live
        before = None
    if action == "promote":
        assert version is not None
        key = registry.report_key(registry.decision_id(now, version))
        decision = registry.promote(
            version, reason=reason or "promoted by hand", source=source, report_key=key, now=now
        )
    else:
        key = registry.report_key(registry.decision_id(now, version or registry.live_before()))
        decision = registry.rollback(version, reason=reason, source=source, report_key=key, now=now)
    after = registry.manifest(decision.version or "", "prod")
    registry.attach_report(decision, render_switch(decision, _manifest_or_none(registry, before), after))
    return decision


def _manifest_or_none(registry: Registry, version: str | None) -> Manifest | None:
    """The prod manifest of the version live before a switch, if it can still be read: the switch
    has happened by now, and a pointer to a missing or damaged model is what it may have repaired."""
    if version is None:
        return None
    try:
        return registry.manifest(version, "prod")
    except RegistryError:
        return None


@app.command()
def promote(
    version: Annotated[str, typer.Argument(help="staged version to make live")],
    reason: Annotated[str, typer.Option(help="why, for the decision record")] = "promoted by hand",
) -> None:
    """Promote a staged version by hand: copy to prod, verify, switch latest.txt; a report is kept
    beside the decision."""
    decision = switch(_registry(), "promote", version, reason=reason, source="cli")
    console.print(f"Promoted {version} (live before: {decision.previous or 'nothing'}).")


@app.command()
def rollback(
    to: Annotated[str | None, typer.Option("--to", help="promoted version to go back to")] = None,
    reason: Annotated[str | None, typer.Option(help="why, for the decision record")] = None,
) -> None:
    """Point latest.txt back at the version live before this one (decision history), or the one
    given; a report is kept beside the decision."""
    decision = switch(_registry(), "rollback", to, reason=reason, source="cli")
    # The registry tells the direction from the decision history (versions' training times cannot).
    moved = "Rolled forward" if decision.verdict == "rolled_forward" else "Rolled back"
    console.print(f"{moved} from {decision.previous} to {decision.version}.")


@app.command()
def history(
    limit: Annotated[int, typer.Option(help="how many decisions to show", min=1)] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="print the records as JSON")] = False,
) -> None:
    """Show the decision history, newest first."""
    decisions = _registry().decisions(limit=limit)
    if as_json:
        entry.emit_summary({"decisions": [d.model_dump(mode="json") for d in decisions]})
    elif not decisions:
        console.print("No decisions recorded yet.")
    else:
        console.print(_decisions_table(decisions, "Decisions"))
