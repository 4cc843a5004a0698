"""Object storage: one protocol, two backends that behave alike.

``S3Store`` talks to S3 (or any S3-compatible endpoint named by ``AWS_ENDPOINT_URL``);
``LocalStore`` keeps objects in a directory, the embedded default that needs no account.
Both pass the same contract tests (``tests/integration/test_storage_contract.py``).

ETags are opaque strings compared for equality: S3's quoted MD5 for S3, the same form computed
from the content for LocalStore.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlparse

from flightdelay.errors import ObjectNotFound, PreconditionFailed, StorageError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StoredObject:
    data: bytes
    etag: str


@runtime_checkable
class ObjectStore(Protocol):
    """What the rest of the system needs from a bucket."""

    @property
    def url(self) -> str: ...

    def get(self, key: str) -> StoredObject:
        """The object's bytes and ETag; ObjectNotFound when absent."""
        ...

    def get_if_changed(self, key: str, etag: str | None) -> StoredObject | None:
        """The object if its ETag differs from ``etag`` (a cheap conditional read), else None."""
        ...

    def put(self, key: str, data: bytes, *, if_match: str | None = None, if_absent: bool = False) -> str:
        """Write atomically and return the new ETag.

        ``if_match``: only if the current ETag equals it; ``if_absent``: only if the key does not
        exist. A lost condition raises PreconditionFailed and changes nothing, unless the object
        already holds exactly ``data``: then the write succeeds, so a retry of a write that landed
        (its response lost) is not mistaken for a conflict.
        """
        ...

    def exists(self, key: str) -> bool: ...

    def list(self, prefix: str = "") -> list[str]:
        """Every key under ``prefix`` (all pages), sorted."""
        ...

    def copy(self, src: str, dst: str) -> None: ...

    def delete(self, key: str) -> None:
        """Remove the key; deleting an absent key is not an error (as in S3)."""
        ...


def etag_of(data: bytes) -> str:
    """The ETag S3 gives a single-part upload: the quoted MD5 of the content."""
    return '"' + hashlib.md5(data, usedforsecurity=False).hexdigest() + '"'


def _clean_key(key: str, *, store: str) -> str:
    """Refuse keys that could escape the store's root or mean nothing."""
    path = PurePosixPath(key)
    if not key or key.startswith("/") or key.endswith("/") or "\\" in key or "\x00" in key:
        raise StorageError("invalid key", store=store, key=key)
    if any(part in ("..", ".", "") for part in key.split("/")) or path.parts[0].startswith(".fd-"):
        raise StorageError("invalid key", store=store, key=key)
    return key


class LocalStore:
    """Objects as files under a root directory.

    Writes go to a temporary file and are renamed into place, so a reader never sees half an
    object. Conditional writes hold an exclusive ``flock`` on one lock file while they compare and
    write, so two processes (or threads) cannot both win.
    """

    _TMP = ".fd-tmp"
    _LOCK = ".fd-lock"

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).expanduser().resolve()
        self._thread_lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"file://{self.root}"

    def __repr__(self) -> str:
        return f"LocalStore({str(self.root)!r})"

    def _path(self, key: str) -> Path:
        return self.root / _clean_key(key, store=self.url)

    def get(self, key: str) -> StoredObject:
        path = self._path(key)
        try:
            data = path.read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise ObjectNotFound(store=self.url, key=key) from None
        except OSError as exc:
            raise StorageError(f"read failed: {exc.strerror}", store=self.url, key=key) from exc
        return StoredObject(data, etag_of(data))

    def get_if_changed(self, key: str, etag: str | None) -> StoredObject | None:
        obj = self.get(key)
        return None if etag is not None and obj.etag == etag else obj

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        try:  # a read-only store fails here, before any conditional write
            self.root.mkdir(parents=True, exist_ok=True)
            handle = open(self.root / self._LOCK, "a+b")  # noqa: SIM115  # closed below
        except OSError as exc:
            raise StorageError(f"the store {self.url} cannot be written ({exc.strerror})") from None
        with self._thread_lock, handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _write(self, path: Path, data: bytes, key: str) -> None:
        tmp_dir = self.root / self._TMP
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp_dir.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(dir=tmp_dir)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(tmp_name, path)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp_name)
                raise
        except OSError as exc:
            raise StorageError(f"write failed: {exc.strerror}", store=self.url, key=key) from exc

    def put(self, key: str, data: bytes, *, if_match: str | None = None, if_absent: bool = False) -> str:
        path = self._path(key)
        if if_match is None and not if_absent:
            self._write(path, data, key)
            return etag_of(data)
        with self._locked():
            existing = path.read_bytes() if path.is_file() else None
            current = etag_of(existing) if existing is not None else None
            if existing == data and (if_absent or current != if_match):
                return etag_of(data)  # the same bytes again: what S3Store does after a lost response
            if if_absent and current is not None:
                raise PreconditionFailed(store=self.url, key=key, condition="key already exists")
            if if_match is not None and current != if_match:
                raise PreconditionFailed(store=self.url, key=key, condition="ETag changed")
            self._write(path, data, key)
        return etag_of(data)

    def list(self, prefix: str = "") -> list[str]:
        if not self.root.is_dir():
            return []
        keys = []
        for dirpath, dirnames, filenames in os.walk(self.root):
            if Path(dirpath) == self.root:
                dirnames[:] = [d for d in dirnames if d != self._TMP]
            for name in filenames:
                key = (Path(dirpath) / name).relative_to(self.root).as_posix()
                if key != self._LOCK and key.startswith(prefix):
                    keys.append(key)
        return sorted(keys)

    def copy(self, src: str, dst: str) -> None:
        self.put(dst, self.get(src).data)

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise StorageError(f"delete failed: {exc.strerror}", store=self.url, key=key) from exc


_NOT_FOUND = {"NoSuchKey", "404", "NotFound"}
_PRECONDITION = {"PreconditionFailed", "412", "ConditionalRequestConflict", "409"}


class S3Store:
    """Objects in an S3 bucket, optionally under a prefix (``s3://bucket/prefix``)."""

    def __init__(
        self, bucket: str, prefix: str = "", *, client: Any = None, region: str | None = None
    ) -> None:
        if client is None:
            import boto3

            client = boto3.client("s3", region_name=region)
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self._client = client

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}" + (f"/{self.prefix}" if self.prefix else "")

    def __repr__(self) -> str:
        return f"S3Store({self.url!r})"

    def _key(self, key: str) -> str:
        _clean_key(key, store=self.url)
        return f"{self.prefix}/{key}" if self.prefix else key

    @contextlib.contextmanager
    def _translated(self, key: str, action: str) -> Iterator[None]:
        """The one place an S3 failure becomes the core's error: not found, a refused condition,
        or a StorageError naming the action, the store and the key."""
        try:
            yield
        except StorageError:
            raise
        except Exception as exc:
            code = _s3_code(exc)
            if code in _NOT_FOUND:
                raise ObjectNotFound(store=self.url, key=key) from exc
            if code in _PRECONDITION:
                raise PreconditionFailed(store=self.url, key=key, condition=code) from exc
            reason = code or f"{type(exc).__name__}: {exc}"
            raise StorageError(f"{action} failed: {reason}", store=self.url, key=key) from exc

    def get(self, key: str) -> StoredObject:
        with self._translated(key, "get"):
            response = self._client.get_object(Bucket=self.bucket, Key=self._key(key))
            return StoredObject(response["Body"].read(), response["ETag"])

    def get_if_changed(self, key: str, etag: str | None) -> StoredObject | None:
        kwargs: dict[str, str] = {"Bucket": self.bucket, "Key": self._key(key)}
        if etag is not None:
            kwargs["IfNoneMatch"] = etag
        with self._translated(key, "get"):
            try:
                response = self._client.get_object(**kwargs)
            except Exception as exc:
                if _s3_code(exc) in {"304", "NotModified"}:
                    return None
                raise
            return StoredObject(response["Body"].read(), response["ETag"])

    def put(self, key: str, data: bytes, *, if_match: str | None = None, if_absent: bool = False) -> str:
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": self._key(key), "Body": data}
        if if_match is not None:
            kwargs["IfMatch"] = if_match
        if if_absent:
            kwargs["IfNoneMatch"] = "*"
        try:
            with self._translated(key, "put"):
                return str(self._client.put_object(**kwargs)["ETag"])
        except StorageError:
            # botocore retries a request whose response was lost; the retry of a conditional write
            # then meets the object its first attempt wrote (412), or every attempt times out after
            # reaching S3. Either way the write may have landed: read it back before failing.
            landed = self._holding(key, data)
            if landed is None:
                raise
            log.info("a write whose answer was lost had landed", extra={"store": self.url, "key": key})
            return landed

    def _holding(self, key: str, data: bytes) -> str | None:
        """The object's ETag if it holds exactly ``data``, else None (absent, other bytes, unreadable)."""
        try:
            obj = self.get(key)
        except StorageError:
            return None
        return obj.etag if obj.data == data else None

    def exists(self, key: str) -> bool:
        try:
            with self._translated(key, "head"):
                self._client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ObjectNotFound:
            return False
        return True

    def list(self, prefix: str = "") -> list[str]:
        full = f"{self.prefix}/{prefix}" if self.prefix else prefix
        strip = len(self.prefix) + 1 if self.prefix else 0
        keys: list[str] = []
        with self._translated(prefix, "list"):
            paginator = self._client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=full):
                keys.extend(item["Key"][strip:] for item in page.get("Contents", []))
        return sorted(keys)

    def copy(self, src: str, dst: str) -> None:
        with self._translated(src, "copy"):
            self._client.copy_object(
                Bucket=self.bucket,
                Key=self._key(dst),
                CopySource={"Bucket": self.bucket, "Key": self._key(src)},
            )

    def delete(self, key: str) -> None:
        with self._translated(key, "delete"):
            self._client.delete_object(Bucket=self.bucket, Key=self._key(key))


def _s3_code(exc: Exception) -> str:
    """The error code of a botocore ClientError ("NoSuchKey", "PreconditionFailed", "304"…), or ""."""
    response = getattr(exc, "response", None)
    return str(response.get("Error", {}).get("Code", "")) if isinstance(response, dict) else ""


def open_store(url: str, *, region: str | None = None) -> ObjectStore:
    """The store a URL names: ``s3://bucket[/prefix]``, ``file:///path`` or a plain path."""
    if url.startswith("s3://"):
        parsed = urlparse(url)
        if not parsed.netloc:
            raise StorageError("s3 URL needs a bucket name", store=url)
        return S3Store(parsed.netloc, parsed.path, region=region)
    if url.startswith("file://"):
        return LocalStore(urlparse(url).path)
    if "://" in url:
        raise StorageError("unsupported store URL (use s3://, file:// or a path)", store=url)
    return LocalStore(url)
