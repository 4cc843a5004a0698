"""The API under uvicorn: the connection limits it runs with, and a real server in a background
thread for the demo and the tests.

uvicorn closes a kept-alive connection that stays idle (``timeout_keep_alive``) and stops waiting for
running requests after ``timeout_graceful_shutdown``, but it waits for ever for a request's headers
and body: 250 clients sending a byte now and then held 250 connections (and file descriptors) for as
long as they liked. ``GuardedHttp`` is uvicorn's httptools protocol with a deadline for the headers
(from the connection's start or a request's first byte) and one for the body (from the headers), a
408 and a close when one passes, and a 503 and a close for a connection beyond ``max_connections``.
"""

from __future__ import annotations

import asyncio
import logging
import math
import socket
import threading
import time
from dataclasses import dataclass
from functools import cache
from typing import Any, ClassVar

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from flightdelay.config import Settings, get_settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConnectionLimits:
    header_seconds: float
    body_seconds: float
    idle_seconds: float
    max_connections: int
    shutdown_seconds: float

    @classmethod
    def of(cls, settings: Settings) -> ConnectionLimits:
        return cls(
            header_seconds=settings.api_header_timeout_seconds,
            body_seconds=settings.api_body_timeout_seconds,
            idle_seconds=settings.api_idle_timeout_seconds,
            max_connections=settings.api_max_connections,
            shutdown_seconds=settings.api_shutdown_timeout_seconds,
        )

    def uvicorn_options(self) -> dict[str, Any]:
        """What uvicorn enforces itself: the idle time between requests, the wait at shutdown."""
        return {
            "timeout_keep_alive": self.idle_seconds,
            "timeout_graceful_shutdown": self.shutdown_seconds,
        }


@cache
def _from_environment() -> ConnectionLimits:
    return ConnectionLimits.of(get_settings())


def _plain_response(status: bytes, text: bytes) -> bytes:
    return (
        b"HTTP/1.1 " + status + b"\r\ncontent-type: text/plain; charset=utf-8\r\nconnection: close\r\n"
        b"content-length: " + str(len(text)).encode() + b"\r\n\r\n" + text
    )


TOO_SLOW = {
    "headers": _plain_response(b"408 Request Timeout", b"the request's headers took too long"),
    "body": _plain_response(b"408 Request Timeout", b"the request's body took too long"),
}
TOO_MANY = _plain_response(b"503 Service Unavailable", b"too many connections: try again shortly")


class GuardedHttp(HttpToolsProtocol):
    """uvicorn's httptools protocol with header and body deadlines and a connection limit.

    A request only writes its deadline (a float); one sweep per server, a few times a second while
    connections are open, cuts those past theirs: a timer armed and cancelled per phase cost ~7 µs
    a request (measured under load), writing the deadlines ~0.6 µs."""

    limits: ClassVar[ConnectionLimits | None] = None  # None: FLIGHTDELAY_API_* of the environment

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._limits = self.limits or _from_environment()
        self._phase, self._deadline = "headers", math.inf

    @classmethod
    def with_limits(cls, limits: ConnectionLimits) -> type[GuardedHttp]:
        return type(cls.__name__, (cls,), {"limits": limits})

    def _arm(self, phase: str, seconds: float) -> None:
        self._phase, self._deadline = phase, self.loop.time() + seconds

    def _too_slow(self) -> None:
        self._deadline = math.inf
        if self.transport.is_closing():
            return
        if self.cycle is None or not self.cycle.response_started:
            self.transport.write(TOO_SLOW[self._phase])
        log.warning("connection cut", extra={"reason": f"slow {self._phase}", "client": self.client})
        self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]  # asyncio.Protocol takes a BaseTransport, as uvicorn does
        super().connection_made(transport)
        if len(self.connections) > self._limits.max_connections:
            transport.write(TOO_MANY)
            transport.close()
            return
        self._arm("headers", self._limits.header_seconds)  # a connection that never sends is cut too
        _Sweep.start(self.loop, self.connections, self._limits)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm("headers", self._limits.header_seconds)

    def on_headers_complete(self) -> None:
        self._arm("body", self._limits.body_seconds)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._deadline = math.inf
        super().on_message_complete()


class _Sweep:
    """Cuts a server's connections past their deadline, while it has any (one per server: its set
    of connections, which uvicorn shares between them)."""

    running: ClassVar[dict[int, _Sweep]] = {}

    def __init__(self, loop: asyncio.AbstractEventLoop, connections: set[Any], every: float) -> None:
        self.loop, self.connections, self.every = loop, connections, every

    @classmethod
    def start(cls, loop: asyncio.AbstractEventLoop, connections: set[Any], limits: ConnectionLimits) -> None:
        if id(connections) not in cls.running:
            every = min(1.0, max(0.05, min(limits.header_seconds, limits.body_seconds) / 5))
            sweep = cls.running[id(connections)] = cls(loop, connections, every)
            loop.call_later(every, sweep.run)

    def run(self) -> None:
        now = self.loop.time()
        for connection in list(self.connections):
            if isinstance(connection, GuardedHttp) and connection._deadline <= now:
                connection._too_slow()
        if self.connections:
            self.loop.call_later(self.every, self.run)
        else:
            del self.running[id(self.connections)]  # the next connection starts it again


class RunningServer:
    def __init__(self, app: Any, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self.port = self._sock.getsockname()[1]
        self.url = f"http://{host}:{self.port}"
        settings = getattr(getattr(app, "state", None), "settings", None)
        limits = ConnectionLimits.of(settings) if isinstance(settings, Settings) else _from_environment()
        config = uvicorn.Config(
            app,
            log_config=None,
            access_log=False,
            lifespan="on",
            http=GuardedHttp.with_limits(limits),
            **limits.uvicorn_options(),
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    def __enter__(self) -> RunningServer:
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the API server did not start")
            time.sleep(0.02)
        return self

    def wait(self) -> None:
        """Block until the server stops (Ctrl-C ends the process)."""
        while self._thread.is_alive():
            self._thread.join(timeout=0.5)

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)
        self._sock.close()
