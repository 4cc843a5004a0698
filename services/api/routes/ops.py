from __future__ import annotations

from fastapi import APIRouter, HTTPException, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from services.api.deps import LiveDep, MetricsDep
from services.api.schemas import NOT_READY_RESPONSE, HealthOut

router = APIRouter(tags=["operations"])


@router.get("/health")
async def health(live: LiveDep) -> HealthOut:
    """The process is up (liveness: the load balancer's check); whether a model is serving, in the body."""
    loaded = live.current
    return HealthOut(status="ok", ready=loaded is not None, model_version=loaded.version if loaded else None)


@router.get("/ready", responses=NOT_READY_RESPONSE)
async def ready(live: LiveDep) -> dict[str, str]:
    """A model is loaded and scores (503 until the first promotion, or while the live model answers NaN)."""
    reason = live.not_ready()
    if reason is not None or live.current is None:
        raise HTTPException(status_code=503, detail=reason)
    return {"status": "ready", "model_version": live.current.version}


@router.get("/metrics", include_in_schema=False)
async def metrics(m: MetricsDep) -> Response:
    """Prometheus metrics."""
    return Response(generate_latest(m.registry), media_type=CONTENT_TYPE_LATEST)
