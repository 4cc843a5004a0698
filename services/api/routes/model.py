from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from fastapi import APIRouter, Request

from services.api.deps import LiveDep
from services.api.schemas import LiveQualityOut, ModelOut
from services.api.status import QualityPoint, StatusCache

CARD_DAYS = 7

router = APIRouter(prefix="/model", tags=["operations"])


@router.get("", response_model=ModelOut)
async def live_model(live: LiveDep, request: Request) -> ModelOut:
    """The live model's manifest, the last reload attempt and its result, and its quality on real
    outcomes over the last watched days."""
    loaded = live.current
    if loaded is None:
        return ModelOut(version=None, last_reload=live.last_reload)
    m = loaded.manifest
    return ModelOut(
        version=m.version,
        model_type=m.model_type,
        threshold=m.threshold,
        metrics={k: v for k, v in m.metrics.items() if k not in ("rows", "threshold")},
        trained_on=m.training_data.model_dump(mode="json"),
        created_at=m.created_at,
        promoted_at=loaded.promoted_at,
        loaded_at=loaded.loaded_at,
        last_reload=live.last_reload,
        live_quality=await _live_quality(request, m.version),
    )


async def _live_quality(request: Request, version: str) -> LiveQualityOut | None:
    cache: StatusCache = request.app.state.status
    try:
        status = await asyncio.to_thread(cache.get, datetime.now(UTC))
    except Exception:  # the card never fails for want of monitoring records
        return None
    points = [p for p in status.quality if p.model_version == version][-CARD_DAYS:]
    return summarize(points)


def summarize(points: list[QualityPoint]) -> LiveQualityOut | None:
    if not points:
        return None
    flights = sum(p.flights for p in points)
    aucs = [p.roc_auc for p in points if p.roc_auc is not None]
    return LiveQualityOut(
        days=len(points),
        first_day=points[0].day,
        last_day=points[-1].day,
        flights=flights,
        roc_auc=round(sum(aucs) / len(aucs), 4) if aucs else None,
        flag_accuracy=round(sum(p.flag_accuracy * p.flights for p in points) / flights, 4),
        late_share=round(sum(p.late_share * p.flights for p in points) / flights, 4),
        mean_probability=round(sum(p.mean_probability * p.flights for p in points) / flights, 4),
    )
