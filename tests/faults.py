"""Faults injected between a request and its response, on a real S3 (moto over HTTP).

``lose_responses`` makes chosen PutObject requests reach the server and take effect, then raises
the timeout a client sees when the answer never comes back. botocore then retries as it would in
production: a create-only or conditional retry meets the object its own first attempt wrote.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import ReadTimeoutError
from botocore.httpsession import URLLib3Session

from flightdelay.storage import S3Store
from tests.conftest import s3_client


class LostResponses:
    """Counts the requests whose answer was dropped (``lost``), by key."""

    def __init__(self) -> None:
        self.lost: list[str] = []


def lose_responses(
    client: Any, *, key: Callable[[str], bool], times: int = 1, operation: str = "PutObject"
) -> LostResponses:
    """The first ``times`` requests of ``operation`` on each key matching ``key`` are performed,
    then their responses are lost (ReadTimeoutError), as a dropped connection would do."""
    record = LostResponses()
    session = URLLib3Session()

    def perform_then_lose(request: Any, **_: Any) -> None:
        path = request.url.split("?", 1)[0]
        if key(path) and record.lost.count(path) < times:
            session.send(request)  # the request reaches S3 and takes effect
            record.lost.append(path)
            raise ReadTimeoutError(endpoint_url=request.url)
        # otherwise botocore sends the request itself

    client.meta.events.register(f"before-send.s3.{operation}", perform_then_lose)
    return record


def faulty_s3_store(endpoint: str, bucket: str, *, prefix: str = "", **config: Any) -> tuple[S3Store, Any]:
    """An S3Store on the moto server and the boto3 client it uses (to hook faults onto)."""
    client = s3_client(endpoint, **config)
    return S3Store(bucket, prefix, client=client), client
