from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from services.api.deps import LiveModelDep, MetricsDep
from services.api.schemas import NOT_READY_RESPONSE

router = APIRouter(tags=["operations"])


@router.get("/health")
async def health() -> dict[str, str]:
    """The process is up (liveness)."""
    return {"status": "ok"}


@router.get("/ready", responses=NOT_READY_RESPONSE)
async def ready(loaded: LiveModelDep) -> dict[str, str]:
    """A model is loaded and predictions can be served (the load balancer's health check)."""
    return {"status": "ready", "model_version": loaded.version}


@router.get("/metrics", include_in_schema=False)
async def metrics(m: MetricsDep) -> Response:
    """Prometheus metrics."""
    return Response(generate_latest(m.registry), media_type=CONTENT_TYPE_LATEST)
