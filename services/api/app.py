"""The prediction API: FastAPI on the live model, reloaded without restart when latest.txt changes."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
import json
import logging
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from importlib.resources import files
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import validation_error_definition, validation_error_response_definition
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi_offline import FastAPIOffline
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from flightdelay.config import Settings, get_settings
from flightdelay.errors import ModelCannotScore, NoLiveModel
from flightdelay.registry import Registry
from flightdelay.serving import Flights
from flightdelay.storage import open_store
from services.api.batcher import Answer, Batcher
from services.api.deps import Serving
from services.api.journal import AnswerLog
from services.api.limits import LimitRequests
from services.api.live import ConditionsFeed, LiveModel, Loaded, poll_forever
from services.api.metrics import ApiMetrics
from services.api.routes import model, ops, predict, status
from services.api.status import StatusCache

log = logging.getLogger(__name__)
SWITCH_INTERVAL_SECONDS = 0.001


def create_app(settings: Settings | None = None) -> FastAPI:
    """The app for these settings (from the environment when not given)."""
    settings = settings or get_settings()
    metrics = ApiMetrics()
    registry = Registry(open_store(settings.models_url, region=settings.aws_region))

    def on_reload(result: str, version: str | None) -> None:
        metrics.reloads.labels(result=result).inc()
        if result == "loaded" and version:
            metrics.model.info({"version": version})
        metrics.ready.set(0 if live.not_ready() else 1)

    live = LiveModel(registry, on_reload=on_reload)
    data = open_store(settings.data_url, region=settings.aws_region)
    feed = ConditionsFeed(data)
    answer_log = (
        AnswerLog(
            data,
            metrics,
            max_rows=settings.api_log_max_rows,
            flush_seconds=settings.api_log_flush_seconds,
            spill_dir=spill_dir(settings),
        )
        if settings.api_log_answers
        else None
    )

    def log_answer(flights: Flights, answer: Answer) -> None:
        assert answer_log is not None
        answer_log.record(
            flights,
            answer.probabilities,
            answer.known,
            model_version=answer.loaded.version,
            threshold=answer.loaded.manifest.threshold,
            conditions_as_of=answer.known_at,
        )

    def unscorable(loaded: Loaded, flights: int) -> None:
        live.note_unscorable(loaded, flights)
        metrics.ready.set(0 if live.not_ready() else 1)

    batcher = Batcher(
        lambda: live.current,
        lambda: feed.current,
        max_rows=settings.api_max_batch,
        observer=log_answer if answer_log else None,
        on_unscorable=unscorable,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await asyncio.to_thread(live.refresh)
        await asyncio.to_thread(feed.refresh)
        if live.current is None:
            log.warning("no model is live yet: /ready and /predict answer 503 until one is promoted")
        # What is loaded now lives as long as the process: kept out of the collector's sweeps, which
        # otherwise walked it in the middle of requests (a 10,000-flight batch: 125 or 245 ms).
        gc.collect()
        gc.freeze()
        # A thread that holds the GIL (the answer log's flush: ~55 ms for 30,000 answers) gives it
        # back every 1 ms instead of Python's 5: requests caught behind a flush wait a fifth as long
        # (paced p99 5.6-7.6 ms against 7.6-14 ms, bench/api.py), at no cost in requests/s measured.
        sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
        pollers = [
            asyncio.create_task(poll_forever(live.refresh, settings.api_poll_seconds), name="model-poller"),
            asyncio.create_task(
                poll_forever(feed.refresh, settings.api_poll_seconds), name="conditions-poller"
            ),
        ]
        if answer_log is not None:
            pollers.append(asyncio.create_task(answer_log.run(), name="answer-log"))
        batcher.start()
        try:
            yield
        finally:
            await batcher.stop()  # no new answers, then the answer log's last flush
            for poller in pollers:
                poller.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await poller

    # FastAPIOffline: /docs serves Swagger UI from the installed package, never from a CDN.
    app = FastAPIOffline(
        title="flightdelay",
        summary="Will this flight arrive 15 minutes late or more?",
        description="Predictions from the live model; see /model for what is serving.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.live = live
    app.state.conditions = feed
    app.state.batcher = batcher
    app.state.answer_log = answer_log
    app.state.registry = registry
    app.state.status = StatusCache(registry, data, max_age=settings.api_poll_seconds)
    app.state.metrics = metrics
    app.state.serving = Serving(live, batcher, settings, metrics)

    app.add_middleware(
        LimitRequests, max_body_bytes=settings.api_max_body_bytes, max_batch=settings.api_max_batch
    )
    app.add_middleware(MeasureRequests, metrics=metrics)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        """422 naming each field and the reason, with at most a short excerpt of what was sent; a
        body that is not JSON at all is a 400, as documented."""
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            where = next(e for e in errors if e.get("type") == "json_invalid").get("ctx", {}).get("error", "")
            return JSONResponse(status_code=400, content={"detail": f"the body is not valid JSON: {where}"})
        return JSONResponse(status_code=422, content={"detail": [_brief(e) for e in errors[:20]]})

    @app.exception_handler(NoLiveModel)
    async def nothing_live(request: Request, exc: NoLiveModel) -> JSONResponse:
        return JSONResponse(status_code=503, content={"detail": live.not_ready() or str(exc)})

    @app.exception_handler(ModelCannotScore)
    async def cannot_score(request: Request, exc: ModelCannotScore) -> JSONResponse:
        return JSONResponse(status_code=503, content={"detail": str(exc)})

    page = files("services.api").joinpath("static/index.html").read_text()

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def index() -> HTMLResponse:
        return HTMLResponse(page)

    app.include_router(predict.router)
    app.router.routes.insert(0, predict.SERVED)

    def openapi() -> dict[str, Any]:
        """FastAPI's schema, with the models /predict validates its body with (it reads it itself)."""
        schema = app.openapi_schema
        if schema is None:
            schema = FastAPI.openapi(app)  # kept in app.openapi_schema, extended here once
            schema["components"]["schemas"].update(
                {
                    **predict.OPENAPI_COMPONENTS,
                    "ValidationError": validation_error_definition,
                    "HTTPValidationError": validation_error_response_definition,
                }
            )
        return schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend the schema
    app.include_router(model.router)
    app.include_router(ops.router)
    app.include_router(status.router)
    return app


def spill_dir(settings: Settings) -> Path:
    """Where the answer log spills at shutdown: one folder per DATA store, so that a process only
    ever writes back answers meant for its own store."""
    if settings.api_log_spill_dir:
        return Path(settings.api_log_spill_dir)
    store = hashlib.sha256(settings.data_url.encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / "flightdelay-answers" / store


class MeasureRequests:
    """Count and time every request by route and status (pure ASGI: no per-request task or thread)."""

    def __init__(self, app: ASGIApp, *, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics
        # Each (route, status)'s counter and histogram, resolved once: few routes, few statuses.
        self._series: dict[tuple[str, str], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = "500"

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = str(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            series = self._series.get((route, status))
            if series is None:
                labels = {"route": route, "status": status}
                series = self.metrics.requests.labels(**labels), self.metrics.latency.labels(**labels)
                self._series[(route, status)] = series
            series[0].inc()
            series[1].observe(time.perf_counter() - started)


EXCERPT_CHARS = 60


def _brief(error: Any) -> dict[str, Any]:
    """One validation error as JSON that never fails to encode (NaN) and never echoes a large input."""
    out: dict[str, Any] = {
        "type": error.get("type"),
        "loc": list(error.get("loc", ())),
        "msg": error.get("msg"),
    }
    if "input" in error:
        value = error["input"]
        text = value if isinstance(value, str) else json.dumps(value, default=str)
        out["input"] = text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS] + "…"
    return out
