"""The drift alarm a person reads first on /status and in `flightdelay monitor`: the real cause leads."""

from __future__ import annotations

from datetime import date

from flightdelay.records import DataWindow, Drift
from services.evaluator.monitor import drift_alarm

TRAINING = DataWindow(start=date(2013, 1, 1), end=date(2013, 11, 30), rows=306_000, base_rate=0.236)


def drift(late: float, psi: dict[str, float]) -> Drift:
    recent = DataWindow(start=date(2013, 12, 8), end=date(2013, 12, 14), rows=6_300, base_rate=late)
    return Drift(reference=TRAINING, recent=recent, psi=psi, unknown_share={}, max_psi=max(psi.values()),
                 drifted=True, threshold=0.2)  # fmt: skip


def test_a_moved_late_share_leads_and_minor_inputs_follow() -> None:
    # December 8-14 2013 as the demo measures it: the late share nearly doubled.
    alarm = drift_alarm(drift(0.432, {"block_minutes": 0.23, "dest": 0.05, "carrier": 0.21}))
    assert alarm == (
        "drift: late share 23.6% in training, 43.2% in the last 7 days; "
        "inputs moved too: block_minutes PSI 0.23, carrier PSI 0.21 (bar 0.20)"
    )


def test_an_input_leads_when_the_late_share_held() -> None:
    alarm = drift_alarm(drift(0.25, {"block_minutes": 0.05, "dest": 0.31}))
    assert alarm == "drift: dest PSI 0.31 (bar 0.20); late share 23.6% in training, 25.0% in the last 7 days"
