from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from services.api.deps import LiveDep, LiveModelDep, MetricsDep
from services.api.schemas import NOT_READY_RESPONSE, HealthOut

router = APIRouter(tags=["operations"])


@router.get("/health")
async def health(live: LiveDep) -> HealthOut:
    """The process is up (liveness: the load balancer's check); whether a model is serving, in the body."""
    loaded = live.current
    return HealthOut(status="ok", ready=loaded is not None, model_version=loaded.version if loaded else None)


@router.get("/ready", responses=NOT_READY_RESPONSE)
async def ready(loaded: LiveModelDep) -> dict[str, str]:
    """A model is loaded and predictions can be served (503 until the first promotion)."""
    return {"status": "ready", "model_version": loaded.version}


@router.get("/metrics", include_in_schema=False)
async def metrics(m: MetricsDep) -> Response:
    """Prometheus metrics."""
    return Response(generate_latest(m.registry), media_type=CONTENT_TYPE_LATEST)
