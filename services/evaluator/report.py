"""A self-contained HTML report of one evaluation: verdict first, then curves and the metric table.

Charts are inline SVG drawn here, so the report has no script, no dependency and no network.
"""

from __future__ import annotations

import html

import numpy as np
from sklearn.calibration import calibration_curve
from sklearn.metrics import roc_curve

from flightdelay.records import Evaluation, Verdict

COLORS = {"candidate": "#1565c0", "live": "#ef6c00"}
SIZE, PAD = 320, 36


def _polyline(xs: np.ndarray, ys: np.ndarray, color: str, *, dots: bool = False) -> str:
    span = SIZE - 2 * PAD
    points = " ".join(
        f"{PAD + x * span:.1f},{SIZE - PAD - y * span:.1f}" for x, y in zip(xs, ys, strict=True)
    )
    line = f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{points}"/>'
    if dots:
        line += "".join(
            f'<circle cx="{PAD + x * span:.1f}" cy="{SIZE - PAD - y * span:.1f}" r="3" fill="{color}"/>'
            for x, y in zip(xs, ys, strict=True)
        )
    return line


def _chart(title: str, x_label: str, y_label: str, series: list[str]) -> str:
    span = SIZE - 2 * PAD
    diagonal = _polyline(np.array([0.0, 1.0]), np.array([0.0, 1.0]), "#9e9e9e")
    return (
        f'<figure><svg viewBox="0 0 {SIZE} {SIZE}" width="{SIZE}" height="{SIZE}" role="img" '
        f'aria-label="{html.escape(title)}">'
        f'<rect x="{PAD}" y="{PAD}" width="{span}" height="{span}" fill="#fafafa" stroke="#bdbdbd"/>'
        f"{diagonal}{''.join(series)}"
        f'<text x="{SIZE / 2}" y="{SIZE - 6}" text-anchor="middle" font-size="12">{x_label}</text>'
        f'<text x="12" y="{SIZE / 2}" font-size="12" transform="rotate(-90 12 {SIZE / 2})" '
        f'text-anchor="middle">{y_label}</text></svg><figcaption>{html.escape(title)}</figcaption></figure>'
    )


def render(
    evaluation: Evaluation,
    *,
    verdict: Verdict,
    sentence: str,
    y: np.ndarray | None,
    predictions: dict[str, np.ndarray],
) -> str:
    """The report as one HTML string."""
    candidate, live, window = evaluation.candidate, evaluation.live, evaluation.window
    metrics, comparison, policy = evaluation.metrics, evaluation.comparison, evaluation.policy
    roc, calibration = [], []
    if y is not None and len(np.unique(y)) == 2:
        for name, p in predictions.items():
            fpr, tpr, _ = roc_curve(y, p)
            step = max(1, len(fpr) // 400)
            roc.append(_polyline(fpr[::step], tpr[::step], COLORS[name]))
            observed, predicted = calibration_curve(y, p, n_bins=10, strategy="quantile")
            calibration.append(_polyline(predicted, observed, COLORS[name], dots=True))
    names = list(metrics)
    keys = [
        "roc_auc",
        "pr_auc",
        "brier",
        "calibration_error",
        "f1",
        "accuracy",
        "precision",
        "recall",
        "threshold",
    ]
    rows = "".join(
        f"<tr><th>{k}</th>"
        + "".join(f"<td>{metrics[n].get(k, float('nan')):.4f}</td>" for n in names)
        + "</tr>"
        for k in keys
    )
    legend = " ".join(
        f'<span style="color:{COLORS[n]}">■ {n} ({html.escape(candidate if n == "candidate" else live or "")})</span>'
        for n in names
    )
    comparison_html = ""
    if comparison:
        comparison_html = (
            f"<p>ROC-AUC difference (candidate − live): <b>{comparison.difference:+.4f}</b>, 95% paired "
            f"bootstrap interval [{comparison.ci_low:+.4f}, {comparison.ci_high:+.4f}] over "
            f"{int(comparison.resamples)} resamples; the candidate is rejected when the lower bound is below "
            f"−{policy.margin}.</p>"
        )
    charts = ""
    if roc:
        charts = (
            f"<p>{legend}</p><div class=charts>"
            + _chart("ROC curve", "false positive rate", "true positive rate", roc)
            + _chart(
                "Calibration (10 quantile bins)", "predicted P(late)", "observed late share", calibration
            )
            + "</div>"
        )
    horizon_rows = "".join(
        f"<tr><th>{html.escape(h)}</th>"
        + "".join(
            f"<td>{evaluation.horizons[n][h]['roc_auc']:.4f} / {evaluation.horizons[n][h]['brier']:.4f} / "
            f"{evaluation.horizons[n][h].get('calibration_error', float('nan')):.4f}</td>"
            for n in names
            if h in evaluation.horizons.get(n, {})
        )
        + "</tr>"
        for h in next(iter(evaluation.horizons.values()), {})
    )
    horizons_html = (
        "<h2>Seen from each horizon</h2><p>The same flights, predicted days ahead (no conditions) and "
        "4, 2 and 1 hours before departure (the weather and departures known then): ROC-AUC / Brier / "
        "calibration error.</p>"
        f"<table><tr><th>horizon</th>{''.join(f'<th>{n}</th>' for n in names)}</tr>{horizon_rows}</table>"
        if horizon_rows
        else ""
    )
    policy_rows = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
        for k, v in policy.model_dump().items()
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Evaluation of {html.escape(candidate)}: {verdict}</title>
<style>
body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#212121}}
.verdict{{font-size:1.3rem;padding:1rem;border-radius:.4rem;background:#eceff1}}
.promoted{{background:#e8f5e9}} .rejected{{background:#ffebee}} .no_decision{{background:#fff8e1}}
table{{border-collapse:collapse;margin:1rem 0}} td,th{{border:1px solid #cfd8dc;padding:.3rem .6rem;text-align:right}}
th{{text-align:left}} .charts{{display:flex;gap:1rem;flex-wrap:wrap}} figure{{margin:0}}
</style></head><body>
<p class="verdict {verdict}" id="verdict"><b>{verdict.replace("_", " ").upper()}</b>: {html.escape(sentence)}</p>
<h2>Data window</h2>
<p>{window.start} to {window.end}: {window.rows:,} labelled flights, {window.base_rate:.1%} arrived 15+
minutes late.</p>
{comparison_html}
<h2>Metrics</h2>
<table><tr><th>metric</th>{"".join(f"<th>{n}</th>" for n in names)}</tr>{rows}</table>
{horizons_html}
{charts}
<h2>Policy</h2><table>{policy_rows}</table>
</body></html>
"""
