"""Fixtures shared by every test: a clean environment, and object stores on both backends."""

from __future__ import annotations

import fcntl
import os
import pickle
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from flightdelay.storage import LocalStore, ObjectStore, S3Store

if os.environ.get("PYTEST_XDIST_WORKER"):
    # Two workers on two cores: each scikit-learn fit or predict starts an OpenMP thread per core,
    # and one worker's spinning threads steal the other's core (measured: the evaluator and training
    # tests 120 s -> 88 s, CPU 213 -> 142 s). One thread per worker, inherited by every process a
    # test starts; read when the OpenMP runtime loads, so before scikit-learn is first imported.
    os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture(scope="session", autouse=True)
def _no_writes_to_the_checkout(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Module-scoped servers start before each test's clean environment: their answer logs go to a
    session directory too, never the checkout's ./.flightdelay (the default DATA store)."""
    before = os.environ.get("FLIGHTDELAY_DATA_URL")
    os.environ["FLIGHTDELAY_DATA_URL"] = str(tmp_path_factory.mktemp("session-data"))
    yield
    if before is None:
        os.environ.pop("FLIGHTDELAY_DATA_URL", None)
    else:
        os.environ["FLIGHTDELAY_DATA_URL"] = before


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No FLIGHTDELAY_* variable of the developer's shell leaks into a test; AWS is fake; a test
    that names no DATA store writes (the API's answer log) under its own directory, never the
    checkout's ./.flightdelay."""
    for name in list(os.environ):
        if name.startswith("FLIGHTDELAY_") or name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("FLIGHTDELAY_DATA_URL", str(tmp_path / "default-data"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A real moto S3 server on loopback, shared by the session (each test gets its own bucket)."""
    from moto.server import ThreadedMotoServer

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def s3_client(endpoint: str, **config: Any) -> Any:
    """A boto3 S3 client on the endpoint; ``config``: botocore Config fields (e.g. retries)."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(**config) if config else None,
    )


@pytest.fixture
def s3_bucket(moto_endpoint: str) -> str:
    name = f"test-{uuid.uuid4().hex[:12]}"
    s3_client(moto_endpoint).create_bucket(Bucket=name)
    return name


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    """The same tests run against LocalStore and S3Store (moto over real HTTP)."""
    if request.param == "local":
        return LocalStore(tmp_path / "store")
    endpoint = request.getfixturevalue("moto_endpoint")
    bucket = request.getfixturevalue("s3_bucket")
    return S3Store(bucket, "some/prefix", client=s3_client(endpoint))


# For a test whose subject does not depend on the backend (a policy's verdict, a model's quality):
# the `store` fixture on the local store only. What does depend on it (writes, switches, races,
# listings and the order of records) keeps both.
on_the_local_store = pytest.mark.parametrize("store", ["local"], indirect=True)


# --- models trained once per test run ------------------------------------------------------------


@pytest.fixture(scope="session")
def shared_models(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Any]:
    """A model of each kind (`hgb`, `lr`: tests/factories.py, SHARED_MODELS), trained once per run and
    shared by every test module and both xdist workers: the first to ask trains it under a file
    lock, the others unpickle what it wrote (a fit takes seconds; loading it, milliseconds)."""
    from tests.factories import SHARED_MODELS

    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # the workers' common folder
    loaded: dict[str, Any] = {}

    def get(kind: str) -> Any:
        if kind not in loaded:
            path = root / f"shared-model-{kind}.pickle"
            with (root / f"shared-model-{kind}.lock").open("w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
                if not path.exists():
                    partial = path.with_suffix(".partial")
                    partial.write_bytes(pickle.dumps(SHARED_MODELS[kind]()))
                    partial.rename(path)
                loaded[kind] = pickle.loads(path.read_bytes())  # noqa: S301  # written by this run
        return loaded[kind]

    return get
