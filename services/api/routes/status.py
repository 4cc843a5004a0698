from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse

from services.api.status import Status, StatusCache, render

router = APIRouter(tags=["operations"])


async def _status(request: Request) -> Status:
    cache: StatusCache = request.app.state.status
    return await asyncio.to_thread(cache.get, datetime.now(UTC))


@router.get("/status.json")
async def status_data(request: Request) -> Status:
    """What is live and since when, its quality on real outcomes by day, drift, the decisions and
    the last run of each stage: the data behind /status."""
    return await _status(request)


@router.get("/status", response_class=HTMLResponse)
async def status_page(request: Request) -> HTMLResponse:
    """The status page: /status.json for people, with a plot of live quality (no external request)."""
    return HTMLResponse(render(await _status(request)))


@router.get(
    "/reports/{decision_id}", response_class=HTMLResponse, responses={404: {"description": "No such report"}}
)
async def report(decision_id: str, request: Request) -> HTMLResponse:
    """The HTML report of a decision (linked from /status)."""
    page = await asyncio.to_thread(request.app.state.registry.report, decision_id)
    if page is None:
        raise HTTPException(status_code=404, detail="no report for this decision")
    return HTMLResponse(page)
