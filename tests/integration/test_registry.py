"""The registry on both storage backends: staging, promotion, rollback, races and tampering."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from flightdelay.errors import (
    ModelIntegrityError,
    PromotionConflict,
    RegistryError,
    VersionNotFound,
)
from flightdelay.records import DataWindow, Evaluation, FeatureColumn, Policy
from flightdelay.registry import LATEST_KEY, Registry, make_version
from flightdelay.storage import LocalStore, ObjectStore
from tests.factories import BASE_TIME, artifact_bytes, metadata, staged


@pytest.fixture
def registry(store: ObjectStore) -> Registry:
    return Registry(store)


def test_stage_writes_artifact_and_manifest_with_checksum(registry: Registry) -> None:
    data = artifact_bytes()
    manifest = registry.stage(data, metadata(), now=BASE_TIME)
    assert manifest.version.startswith("20261122T101500Z-")
    assert manifest.size_bytes == len(data)
    assert registry.store.get(f"staging/{manifest.version}/model.skops").data == data
    assert registry.manifest(manifest.version).sha256 == manifest.sha256


def test_version_ids_sort_by_time() -> None:
    earlier = make_version("f" * 64, BASE_TIME)
    later = make_version("0" * 64, BASE_TIME.replace(hour=11))
    assert earlier < later


def test_staging_identical_bytes_twice_in_one_second_returns_the_same_version(registry: Registry) -> None:
    data = artifact_bytes()
    first = registry.stage(data, metadata(), now=BASE_TIME)
    again = registry.stage(data, metadata(), now=BASE_TIME)
    assert again.version == first.version
    assert len(registry.staged()) == 1


def test_staged_lists_newest_first(registry: Registry) -> None:
    first, second = staged(registry, 2)
    assert [m.version for m in registry.staged()] == [second.version, first.version]


def test_live_is_none_before_any_promotion(registry: Registry) -> None:
    assert registry.live() is None
    assert registry.live_version() is None


def test_first_promotion_copies_to_prod_and_writes_latest(registry: Registry) -> None:
    (m,) = staged(registry)
    decision = registry.promote(m.version, reason="first model")
    assert decision.verdict == "promoted"
    assert decision.previous is None
    assert registry.store.get(LATEST_KEY).data == f"prod/{m.version}/model.skops".encode()
    live = registry.live()
    assert live is not None
    assert live.version == m.version
    assert live.load() == {"model": 0}


def test_promotion_records_a_decision_with_its_evaluation(registry: Registry) -> None:
    a, b = staged(registry, 2)
    registry.promote(a.version, reason="first")
    evaluation = Evaluation(
        candidate=b.version,
        live=a.version,
        window=DataWindow(start=date(2013, 12, 1), end=date(2013, 12, 7), rows=600, base_rate=0.2),
        policy=Policy(min_rows=500, min_roc_auc=0.6, margin=0.005, bootstrap_resamples=100, bootstrap_seed=1),
        metrics={"candidate": {"roc_auc": 0.71}},
    )
    registry.promote(b.version, reason="better", details=evaluation)
    latest = registry.decisions()[0]
    assert latest.version == b.version
    assert latest.previous == a.version
    assert latest.details == evaluation
    assert registry.decisions()[1].details is None  # a promotion by hand rests on no evaluation


def test_promoting_an_unknown_version_is_refused(registry: Registry) -> None:
    with pytest.raises(VersionNotFound, match="nope"):
        registry.promote("nope", reason="x")
    assert registry.live_version() is None


def test_promoting_the_live_version_again_is_refused(registry: Registry) -> None:
    (m,) = staged(registry)
    registry.promote(m.version, reason="first")
    with pytest.raises(RegistryError, match="already live"):
        registry.promote(m.version, reason="again")


def test_tampered_staged_artifact_is_refused_and_nothing_switches(registry: Registry) -> None:
    a, b = staged(registry, 2)
    registry.promote(a.version, reason="first")
    registry.store.put(f"staging/{b.version}/model.skops", artifact_bytes({"evil": True}))
    with pytest.raises(ModelIntegrityError, match=b.version):
        registry.promote(b.version, reason="tampered")
    assert registry.live_version() == a.version
    assert not registry.store.exists(f"prod/{b.version}/model.skops")


def test_tampered_live_artifact_fails_loading_with_the_version(registry: Registry) -> None:
    (m,) = staged(registry)
    registry.promote(m.version, reason="first")
    registry.store.put(f"prod/{m.version}/model.skops", b"not the same bytes")
    with pytest.raises(ModelIntegrityError, match=rf"{m.version}: size"):
        registry.live()


def test_loading_with_a_different_feature_schema_is_refused(registry: Registry) -> None:
    (m,) = staged(registry)
    other = [FeatureColumn(name="origin", dtype="category")]
    with pytest.raises(ModelIntegrityError, match="feature schema"):
        registry.artifact(m.version, expected_features=other)


def test_two_promoters_racing_exactly_one_switches_latest(registry: Registry) -> None:
    base, a, b = staged(registry, 3)
    registry.promote(base.version, reason="first")
    barrier = threading.Barrier(2)
    original_switch = registry._switch

    def slow_switch(*args: object, **kwargs: object) -> None:
        barrier.wait()  # both have read latest.txt and copied before either switches
        original_switch(*args, **kwargs)  # type: ignore[arg-type]  # forwarding the real call unchanged

    registry._switch = slow_switch  # type: ignore[method-assign]  # a test seam: hold both promoters at the switch

    def attempt(version: str) -> str:
        try:
            registry.promote(version, reason="race")
        except PromotionConflict as exc:
            return f"conflict: {exc}"
        return "won"

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = list(pool.map(attempt, [a.version, b.version]))
    assert sorted(o.split(":")[0] for o in outcomes) == ["conflict", "won"]
    winner = a.version if outcomes[0] == "won" else b.version
    assert registry.live_version() == winner
    promotions = [d for d in registry.decisions() if d.verdict == "promoted"]
    assert [d.version for d in promotions] == [winner, base.version]


def test_rollback_goes_to_the_previous_promoted_version(registry: Registry) -> None:
    a, b = staged(registry, 2)
    registry.promote(a.version, reason="first")
    registry.promote(b.version, reason="second")
    decision = registry.rollback()
    assert decision.verdict == "rolled_back"
    assert (decision.previous, decision.version) == (b.version, a.version)
    assert registry.live_version() == a.version


def test_rollback_returns_to_the_version_live_before_not_the_newest_older_id(registry: Registry) -> None:
    a, b, c = staged(registry, 3)  # ids sort a < b < c
    for m in (a, c, b):  # promoted in the order A, C, then B
        registry.promote(m.version, reason="step")
    decision = registry.rollback()
    assert decision.version == c.version  # C was live before B, though B's id is older than C's
    assert registry.live_version() == c.version


def test_a_second_rollback_goes_further_back_not_forth(registry: Registry) -> None:
    a, b, c = staged(registry, 3)
    for m in (a, b, c):
        registry.promote(m.version, reason="step")
    registry.rollback()
    assert registry.live_version() == b.version
    registry.rollback()
    assert registry.live_version() == a.version
    with pytest.raises(RegistryError, match="nothing was live before"):
        registry.rollback()


def test_rollback_to_a_named_version(registry: Registry) -> None:
    a, b, c = staged(registry, 3)
    for m in (a, b, c):
        registry.promote(m.version, reason="step")
    registry.rollback(to=a.version)
    assert registry.live_version() == a.version


def test_switching_to_a_version_promoted_later_is_a_roll_forward(registry: Registry) -> None:
    a, b, c = staged(registry, 3)
    for m in (a, b, c):
        registry.promote(m.version, reason="step")
    back = registry.rollback()
    assert (back.verdict, back.version) == ("rolled_back", b.version)
    back = registry.rollback(to=a.version)
    assert (back.verdict, back.version) == ("rolled_back", a.version)
    forward = registry.rollback(to=c.version)  # C was promoted after A: undoing the rollbacks
    assert (forward.verdict, forward.previous, forward.version) == ("rolled_forward", a.version, c.version)
    assert registry.live_version() == c.version
    assert registry.rollback().version == b.version  # still back along C's promotion, not to A


def test_rollback_to_an_unknown_or_unpromoted_version_is_refused(registry: Registry) -> None:
    a, b = staged(registry, 2)
    registry.promote(a.version, reason="first")
    with pytest.raises(VersionNotFound):
        registry.rollback(to="20990101T000000Z-deadbeef")
    with pytest.raises(VersionNotFound):
        registry.rollback(to=b.version)  # staged, never promoted
    assert registry.live_version() == a.version


def test_rollback_with_nothing_earlier_is_refused(registry: Registry) -> None:
    with pytest.raises(RegistryError, match="nothing is live"):
        registry.rollback()
    (a,) = staged(registry)
    registry.promote(a.version, reason="first")
    with pytest.raises(RegistryError, match="nothing was live before"):
        registry.rollback()


def test_decisions_are_append_only_and_newest_first(registry: Registry) -> None:
    a, b = staged(registry, 2)
    registry.promote(a.version, reason="first")
    registry.promote(b.version, reason="second")
    registry.rollback()
    verdicts = [(d.verdict, d.version) for d in registry.decisions()]
    assert verdicts == [("rolled_back", a.version), ("promoted", b.version), ("promoted", a.version)]
    assert len(registry.store.list("decisions/")) == 3


# --- S3 answers lost between the request and the response (moto, real S3 semantics) -------------


@pytest.fixture
def faulty(moto_endpoint: str, s3_bucket: str) -> tuple[Registry, Any]:
    """A registry on moto S3 and the boto3 client under it, to lose responses on."""
    from tests.faults import faulty_s3_store

    store, client = faulty_s3_store(moto_endpoint, s3_bucket, prefix="models")
    return Registry(store), client


def test_a_lost_response_on_the_latest_switch_is_a_recorded_promotion_not_a_conflict(
    faulty: tuple[Registry, Any],
) -> None:
    from tests.faults import lose_responses

    registry, client = faulty
    a, b = staged(registry, 2)
    registry.promote(a.version, reason="first")
    lost = lose_responses(client, key=lambda path: path.endswith("/latest.txt"))
    decision = registry.promote(b.version, reason="second")
    assert lost.lost
    assert (decision.verdict, decision.previous, decision.version) == ("promoted", a.version, b.version)
    assert registry.live_version() == b.version
    assert [d.version for d in registry.decisions() if d.verdict == "promoted"] == [b.version, a.version]
    assert registry.rollback().version == a.version  # the history knows what was live before


def test_a_lost_response_on_any_create_only_write_of_a_promotion_is_harmless(
    faulty: tuple[Registry, Any],
) -> None:
    from tests.faults import lose_responses

    registry, client = faulty
    (a,) = staged(registry)
    lost = lose_responses(
        client, key=lambda path: "/prod/" in path or "/decisions/" in path or path.endswith("/latest.txt")
    )
    decision = registry.promote(a.version, reason="first")
    assert len(lost.lost) == 4  # the artifact, its manifest, latest.txt (created) and the decision
    assert registry.live_version() == a.version
    assert registry.decisions() == [decision]


def test_a_lost_response_while_staging_stages_once(faulty: tuple[Registry, Any]) -> None:
    from tests.faults import lose_responses

    registry, client = faulty
    lost = lose_responses(client, key=lambda path: "/staging/" in path)
    (m,) = staged(registry)
    assert len(lost.lost) == 2
    assert registry.artifact(m.version).manifest == m


def test_rollback_follows_the_order_of_the_store_not_a_skewed_clock(registry: Registry) -> None:
    a, x, b = staged(registry, 3)
    day = timedelta(days=1)
    registry.promote(a.version, reason="1", now=BASE_TIME + day)
    registry.promote(x.version, reason="2", now=BASE_TIME + 2 * day)  # live before: a
    registry.promote(b.version, reason="3", now=BASE_TIME + 3 * day)
    skewed = "4, on a host whose clock is days behind"
    registry.promote(x.version, reason=skewed, now=BASE_TIME)
    assert registry.decisions()[0].reason == skewed
    decision = registry.rollback()
    assert decision.version == b.version  # live before the last promotion of x, not before the first
    assert [d.reason for d in registry.decisions()[:2]] == [decision.reason, skewed]


# --- a promoter killed (SIGKILL) between its steps -------------------------------------------------

_STOPPED_AFTER_WRITING = """
import sys, time
from flightdelay.registry import Registry
from flightdelay.storage import LocalStore

store = LocalStore(sys.argv[1])
put = store.put

def put_then_stop(key, data, **kwargs):
    etag = put(key, data, **kwargs)
    if key.startswith(sys.argv[3]):
        print("written", key, flush=True)
        time.sleep(600)  # killed here by the test
    return etag

store.put = put_then_stop
Registry(store).promote(sys.argv[2], reason="killed midway")
"""


def _promote_and_kill_after_writing(root: Path, version: str, key_prefix: str) -> None:
    """A real promoter process, SIGKILLed right after its write of a key under ``key_prefix``."""
    repo = Path(__file__).resolve().parents[2]
    process = subprocess.Popen(
        [sys.executable, "-c", _STOPPED_AFTER_WRITING, str(root), version, key_prefix],
        cwd=repo,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().startswith("written")
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def test_a_promoter_killed_between_the_switch_and_its_record_is_completed_by_the_next_run(
    tmp_path: Path,
) -> None:
    registry = Registry(LocalStore(tmp_path))
    a, b = staged(registry, 2)
    registry.promote(a.version, reason="first")
    _promote_and_kill_after_writing(tmp_path, b.version, "latest.txt")
    assert registry.live_version() == b.version  # switched, then killed
    decision = registry.rollback()  # the next run completes the promotion first, so it knows a
    assert (decision.previous, decision.version) == (b.version, a.version)
    history = registry.decisions()
    assert [(d.verdict, d.version, d.pending) for d in history] == [
        ("rolled_back", a.version, False),
        ("promoted", b.version, False),
        ("promoted", a.version, False),
    ]
    assert "completed by a later run" in history[1].reason


def test_a_promoter_killed_before_the_switch_changes_nothing_and_is_marked_failed(tmp_path: Path) -> None:
    registry = Registry(LocalStore(tmp_path))
    a, b, c = staged(registry, 3)
    registry.promote(a.version, reason="first")
    _promote_and_kill_after_writing(tmp_path, b.version, "decisions/")  # its pending record
    assert registry.live_version() == a.version
    registry.promote(c.version, reason="next")
    registry.recover()  # latest.txt has moved on: b's switch can never happen
    history = registry.decisions()
    assert [(d.verdict, d.version, d.pending) for d in history] == [
        ("promoted", c.version, False),
        ("failed", b.version, False),
        ("promoted", a.version, False),
    ]
    assert "nothing was switched" in history[1].reason
    assert registry.rollback().version == a.version
