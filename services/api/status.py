"""What /status shows: what is live and since when, how it fared on real outcomes day by day,
drift from its training data, the decisions with their reports, and each stage's last run.

Read from the buckets (the evaluator's monitoring/ records and decisions, the stages' run
summaries), in a thread, at most once per ``api_poll_seconds``; a record that cannot be read is
left out, never an error, so the page always answers.
"""

from __future__ import annotations

import html
import json
import logging
import time
from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel, Field

from flightdelay import layout
from flightdelay.errors import FlightDelayError, ObjectNotFound
from flightdelay.records import SWITCHES, Drift
from flightdelay.registry import Registry
from flightdelay.storage import ObjectStore

log = logging.getLogger(__name__)
QUALITY_DAYS = 60
DECISIONS_SHOWN = 20


class LiveLine(BaseModel):
    version: str | None
    since: datetime | None = Field(None, description="when the decision that made it live was taken")
    model_type: str | None = None
    validation_roc_auc: float | None = None


class QualityPoint(BaseModel):
    day: date
    model_version: str | None
    answers: int
    flights: int
    roc_auc: float | None
    brier: float
    flag_accuracy: float
    calibration_error: float | None
    late_share: float
    mean_probability: float


class DecisionLine(BaseModel):
    id: str
    created_at: datetime
    verdict: str
    version: str | None
    reason: str
    report_url: str | None


class StageRun(BaseModel):
    stage: str
    at: datetime | None = Field(description="when it ran (UTC)")
    outcome: str | None
    detail: str = ""


class Status(BaseModel):
    generated_at: datetime = Field(description="when this was built: the wall clock (UTC)")
    conditions_as_of: datetime | None = Field(
        None, description="the time of the conditions the API answers with (conditions/latest.json)"
    )
    live: LiveLine
    quality: list[QualityPoint] = Field(
        description="the live model's real quality by departure day, oldest first"
    )
    drift: Drift | None = Field(None, description="the last measured drift")
    alarms: list[str] = Field(default_factory=list, description="what the last watch found, in words")
    decisions: list[DecisionLine]
    runs: list[StageRun]


def _last_run(data: ObjectStore, prefix: str) -> dict[str, Any] | None:
    # Run ids start with when the run started, to the microsecond (layout.new_run_id).
    keys = sorted(k for k in data.list(prefix) if k.endswith(".json"))
    if not keys:
        return None
    summary: dict[str, Any] = json.loads(data.get(keys[-1]).data)
    return summary


def gather(registry: Registry, data: ObjectStore, *, now: datetime) -> Status:
    live_version = registry.live_version()
    decisions = registry.decisions(limit=DECISIONS_SHOWN)
    since = next(
        (d.created_at for d in decisions if d.live_after == live_version and d.verdict in SWITCHES),
        None,
    )
    live = LiveLine(version=live_version, since=since)
    if live_version:
        manifest = registry.manifest(live_version, "prod")
        live.model_type, live.validation_roc_auc = manifest.model_type, manifest.metrics.get("roc_auc")
    watched = registry.monitoring(limit=QUALITY_DAYS)
    quality = [
        QualityPoint(
            day=m.day,
            model_version=m.model_version,
            answers=m.answers,
            **m.quality.model_dump(exclude={"flights"}),
            flights=m.quality.flights,
        )
        for m in reversed(watched)
        if m.quality is not None
    ]
    last_drift = next((m for m in watched if m.drift is not None), None)
    runs = [
        _stage_run("fetch", data, layout.FETCH_RUNS, "date"),
        _stage_run("conditions", data, layout.CONDITIONS_RUNS, "as_of"),
    ]
    evaluation = next((d for d in decisions if d.source == "evaluator"), None)
    runs.append(
        StageRun(
            stage="evaluate",
            at=evaluation.created_at if evaluation else None,
            outcome=evaluation.verdict if evaluation else None,
            detail=evaluation.reason if evaluation else "",
        )
    )
    runs.append(
        StageRun(
            stage="monitor",
            at=watched[0].created_at if watched else None,
            outcome=("alarm" if watched[0].alarms else "ok") if watched else None,
            detail=f"departure day {watched[0].day}" if watched else "",
        )
    )
    newest = next(iter(registry.staged()), None)  # newest first
    runs.append(
        StageRun(
            stage="train",
            at=newest.created_at if newest else None,
            outcome="staged" if newest else None,
            detail=newest.version if newest else "",
        )
    )
    return Status(
        generated_at=now,
        conditions_as_of=_conditions_as_of(data),
        live=live,
        quality=quality,
        drift=last_drift.drift if last_drift else None,
        alarms=watched[0].alarms if watched else [],
        decisions=[
            DecisionLine(
                id=d.id,
                created_at=d.created_at,
                verdict=d.verdict,
                version=d.version,
                reason=d.reason,
                report_url=f"/reports/{d.id}" if d.report_key else None,
            )
            for d in decisions
        ],
        runs=runs,
    )


def _stage_run(stage: str, data: ObjectStore, prefix: str, about: str) -> StageRun:
    try:
        run = _last_run(data, prefix)
    except (FlightDelayError, ValueError) as exc:
        log.warning("unreadable run summary", extra={"stage": stage, "error": str(exc)})
        return StageRun(stage=stage, at=None, outcome="unreadable")
    if run is None:
        return StageRun(stage=stage, at=None, outcome=None)
    detail = f"{about} {run.get(about)}" + (f": {run['error']}" if run.get("error") else "")
    started = layout.run_started(str(run.get("run_id", "")))
    return StageRun(stage=stage, at=started, outcome=run.get("status"), detail=detail)


def _conditions_as_of(data: ObjectStore) -> datetime | None:
    """The time of the conditions the API answers with, or None when none are published."""
    try:
        raw = json.loads(data.get(layout.latest_conditions()).data)
        return datetime.fromisoformat(raw["as_of"])
    except (FlightDelayError, ValueError, KeyError, TypeError) as exc:
        if not isinstance(exc, ObjectNotFound):
            log.warning("unreadable conditions snapshot", extra={"error": str(exc)})
        return None


class StatusCache:
    """The last Status, rebuilt when older than ``max_age`` seconds."""

    def __init__(self, registry: Registry, data: ObjectStore, *, max_age: float) -> None:
        self._registry, self._data, self._max_age = registry, data, max_age
        self._value: Status | None = None
        self._built = 0.0

    def get(self, now: datetime) -> Status:
        if self._value is None or time.monotonic() - self._built > self._max_age:
            self._value = gather(self._registry, self._data, now=now)
            self._built = time.monotonic()
        return self._value


# --- the page --------------------------------------------------------------------------------
def _e(value: object) -> str:
    return html.escape("-" if value is None else str(value))


def _f(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _t(value: datetime | None) -> str:
    """Every time on the page in one form, UTC."""
    return "-" if value is None else f"{value.astimezone(UTC):%Y-%m-%d %H:%M:%S}"


def _now_line(status: Status) -> str:
    """Which "now" the page shows: the wall clock it was built at, and the time of the conditions
    the API answers with (a replay's, or a stalled stage's, can be far behind the wall clock)."""
    built = f"Built {_t(status.generated_at)} UTC"
    as_of = status.conditions_as_of
    if as_of is None:
        return f"<p>{built}; no conditions are published, so the API answers from the timetable alone.</p>"
    behind = (status.generated_at - as_of).days
    lag = (
        f" ({behind:,} days before this page was built: a replay's clock, or the conditions stage stopped)"
        if behind >= 1
        else ""
    )
    when = f"{as_of.astimezone(UTC):%Y-%m-%d %H:%M}"
    return f"<p>{built}; the API answers with the conditions as of {when} UTC{lag}.</p>"


def quality_plot(points: list[QualityPoint], *, width: int = 640, height: int = 220) -> str:
    """Live ROC-AUC and flag accuracy by day as an inline SVG with labelled axes (no script)."""
    if not points:
        return (
            "<p>No live quality yet: the evaluator judges the API's answers once their flights' "
            "outcomes are fetched.</p>"
        )
    left, right, top, bottom = 48, 16, 16, 40
    lo, hi = 0.4, 1.0
    n = len(points)

    def x(i: int) -> float:
        return left + (width - left - right) * (0.5 if n == 1 else i / (n - 1))

    def y(v: float) -> float:
        return top + (height - top - bottom) * (hi - min(max(v, lo), hi)) / (hi - lo)

    parts = [
        f'<svg role="img" aria-label="Live quality by day" viewBox="0 0 {width} {height}" class="plot">',
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" '
        'class="axis"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}" class="axis"/>',
    ]
    for tick in (0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0):
        parts.append(
            f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick:.1f}</text>'
            f'<line x1="{left}" y1="{y(tick):.1f}" x2="{width - right}" y2="{y(tick):.1f}" class="grid"/>'
        )
    step = max(1, n // 7)
    for i in range(0, n, step):
        parts.append(
            f'<text x="{x(i):.1f}" y="{height - bottom + 16}" text-anchor="middle">'
            f"{points[i].day:%b %d}</text>"
        )
    parts.append(f'<text x="{(left + width) / 2}" y="{height - 4}" text-anchor="middle">departure day</text>')
    for field, css in (("roc_auc", "auc"), ("flag_accuracy", "acc")):
        coords = [(x(i), y(getattr(p, field))) for i, p in enumerate(points) if getattr(p, field) is not None]
        if coords:
            path = " ".join(f"{a:.1f},{b:.1f}" for a, b in coords)
            parts.append(f'<polyline points="{path}" class="{css}"/>')
            parts.extend(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="3" class="{css}"/>' for a, b in coords)
    parts.append(
        f'<text x="{left + 8}" y="{top + 12}" class="auc legend">— ROC-AUC</text>'
        f'<text x="{left + 100}" y="{top + 12}" class="acc legend">— flag right</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


PAGE_STYLE = """
body{font-family:system-ui,sans-serif;margin:0 auto;max-width:960px;padding:16px;color:#1d2430}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:1.6rem}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{text-align:left;padding:4px 6px;border-bottom:1px solid #dde}
.wrap{overflow-x:auto}.plot{width:100%;max-width:640px;height:auto}
.plot text{font-size:11px;fill:#445}.axis{stroke:#445}.grid{stroke:#e4e6ee}
/* .plot polyline outranks .auc and .acc, whose fill is for the dots: the lines stay lines */
.plot polyline{fill:none;stroke-width:2}.auc{stroke:#1f5fbf;fill:#1f5fbf}.acc{stroke:#c0562b;fill:#c0562b}
.legend{stroke:none}.alarm{background:#fff1e6;border-left:4px solid #c0562b;padding:6px 10px;margin:6px 0}
"""


def render(status: Status) -> str:
    live = status.live
    since = f" since {live.since:%Y-%m-%d %H:%M} UTC" if live.since else ""
    rows = "".join(
        f"<tr><td>{p.day}</td><td>{_e(p.model_version)}</td><td>{p.answers}</td><td>{p.flights}</td>"
        f"<td>{_f(p.roc_auc)}</td><td>{p.flag_accuracy:.0%}</td><td>{_f(p.brier)}</td>"
        f"<td>{_f(p.calibration_error)}</td><td>{p.late_share:.0%} / {p.mean_probability:.0%}</td></tr>"
        for p in reversed(status.quality)
    )
    drift = status.drift
    drift_html = (
        "<p>No drift measured yet.</p>"
        if drift is None
        else (
            f"<p>Flights of {drift.recent.start} to {drift.recent.end} ({drift.recent.rows:,}) "
            f"against the training data of {drift.reference.start} to {drift.reference.end}: "
            f"late share {drift.recent.base_rate:.1%} "
            f"against {drift.reference.base_rate:.1%}; largest PSI {drift.max_psi:.2f} "
            f"({'drifted' if drift.drifted else 'stable'}, bar {drift.threshold:.2f}).</p>"
            '<div class="wrap"><table><tr><th>input</th><th>PSI</th></tr>'
            + "".join(
                f"<tr><td>{_e(k)}</td><td>{v:.3f}</td></tr>"
                for k, v in sorted(drift.psi.items(), key=lambda kv: -kv[1])
            )
            + "</table></div><p>Unknown to the model: "
            + ", ".join(f"{_e(k)} {v:.1%}" for k, v in drift.unknown_share.items())
            + "</p>"
        )
    )
    decisions = "".join(
        f"<tr><td>{d.created_at:%Y-%m-%d %H:%M}</td><td>{_e(d.verdict)}</td><td>{_e(d.version)}</td>"
        f"<td>{_e(d.reason)}</td><td>"
        + (f'<a href="{_e(d.report_url)}">report</a>' if d.report_url else "-")
        + "</td></tr>"
        for d in status.decisions
    )
    runs = "".join(
        f"<tr><td>{_e(r.stage)}</td><td>{_t(r.at)}</td><td>{_e(r.outcome)}</td><td>{_e(r.detail)}</td></tr>"
        for r in status.runs
    )
    alarms = "".join(f'<div class="alarm">{_e(a)}</div>' for a in status.alarms)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>flightdelay status</title><style>{PAGE_STYLE}</style></head><body>
<h1>flightdelay status</h1>
<p>Live: <strong>{_e(live.version)}</strong> ({_e(live.model_type)}){since};
validation ROC-AUC {_f(live.validation_roc_auc)}.
<a href="/status.json">This page as JSON</a> · <a href="/">Ask about a flight</a></p>
{_now_line(status)}
{alarms}
<h2>Live quality on real outcomes</h2>
{quality_plot(status.quality)}
<div class="wrap"><table><tr><th>day</th><th>model</th><th>answers</th><th>flights</th><th>ROC-AUC</th>
<th>flag right</th><th>Brier</th><th>calibration error</th><th>late / predicted</th></tr>{rows}</table></div>
<h2>Drift from the training data</h2>
{drift_html}
<h2>Decisions</h2>
<div class="wrap"><table><tr><th>when (UTC)</th><th>verdict</th><th>version</th><th>why</th><th></th></tr>
{decisions}</table></div>
<h2>Last run of each stage</h2>
<div class="wrap"><table><tr><th>stage</th><th>at (UTC)</th><th>outcome</th><th>detail</th></tr>
{runs}</table></div>
</body></html>"""
