"""A self-contained HTML report of one evaluation, for a data scientist: the verdict first, what
changed against the live model, then every chart with labelled axes — ROC, precision–recall,
calibration (with a sentence that reads it), score distributions — the confusion matrices, slices
by origin, carrier and departure hour, what drives each model (the mean size of each input's
exact part, flightdelay/explain.py), the horizons and the policy.

Charts are inline SVG drawn here, so the report has no script, no dependency and no network.
"""

from __future__ import annotations

import html
from collections.abc import Mapping

import numpy as np

from flightdelay.records import Decision, Evaluation, Manifest, Verdict

COLORS = {"candidate": "#1565c0", "live": "#ef6c00"}
SIZE, PAD = 320, 44
TICKS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
MIN_SLICE = 100  # flights: a smaller slice says too little to show


def _xy(x: float, y: float, top: float = 1.0) -> tuple[float, float]:
    span = SIZE - 2 * PAD
    return PAD + x * span, SIZE - PAD - (y / top) * span


def _polyline(xs: np.ndarray, ys: np.ndarray, color: str, *, dots: bool = False, top: float = 1.0) -> str:
    xy = [_xy(x, y, top) for x, y in zip(xs, ys, strict=True)]
    points = " ".join(f"{a:.1f},{b:.1f}" for a, b in xy)
    line = f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{points}"/>'
    if dots:
        line += "".join(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="3" fill="{color}"/>' for a, b in xy)
    return line


def _chart(
    title: str, x_label: str, y_label: str, series: list[str], *, diagonal: bool = True, top: float = 1.0
) -> str:
    """A square chart of [0, 1] × [0, top] with ticks and labels on both axes."""
    span = SIZE - 2 * PAD
    ticks = []
    for t in TICKS:
        x, _ = _xy(t, 0)
        _, y = _xy(0, t * top, top)
        ticks.append(
            f'<line x1="{x:.1f}" y1="{SIZE - PAD}" x2="{x:.1f}" y2="{SIZE - PAD + 4}" stroke="#616161"/>'
            f'<text x="{x:.1f}" y="{SIZE - PAD + 16}" text-anchor="middle" font-size="10">{t:.1f}</text>'
            f'<line x1="{PAD - 4}" y1="{y:.1f}" x2="{PAD}" y2="{y:.1f}" stroke="#616161"/>'
            f'<text x="{PAD - 6}" y="{y + 3:.1f}" text-anchor="end" font-size="10">{t * top:.{1 if top <= 1 else 0}f}</text>'
        )
    reference = _polyline(np.array([0.0, 1.0]), np.array([0.0, top]), "#9e9e9e", top=top) if diagonal else ""
    return (
        f'<figure><svg viewBox="0 0 {SIZE} {SIZE}" width="{SIZE}" height="{SIZE}" role="img" '
        f'aria-label="{html.escape(title)}">'
        f'<rect x="{PAD}" y="{PAD}" width="{span}" height="{span}" fill="#fafafa" stroke="#bdbdbd"/>'
        f"{''.join(ticks)}{reference}{''.join(series)}"
        f'<text x="{SIZE / 2}" y="{SIZE - 6}" text-anchor="middle" font-size="12">{x_label}</text>'
        f'<text x="12" y="{SIZE / 2}" font-size="12" transform="rotate(-90 12 {SIZE / 2})" '
        f'text-anchor="middle">{y_label}</text></svg><figcaption>{html.escape(title)}</figcaption></figure>'
    )


def _calibration_sentence(name: str, y: np.ndarray, p: np.ndarray) -> str:
    gap = float(p.mean() - y.mean())
    if abs(gap) < 0.02:
        verdict = "its probabilities are about right on average"
    elif gap < 0:
        verdict = f"it under-predicts: delays are {-gap * 100:.0f} points more common than it says"
    else:
        verdict = f"it over-predicts: delays are {gap * 100:.0f} points rarer than it says"
    return f"The {name} model predicts {p.mean():.0%} late on average; {y.mean():.0%} were: {verdict}."


def _confusion(name: str, y: np.ndarray, p: np.ndarray, threshold: float) -> str:
    flag = p >= threshold
    late = y.astype(bool)
    cells = {
        "tp": int((flag & late).sum()),
        "fp": int((flag & ~late).sum()),
        "fn": int((~flag & late).sum()),
        "tn": int((~flag & ~late).sum()),
    }
    return (
        f'<table class="confusion"><caption>{html.escape(name)} at its threshold {threshold:.3f}</caption>'
        "<tr><th></th><th>flagged late</th><th>flagged on time</th></tr>"
        f"<tr><th>arrived late</th><td>{cells['tp']:,}</td><td>{cells['fn']:,}</td></tr>"
        f"<tr><th>arrived on time</th><td>{cells['fp']:,}</td><td>{cells['tn']:,}</td></tr></table>"
    )


def _histogram(y: np.ndarray, p: np.ndarray) -> str:
    """Score distribution: share of late and of on-time flights in each tenth of P(late)."""
    bins = np.linspace(0, 1, 11)
    series = []
    for mask, color, dash in ((y == 1, "#c62828", ""), (y == 0, "#2e7d32", ' stroke-dasharray="5 3"')):
        counts, _ = np.histogram(p[mask], bins=bins)
        share = counts / max(1, counts.sum())
        points = []
        for i, s in enumerate(share):
            points += [_xy(bins[i], s), _xy(bins[i + 1], s)]
        series.append(
            f'<polyline fill="none" stroke="{color}" stroke-width="2"{dash} points="'
            + " ".join(f"{a:.1f},{b:.1f}" for a, b in points)
            + '"/>'
        )
    return "".join(series)


def _slices(y: np.ndarray, predictions: Mapping[str, np.ndarray], groups: Mapping[str, np.ndarray]) -> str:
    from sklearn.metrics import roc_auc_score  # here: see render()

    names = list(predictions)
    out = []
    for label, values in groups.items():
        keys, counts = np.unique(values.astype(str), return_counts=True)
        order = [
            k
            for k, c in sorted(zip(keys, counts, strict=True), key=lambda kc: (-kc[1], kc[0]))
            if c >= MIN_SLICE
        ]
        if label == "departure hour":
            order = sorted(order, key=int)
        rows = []
        for key in order[:15]:
            mask = values.astype(str) == key
            cells = [f"{int(mask.sum()):,}", f"{y[mask].mean():.0%}"]
            for n in names:
                two = len(np.unique(y[mask])) == 2
                auc = f"{roc_auc_score(y[mask], predictions[n][mask]):.3f}" if two else "-"
                cells += [auc, f"{predictions[n][mask].mean():.0%}"]
            rows.append(
                f"<tr><th>{html.escape(key)}</th>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"
            )
        header = "".join(f"<th>{n} ROC-AUC</th><th>{n} mean P</th>" for n in names)
        out.append(
            f"<h3>By {label}</h3><table><tr><th>{label}</th><th>flights</th><th>late</th>{header}</tr>"
            + "".join(rows)
            + "</table>"
        )
    return "".join(out)


def _importance(importance: Mapping[str, Mapping[str, float]]) -> str:
    if not importance:
        return ""
    names = list(importance)
    inputs = sorted(
        next(iter(importance.values())), key=lambda k: -max(importance[n].get(k, 0.0) for n in names)
    )
    rows = "".join(
        f"<tr><th>{html.escape(k)}</th>"
        + "".join(f"<td>{importance[n].get(k, float('nan')):.2f}</td>" for n in names)
        + "</tr>"
        for k in inputs[:12]
    )
    return (
        "<h2>What drives each model</h2><p>The mean size of each input's exact part of the answers on "
        "this window, in percentage points of probability (the same parts the API gives with "
        "<code>?explain=true</code>).</p>"
        f"<table><tr><th>input</th>{''.join(f'<th>{n}</th>' for n in names)}</tr>{rows}</table>"
    )


def render(
    evaluation: Evaluation,
    *,
    verdict: Verdict,
    sentence: str,
    y: np.ndarray | None,
    predictions: dict[str, np.ndarray],
    groups: Mapping[str, np.ndarray] | None = None,
    importance: Mapping[str, Mapping[str, float]] | None = None,
) -> str:
    """The report as one HTML string. ``groups``: the window's origin, carrier and departure hour
    per flight (for the slices); ``importance``: per model, each input's mean part."""
    # Imported here: a switch made by hand (render_switch) draws no curve, and the registry's
    # commands start without scikit-learn's second of imports.
    from sklearn.calibration import calibration_curve
    from sklearn.metrics import precision_recall_curve, roc_curve

    candidate, live, window = evaluation.candidate, evaluation.live, evaluation.window
    metrics, comparison, policy = evaluation.metrics, evaluation.comparison, evaluation.policy
    names = list(metrics)
    thresholds = {n: metrics[n].get("threshold", 0.5) for n in names}
    roc, pr, calibration, distributions, sentences, confusions = [], [], [], [], [], []
    if y is not None and len(np.unique(y)) == 2:
        for name, p in predictions.items():
            fpr, tpr, _ = roc_curve(y, p)
            step = max(1, len(fpr) // 400)
            roc.append(_polyline(fpr[::step], tpr[::step], COLORS[name]))
            precision, recall, _ = precision_recall_curve(y, p)
            step = max(1, len(recall) // 400)
            pr.append(_polyline(recall[::step], precision[::step], COLORS[name]))
            observed, predicted = calibration_curve(y, p, n_bins=10, strategy="quantile")
            calibration.append(_polyline(predicted, observed, COLORS[name], dots=True))
            distributions.append(
                _chart(
                    f"Scores of the {name} model: late (red) and on-time (green, dashed) flights",
                    "predicted P(late)",
                    "share of the flights",
                    [_histogram(y, p)],
                    diagonal=False,
                    top=0.5,
                )
            )
            sentences.append(_calibration_sentence(name, y, p))
            confusions.append(_confusion(name, y, p, thresholds[name]))
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
        + (
            f"<td>{metrics['candidate'].get(k, float('nan')) - metrics['live'].get(k, float('nan')):+.4f}</td>"
            if "live" in metrics and "candidate" in metrics
            else ""
        )
        + "</tr>"
        for k in keys
    )
    change_header = "<th>candidate − live</th>" if "live" in metrics and "candidate" in metrics else ""
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
    elif live is None:
        comparison_html = "<p>No model was live: the absolute bar alone decided.</p>"
    charts = ""
    if roc:
        charts = (
            f"<h2>Charts</h2><p>{legend}</p><div class=charts>"
            + _chart("ROC curve (grey: chance)", "false positive rate", "true positive rate", roc)
            + _chart("Precision–recall curve", "recall", "precision", pr, diagonal=False)
            + _chart(
                "Calibration (10 quantile bins; grey: perfect)",
                "predicted P(late)",
                "observed late share",
                calibration,
            )
            + "</div>"
            + "".join(f"<p class=reading>{html.escape(s)}</p>" for s in sentences)
            + f"<div class=charts>{''.join(distributions)}</div>"
            + "<h2>Confusion matrices</h2><div class=charts>"
            + "".join(confusions)
            + "</div>"
        )
    slices_html = (
        "<h2>Slices</h2><p>Flights of the window by group (groups of 100 flights or more; the 15 largest).</p>"
        + _slices(y, predictions, groups)
        if y is not None and groups and predictions
        else ""
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
    days = (
        f" ({window.days_with_data} of {(window.end - window.start).days + 1} days hold flights)"
        if window.days_with_data is not None
        else ""
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Evaluation of {html.escape(candidate)}: {verdict}</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<style>
body{{font-family:system-ui,sans-serif;max-width:64rem;margin:2rem auto;padding:0 1rem;color:#212121}}
p{{overflow-wrap:break-word}}
.verdict{{font-size:1.3rem;padding:1rem;border-radius:.4rem;background:#eceff1}}
.promoted{{background:#e8f5e9}} .rejected{{background:#ffebee}} .no_decision{{background:#fff8e1}}
table{{border-collapse:collapse;margin:1rem 0;display:block;max-width:100%;overflow-x:auto}}
td,th{{border:1px solid #cfd8dc;padding:.3rem .6rem;text-align:right}}
th{{text-align:left}} .charts{{display:flex;gap:1rem;flex-wrap:wrap}} figure{{margin:0;min-width:0;max-width:100%}} caption{{text-align:left}}
svg{{max-width:100%;height:auto}}
</style></head><body>
<p class="verdict {verdict}" id="verdict"><b>{verdict.replace("_", " ").upper()}</b> — {html.escape(sentence)}</p>
<h2>Data window</h2>
<p>{window.start} to {window.end}{days}: {window.rows:,} labelled flights, {window.base_rate:.1%} arrived 15+
minutes late.</p>
<h2>What changed against the live model</h2>
{comparison_html}
<h2>Metrics</h2>
<table><tr><th>metric</th>{"".join(f"<th>{n}</th>" for n in names)}{change_header}</tr>{rows}</table>
{charts}
{_importance(importance or {})}
{slices_html}
{horizons_html}
<h2>Policy</h2><table>{policy_rows}</table>
</body></html>
"""


def render_switch(decision: Decision, before: Manifest | None, after: Manifest) -> str:
    """The report of a switch made by hand (a promotion or a rollback): who, why, and the two
    models side by side as their manifests describe them."""
    models = {"live before": before, "live after": after}
    keys = ["roc_auc", "pr_auc", "brier", "calibration_error", "f1", "threshold"]
    header = "".join(
        f"<th>{n}<br>{html.escape(m.version if m else 'nothing')}</th>" for n, m in models.items()
    )

    def cell(m: Manifest | None, key: str) -> str:
        value = m.metrics.get(key) if m else None
        return f"<td>{value:.4f}</td>" if isinstance(value, float) else "<td>-</td>"

    rows = "".join(
        f"<tr><th>validation {k}</th>{''.join(cell(m, k) for m in models.values())}</tr>" for k in keys
    )
    facts = "".join(
        f"<tr><th>{label}</th>{''.join(f'<td>{html.escape(str(fn(m))) if m else chr(45)}</td>' for m in models.values())}</tr>"
        for label, fn in (
            ("model", lambda m: m.model_type),
            (
                "trained on",
                lambda m: (
                    f"{m.training_data.start} to {m.training_data.end} ({m.training_data.rows:,} flights)"
                ),
            ),
            (
                "validated on",
                lambda m: (
                    f"{m.validation_data.start} to {m.validation_data.end}" if m.validation_data else "-"
                ),
            ),
            ("created", lambda m: f"{m.created_at:%Y-%m-%d %H:%M} UTC"),
        )
    )
    word = decision.verdict.replace("_", " ").upper()
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{word}: {html.escape(decision.version or "")}</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<style>
body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#212121}}
p{{overflow-wrap:break-word}}
.verdict{{font-size:1.3rem;padding:1rem;border-radius:.4rem;background:#e3f2fd}}
table{{border-collapse:collapse;margin:1rem 0;display:block;max-width:100%;overflow-x:auto}}
td,th{{border:1px solid #cfd8dc;padding:.3rem .6rem;text-align:right}}
th{{text-align:left}}
</style></head><body>
<p class="verdict" id="verdict"><b>{word}</b> — by hand ({html.escape(decision.source)}), {decision.created_at:%Y-%m-%d %H:%M} UTC:
{html.escape(decision.reason)}</p>
<p>Live before: {html.escape(decision.previous or "nothing")}; live after: {html.escape(decision.live_after or "-")}.
No evaluation ran for this switch: the figures below are each model's own validation, from training.</p>
<table><tr><th></th>{header}</tr>{facts}{rows}</table>
</body></html>
"""
