from __future__ import annotations

from fastapi import APIRouter

from services.api.deps import LiveDep
from services.api.schemas import ModelOut

router = APIRouter(prefix="/model", tags=["operations"])


@router.get("", response_model=ModelOut)
async def live_model(live: LiveDep) -> ModelOut:
    """The live model's manifest, and the last reload attempt and its result."""
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
    )
