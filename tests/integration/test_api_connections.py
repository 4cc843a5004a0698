"""Slow and idle clients against the API under a real uvicorn, with real sockets: each is cut after
its deadline (a 408 where a request had begun), connections past the limit get a 503 at once, and
the service keeps answering the others."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from flightdelay.config import get_settings
from flightdelay.registry import Registry
from flightdelay.storage import LocalStore
from services.api.app import create_app
from services.api.server import RunningServer
from tests.factories import BASE_TIME, stage_model

LIMITS = {
    "api_header_timeout_seconds": 0.5,
    "api_body_timeout_seconds": 0.5,
    "api_idle_timeout_seconds": 0.5,
    "api_max_connections": 60,
}


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, shared_models: Callable[[str], Any]
) -> Iterator[RunningServer]:
    models = tmp_path_factory.mktemp("models")
    registry = Registry(LocalStore(models))
    registry.promote(stage_model(registry, shared_models("lr"), now=BASE_TIME).version, reason="slow clients")
    settings = get_settings(models_url=str(models), **LIMITS)
    with RunningServer(create_app(settings)) as running:
        yield running


def connect(server: RunningServer) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=5)


def until_closed(sock: socket.socket, *, drip: bytes = b"", every: float = 0.1, within: float = 5) -> bytes:
    """Everything the server sends until it closes the connection (dripping ``drip`` byte by byte
    meanwhile); fails if it is still open after ``within`` seconds."""
    received, deadline = b"", time.monotonic() + within
    sock.settimeout(every)
    while time.monotonic() < deadline:
        if drip:
            with contextlib.suppress(OSError):  # the server may have closed already
                sock.sendall(drip[:1])
            drip = drip[1:]
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        except ConnectionResetError:
            return received
        if not chunk:
            return received
        received += chunk
    raise AssertionError(f"still open after {within} s (received {received[:80]!r})")


def test_a_connection_that_never_sends_is_closed(server: RunningServer) -> None:
    with connect(server) as sock:
        started = time.monotonic()
        until_closed(sock, within=3)
    assert 0.4 < time.monotonic() - started < 3


def test_headers_sent_a_byte_at_a_time_are_cut_with_a_408(server: RunningServer) -> None:
    request = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200 + b"\r\n\r\n"
    with connect(server) as sock:
        answer = until_closed(sock, drip=request, every=0.05, within=4)
    assert answer.startswith(b"HTTP/1.1 408")


def test_a_body_that_stops_coming_is_cut_with_a_408(server: RunningServer) -> None:
    with connect(server) as sock:
        sock.sendall(
            b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 1000\r\n\r\n{"carrier": '
        )
        answer = until_closed(sock, within=4)
    assert answer.startswith(b"HTTP/1.1 408")
    assert b"body took too long" in answer


def test_a_kept_alive_connection_left_idle_is_closed(server: RunningServer) -> None:
    with connect(server) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = until_closed(sock, within=3)
    assert answer.startswith(b"HTTP/1.1 200")


def test_250_slow_clients_are_refused_or_cut_and_the_api_keeps_answering(server: RunningServer) -> None:
    """Past the limit (60 here) a connection gets a 503 at once; the others are cut at their header
    deadline: none stays open, and a client arriving after them is served."""
    socks = [connect(server) for _ in range(250)]
    try:
        for sock in socks:
            sock.sendall(b"GET /health HTTP/1.1\r\n")  # and never the rest
        answers = [until_closed(sock, within=5) for sock in socks]
    finally:
        for sock in socks:
            sock.close()
    refused = [a for a in answers if a.startswith(b"HTTP/1.1 503")]
    cut = [a for a in answers if a.startswith(b"HTTP/1.1 408")]
    assert len(refused) >= 250 - LIMITS["api_max_connections"]
    assert len(refused) + len(cut) == 250
    assert httpx.get(f"{server.url}/health", timeout=5).status_code == 200
