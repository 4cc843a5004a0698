"""Request limits, enforced before a body is parsed: its size (413) and the batch length (422).

A pure ASGI middleware: a body whose Content-Length is over the limit is refused before a byte of
it is read; a chunked body is counted as it arrives, cut off as soon as it passes the limit, and
answered with a 413 whatever the app made of the cut.
The batch limit travels to the body's validator in a context variable, so an oversized batch is
refused before any of its rows is validated.
"""

from __future__ import annotations

import json
from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BATCH: ContextVar[int] = ContextVar("max_batch", default=10_000)


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
            await self._refuse(send)
            return
        received = 0
        too_large = False

        async def counted() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    too_large = True  # whatever the app makes of it, the answer is a 413
                    return {"type": "http.disconnect"}
            return message

        async def answer(message: Message) -> None:
            if not too_large:
                await send(message)
            elif message["type"] == "http.response.start":
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
