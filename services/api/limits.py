"""Request limits, enforced before a body is parsed: its size (413) and the batch length (422).

A pure ASGI middleware: a body whose Content-Length is over the limit is refused before any of it is
parsed; a chunked body is counted as it arrives, cut off as soon as it passes the limit, and
answered with a 413 whatever the app made of the cut. Before the 413 the rest of the body is read
and discarded, up to DISCARD_BYTES and DISCARD_SECONDS: a client that sends its whole body before
reading (urllib: the project's own apiclient) otherwise met a connection reset, the 413 unread in
its socket. A body larger than that is refused at once, the connection closed.
The batch limit travels to the body's validator in a context variable, so an oversized batch is
refused before any of its rows is validated.
"""

from __future__ import annotations

import asyncio
import json
from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BATCH: ContextVar[int] = ContextVar("max_batch", default=10_000)
# How much of an oversized body is read (and thrown away) so that its sender can read the 413.
DISCARD_BYTES = 64 * 1024 * 1024
DISCARD_SECONDS = 10.0


class LimitRequests:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int, max_batch: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_batch = max_batch

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        MAX_BATCH.set(self.max_batch)
        length = dict(scope["headers"]).get(b"content-length", b"")
        if length.isdigit() and int(length) > self.max_body_bytes:
            if int(length) <= DISCARD_BYTES:
                await _discard(receive, more=True)
            await self._refuse(send)
            return
        received = 0
        too_large = more = False

        async def counted() -> Message:
            nonlocal received, too_large, more
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    too_large = True  # whatever the app makes of it, the answer is a 413
                    more = message.get("more_body", False)
                    return {"type": "http.disconnect"}
            return message

        async def answer(message: Message) -> None:
            if not too_large:
                await send(message)
            elif message["type"] == "http.response.start":
                await _discard(receive, more=more, already=received)
                await self._refuse(send)

        await self.app(scope, counted, answer)

    async def _refuse(self, send: Send) -> None:
        detail = (
            f"the request body is larger than {self.max_body_bytes} bytes (FLIGHTDELAY_API_MAX_BODY_BYTES)"
        )
        body = json.dumps({"detail": detail}).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})


async def _discard(receive: Receive, *, more: bool, already: int = 0) -> None:
    """Read the rest of a request body and drop it, up to DISCARD_BYTES in all and DISCARD_SECONDS."""
    loop = asyncio.get_running_loop()
    deadline, read = loop.time() + DISCARD_SECONDS, already
    while more and read <= DISCARD_BYTES:
        try:
            message = await asyncio.wait_for(receive(), max(0.0, deadline - loop.time()))
        except TimeoutError:
            return
        if message["type"] != "http.request":
            return  # the client left
        read += len(message.get("body", b""))
        more = message.get("more_body", False)
