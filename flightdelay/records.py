"""The JSON records of the MODELS bucket: what a model is (its manifest) and what was decided about it.

registry.py reads and writes them (it alone knows where they lie); the evaluator fills in an
``Evaluation``; everything else only reads them.
"""

from __future__ import annotations

import platform
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Stage = Literal["staging", "prod"]
# Every outcome of an evaluation, promotion or rollback; each has one exit code (services/evaluator).
# A switch by hand is rolled_forward when its target was promoted after the version it replaces.
Verdict = Literal[
    "promoted", "rejected", "no_decision", "nothing_to_evaluate", "failed", "rolled_back", "rolled_forward"
]
# The verdicts that put a version live (a completed record's live_after).
SWITCHES: tuple[Verdict, ...] = ("promoted", "rolled_back", "rolled_forward")
ARTIFACT_NAME = "model.skops"


class FeatureColumn(BaseModel):
    """One model input as a manifest records it; a model whose inputs differ is refused."""

    model_config = ConfigDict(frozen=True)

    name: str
    dtype: str


class DataWindow(BaseModel):
    """A slice of flights a model was trained, validated or evaluated on."""

    start: date
    end: date
    rows: int
    base_rate: float = Field(description="share of flights arriving 15+ minutes late")
    days_with_data: int | None = Field(
        None, description="days of the window that hold flights, where counted"
    )


class ModelMetadata(BaseModel):
    """What the trainer knows about a model; the registry adds identity and checksum."""

    model_type: str
    feature_schema: list[FeatureColumn]
    threshold: float = Field(ge=0.0, le=1.0, description="decision threshold on P(delayed)")
    training_data: DataWindow
    validation_data: DataWindow | None = None
    metrics: dict[str, float] = Field(default_factory=dict, description="validation metrics")
    horizons: dict[str, dict[str, float]] = Field(
        default_factory=dict, description="validation metrics seen from each horizon (conditions.py)"
    )
    candidates: dict[str, dict[str, float]] = Field(default_factory=dict)
    params: dict[str, Any] = Field(default_factory=dict)
    python_version: str = Field(default_factory=platform.python_version)
    sklearn_version: str = ""
    git_commit: str | None = None


class Manifest(ModelMetadata):
    version: str
    sha256: str
    size_bytes: int
    created_at: datetime
    artifact: str = ARTIFACT_NAME


class Policy(BaseModel):
    """The promotion policy an evaluation applied (from the FLIGHTDELAY_EVAL_* settings)."""

    model_config = ConfigDict(frozen=True)

    min_rows: int
    min_roc_auc: float
    margin: float
    bootstrap_resamples: int
    bootstrap_seed: int


class Comparison(BaseModel):
    """ROC-AUC(candidate) − ROC-AUC(live) on the same flights, with its 95% bootstrap interval."""

    difference: float
    ci_low: float
    ci_high: float
    resamples: float


class Evaluation(BaseModel):
    """What an evaluator's verdict rests on: the window, the policy, both models' scores."""

    candidate: str
    live: str | None = None
    live_unusable: str | None = Field(None, description="why a live model exists but was not compared")
    window: DataWindow
    policy: Policy
    metrics: dict[str, dict[str, float]] = Field(
        default_factory=dict, description="by model: candidate, live"
    )
    comparison: Comparison | None = None
    horizons: dict[str, dict[str, dict[str, float]]] = Field(
        default_factory=dict, description="scores by model, then by horizon (days_ahead, 4h, 2h, 1h)"
    )


class Decision(BaseModel):
    """One verdict on one version, as stored under ``decisions/``."""

    id: str
    created_at: datetime
    verdict: Verdict
    version: str | None
    previous: str | None = Field(None, description="the live version before this decision")
    live_after: str | None = Field(None, description="the live version after this decision")
    reason: str
    source: str = "cli"
    details: Evaluation | None = Field(None, description="the evaluation, for an evaluator's decision")
    report_key: str | None = None
    pending: bool = Field(
        False, description="a switch recorded before latest.txt changes; completed or marked failed after"
    )
    switch_from: str | None = Field(None, description="while pending: the ETag of latest.txt it replaces")

    @field_validator("details", mode="before")
    @classmethod
    def _no_evaluation(cls, value: object) -> object:
        return None if value == {} else value  # records of promotions by hand hold an empty object


class LiveScores(BaseModel):
    """How the live model's answers about one set of flights compare with what happened."""

    flights: int = Field(description="answered flights whose outcome is known (the last answer each)")
    late_share: float
    mean_probability: float
    brier: float
    flag_accuracy: float = Field(description="share of flights whose yes/no flag was right")
    roc_auc: float | None = Field(None, description="None when the flights were all late or all on time")
    calibration_error: float | None = None


class Drift(BaseModel):
    """Recent flights against the live model's training data."""

    reference: DataWindow
    recent: DataWindow
    psi: dict[str, float] = Field(description="population stability index per model input")
    unknown_share: dict[str, float] = Field(
        description="share of recent flights with a value the model has never seen"
    )
    max_psi: float
    drifted: bool = Field(
        description="some input's PSI passed the threshold, or the late share moved by half of it"
    )
    threshold: float


class Monitoring(BaseModel):
    """One day of watching the live model, as stored under ``monitoring/`` (one record a day)."""

    day: date = Field(description="the departure day judged")
    created_at: datetime
    model_version: str | None = Field(description="the version that gave most of the day's answers")
    answers: int = Field(description="answers logged about the day's flights (all asks)")
    versions: dict[str, int] = Field(default_factory=dict, description="answered flights by model version")
    quality: LiveScores | None = Field(None, description="None when no answer met an outcome")
    by_origin: dict[str, LiveScores] = Field(default_factory=dict)
    by_carrier: dict[str, LiveScores] = Field(default_factory=dict)
    drift: Drift | None = None
    alarms: list[str] = Field(default_factory=list, description="what passed a bar, in words")
