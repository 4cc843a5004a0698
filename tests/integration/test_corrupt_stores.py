"""Bad files in the MODELS store: the registry names them, the API still starts and says why, the CLI
prints one line, and the evaluator goes on (issue: hardening, item 1)."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from flightdelay import datasets
from flightdelay.config import get_settings
from flightdelay.errors import CorruptRecord, ModelIntegrityError
from flightdelay.features import feature_schema
from flightdelay.registry import LATEST_KEY, Registry, dumps
from flightdelay.storage import LocalStore, ObjectStore
from services.api.app import create_app
from services.api.server import RunningServer
from services.evaluator.evaluate import evaluate
from tests.factories import (
    BASE_TIME,
    TEST_TYPES,
    NoisyModel,
    artifact_bytes,
    metadata,
    stage_model,
    staged,
    write_days,
)

NOT_UTF8 = b"\xff\xfe prod/\x80/model"


@pytest.fixture(scope="module")
def model(shared_models: Callable[[str], Any]) -> Any:
    return shared_models("lr")


# --- the registry, on both backends --------------------------------------------------------------


def test_a_non_utf8_pointer_is_named_and_a_promotion_repairs_it(store: ObjectStore) -> None:
    registry = Registry(store)
    a, b = staged(registry, 2)
    registry.promote(a.version, reason="first")
    store.put(LATEST_KEY, NOT_UTF8)
    with pytest.raises(CorruptRecord, match=r"latest\.txt cannot be read: not UTF-8"):
        registry.live_version()
    decision = registry.promote(b.version, reason="repair")
    assert registry.live_version() == b.version
    assert decision.previous is None


def test_a_garbage_pointer_is_repaired_by_rolling_back_to_a_named_version(store: ObjectStore) -> None:
    registry = Registry(store)
    a, b = staged(registry, 2)
    registry.promote(a.version, reason="first")
    registry.promote(b.version, reason="second")
    store.put(LATEST_KEY, b"garbage")
    with pytest.raises(CorruptRecord, match=r"unexpected value 'garbage'.*rollback --to"):
        registry.rollback()
    registry.rollback(to=a.version)
    assert registry.live_version() == a.version


def test_one_unreadable_decision_or_manifest_hides_nothing_else(store: ObjectStore) -> None:
    registry = Registry(store)
    a, b = staged(registry, 2)
    registry.promote(a.version, reason="first")
    store.put("decisions/99999999T999999999999Z-broken.json", b"{not json")
    store.put(f"staging/{b.version}/manifest.json", b'{"version": 3}')
    assert [d.version for d in registry.decisions()] == [a.version]
    assert [m.version for m in registry.staged()] == [a.version]
    with pytest.raises(CorruptRecord, match=f"staging/{b.version}/manifest.json cannot be read"):
        registry.manifest(b.version)


def test_an_artifact_that_matches_its_checksum_but_does_not_load_is_an_integrity_error(
    store: ObjectStore,
) -> None:
    registry = Registry(store)
    m = registry.stage(b"PK\x03\x04 a zip header and then nothing", metadata(), now=BASE_TIME)
    with pytest.raises(ModelIntegrityError, match=rf"{m.version}: cannot be loaded"):
        registry.artifact(m.version).load()


# --- the API starts on a corrupt store and says why ----------------------------------------------

Corruption = Callable[[Registry, str], None]


def non_utf8_pointer(registry: Registry, version: str) -> None:
    registry.store.put(LATEST_KEY, NOT_UTF8)


def bad_prod_manifest(registry: Registry, version: str) -> None:
    registry.store.put(f"prod/{version}/manifest.json", b"[1, 2")


def unloadable_model(registry: Registry, version: str) -> None:
    data = b"PK\x03\x04 valid checksum, not a model"
    m = registry.stage(data, metadata(feature_schema=feature_schema()), now=BASE_TIME.replace(minute=59))
    registry.promote(m.version, reason="a model that will not load")


@pytest.mark.parametrize("corrupt", [non_utf8_pointer, bad_prod_manifest, unloadable_model])
def test_the_api_starts_on_a_corrupt_store_and_reports_why(
    tmp_path: Path, model: Any, corrupt: Corruption
) -> None:
    registry = Registry(LocalStore(tmp_path))
    m = stage_model(registry, model, now=BASE_TIME)
    registry.promote(m.version, reason="good")
    corrupt(registry, m.version)
    settings = get_settings(models_url=str(tmp_path), api_poll_seconds=0.2)
    with RunningServer(create_app(settings)) as server:
        health = httpx.get(f"{server.url}/health")
        assert health.status_code == 200
        assert health.json()["ready"] is False
        described = httpx.get(f"{server.url}/model").json()
        assert described["version"] is None
        assert described["last_reload"]["result"] == "failed"
        assert (
            "cannot be read" in described["last_reload"]["error"]
            or "cannot be loaded" in (described["last_reload"]["error"])
        )
        assert 'flightdelay_model_reloads_total{result="failed"}' in httpx.get(f"{server.url}/metrics").text


def test_the_api_serves_its_model_beside_an_unreadable_decision(tmp_path: Path, model: Any) -> None:
    registry = Registry(LocalStore(tmp_path))
    m = stage_model(registry, model, now=BASE_TIME)
    registry.promote(m.version, reason="good")
    registry.store.put("decisions/99999999T999999999999Z-broken.json", b"\x00\x01")
    with RunningServer(create_app(get_settings(models_url=str(tmp_path)))) as server:
        assert httpx.get(f"{server.url}/health").json()["model_version"] == m.version


def test_a_repaired_pointer_is_picked_up_without_a_restart(tmp_path: Path, model: Any) -> None:
    registry = Registry(LocalStore(tmp_path))
    m = stage_model(registry, model, now=BASE_TIME)
    registry.promote(m.version, reason="good")
    registry.store.put(LATEST_KEY, NOT_UTF8)
    with RunningServer(create_app(get_settings(models_url=str(tmp_path), api_poll_seconds=0.2))) as server:
        assert httpx.get(f"{server.url}/health").json()["ready"] is False
        registry.rollback(to=m.version, reason="repair")
        deadline = time.monotonic() + 10
        while httpx.get(f"{server.url}/health").json()["model_version"] != m.version:
            assert time.monotonic() < deadline, "the API did not load the repaired pointer"
            time.sleep(0.2)


# --- the CLI: one line, never a traceback ----------------------------------------------------------


def cli(*args: str, models: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FLIGHTDELAY_MODELS_URL": str(models), "FLIGHTDELAY_DATA_URL": str(models / "data")}
    return subprocess.run(
        [sys.executable, "-m", "cli", *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_status_and_history_on_a_corrupt_store_say_what_is_unreadable(tmp_path: Path) -> None:
    registry = Registry(LocalStore(tmp_path))
    (a,) = staged(registry)
    registry.promote(a.version, reason="first")
    registry.store.put(LATEST_KEY, NOT_UTF8)
    registry.store.put("decisions/99999999T999999999999Z-broken.json", b"{")
    status = cli("status", models=tmp_path)
    assert status.returncode == 0, status.stderr
    assert "latest.txt cannot be read: not UTF-8" in status.stdout
    assert a.version in status.stdout  # the staged model is still listed
    history = cli("history", models=tmp_path)
    assert history.returncode == 0, history.stderr
    assert "promoted" in history.stdout
    for result in (status, history):
        assert "Traceback" not in result.stdout + result.stderr


def test_promote_repairs_a_garbage_pointer_from_the_cli(tmp_path: Path) -> None:
    registry = Registry(LocalStore(tmp_path))
    a, b = staged(registry, 2)
    registry.promote(a.version, reason="first")
    registry.store.put(LATEST_KEY, b"rubbish")
    result = cli("promote", b.version, models=tmp_path)
    assert result.returncode == 0, result.stderr
    assert registry.live_version() == b.version


# --- the evaluator goes on -------------------------------------------------------------------------


@pytest.fixture
def week(tmp_path: Path) -> LocalStore:
    store = LocalStore(tmp_path)
    write_days(store, "new/clean", datasets.load_flights(date(2013, 12, 1), date(2013, 12, 7)))
    return store


def test_a_bad_staged_manifest_does_not_block_another_candidate(week: LocalStore, model: Any) -> None:
    registry = Registry(week)
    good = stage_model(registry, model, now=BASE_TIME)
    broken = registry.stage(artifact_bytes({"x": 1}), metadata(), now=BASE_TIME.replace(minute=30))
    week.put(f"staging/{broken.version}/manifest.json", b"not json")
    outcome = evaluate(get_settings(eval_min_roc_auc=0.5), week, registry, end=date(2013, 12, 7))
    assert outcome.candidate == good.version
    assert outcome.verdict == "promoted"


def test_a_corrupt_live_model_is_named_in_the_reason_not_called_absent(week: LocalStore, model: Any) -> None:
    registry = Registry(week)
    live = stage_model(registry, model, now=BASE_TIME)
    registry.promote(live.version, reason="first")
    week.put(f"prod/{live.version}/model.skops", b"bit rot")
    candidate = stage_model(registry, model, now=BASE_TIME.replace(minute=40), threshold=0.31)
    outcome = evaluate(get_settings(eval_min_roc_auc=0.5), week, registry, end=date(2013, 12, 7))
    assert outcome.candidate == candidate.version
    assert outcome.verdict == "promoted"
    assert "no model is live" not in outcome.reason
    assert f"the live model cannot be used (model {live.version}: size" in outcome.reason
    assert outcome.decision_key is not None
    assert json.loads(week.get(outcome.decision_key).data)["details"]["live_unusable"]


class _Exploit:
    """What a malicious pickle does on load: run a command (here, create a file)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.touch, (self.marker,))


def test_a_pickle_whose_manifest_matches_is_refused_and_runs_nothing(
    store: ObjectStore, tmp_path: Path
) -> None:
    import pickle

    marker = tmp_path / "pwned"
    registry = Registry(store)
    m = registry.stage(pickle.dumps(_Exploit(marker)), metadata(), now=BASE_TIME)  # checksum matches
    with pytest.raises(ModelIntegrityError, match="not a skops file"):
        registry.artifact(m.version).load()
    assert not marker.exists()


def test_a_skops_file_with_an_untrusted_type_is_refused(store: ObjectStore) -> None:
    registry = Registry(store)
    m = registry.stage(dumps(_Exploit(Path("unused"))), metadata(), now=BASE_TIME)
    with pytest.raises(ModelIntegrityError, match="untrusted types"):
        registry.artifact(m.version).load()


# --- a model with a valid checksum that cannot be loaded or scored is judged, not a crash ----------


def _reject_reason(week: LocalStore, registry: Registry) -> str:
    outcome = evaluate(get_settings(eval_min_roc_auc=0.5), week, registry, end=date(2013, 12, 7))
    assert outcome.verdict == "rejected"
    assert registry.decisions()[0].verdict == "rejected"  # recorded, with its report
    assert outcome.decision is not None
    assert outcome.decision.report_key is not None
    assert week.exists(outcome.decision.report_key)
    return outcome.reason


def test_a_candidate_that_cannot_be_loaded_is_rejected_with_the_reason(week: LocalStore) -> None:
    registry = Registry(week)
    registry.stage(
        b"PK\x03\x04 valid checksum, not a model", metadata(feature_schema=feature_schema()), now=BASE_TIME
    )
    reason = _reject_reason(week, registry)
    assert reason.startswith("candidate failed verification: cannot be loaded (BadZipFile")
    assert registry.live_version() is None


def test_a_candidate_that_loads_but_cannot_score_is_rejected_with_the_reason(week: LocalStore) -> None:
    registry = Registry(week)
    registry.stage(dumps({"not": "a model"}), metadata(feature_schema=feature_schema()), now=BASE_TIME)
    assert "cannot score flights (AttributeError" in _reject_reason(week, registry)
    assert registry.live_version() is None


def test_a_candidate_whose_probabilities_are_not_numbers_is_rejected(week: LocalStore, model: Any) -> None:
    registry = Registry(week, extra_trusted_types=TEST_TYPES)
    stage_model(registry, NoisyModel(model, float("nan")), now=BASE_TIME)
    assert "probabilities that are not numbers in [0, 1]" in _reject_reason(week, registry)


def test_a_candidate_with_a_crafted_tree_is_rejected_before_anything_runs_it(
    week: LocalStore, shared_models: Callable[[str], Any]
) -> None:
    crafted = copy.deepcopy(shared_models("hgb"))
    nodes = crafted[-1]._predictors[0][0].nodes
    nodes["right"][int(np.flatnonzero(nodes["is_leaf"] == 0)[0])] = 77_777  # scored, this crashes the process
    stage_model(Registry(week), crafted, now=BASE_TIME)
    reason = _reject_reason(week, Registry(week))
    assert "refused: " in reason
    assert "right child 77777 is out of range" in reason


def test_a_live_model_that_cannot_be_scored_leaves_the_bar_to_decide(week: LocalStore, model: Any) -> None:
    registry = Registry(week)
    broken = registry.stage(
        dumps({"not": "a model"}), metadata(feature_schema=feature_schema()), now=BASE_TIME
    )
    registry.promote(broken.version, reason="a live model that cannot score")
    good = stage_model(registry, model, now=BASE_TIME.replace(minute=40))
    outcome = evaluate(get_settings(eval_min_roc_auc=0.5), week, registry, end=date(2013, 12, 7))
    assert outcome.verdict == "promoted"
    assert f"the live model cannot be used (model {broken.version}: cannot score flights" in outcome.reason
    assert registry.live_version() == good.version


# --- a manifest must name its own folder's version -----------------------------------------------


def test_a_manifest_naming_another_version_than_its_folder_is_refused(store: ObjectStore) -> None:
    registry = Registry(store)
    a, b = staged(registry, 2)
    for name in ("model.skops", "manifest.json"):  # b's folder now holds a's files: checksums match
        store.put(f"staging/{b.version}/{name}", store.get(f"staging/{a.version}/{name}").data)
    refused = rf"model {b.version}: its manifest names version '{a.version}'"
    with pytest.raises(ModelIntegrityError, match=refused):
        registry.artifact(b.version)
    with pytest.raises(ModelIntegrityError, match=refused):
        registry.promote(b.version, reason="a copied folder")
    assert registry.live_version() is None
    assert not store.exists(f"prod/{b.version}/model.skops")
    assert [m.version for m in registry.staged()] == [a.version]  # listed once, under its own folder


def test_the_evaluator_rejects_a_candidate_whose_manifest_names_another_version(
    week: LocalStore, model: Any
) -> None:
    registry = Registry(week)
    good = stage_model(registry, model, now=BASE_TIME)
    other = stage_model(registry, model, now=BASE_TIME.replace(minute=30), threshold=0.31)
    for name in ("model.skops", "manifest.json"):
        week.put(f"staging/{other.version}/{name}", week.get(f"staging/{good.version}/{name}").data)
    outcome = evaluate(
        get_settings(eval_min_roc_auc=0.5), week, registry, candidate=other.version, end=date(2013, 12, 7)
    )
    assert outcome.verdict == "rejected"
    assert f"its manifest names version '{good.version}'" in outcome.reason
    assert registry.live_version() is None


def test_promote_from_a_pointer_to_a_missing_model_succeeds_and_says_so(tmp_path: Path) -> None:
    registry = Registry(LocalStore(tmp_path))
    a, b = staged(registry, 2)
    registry.promote(a.version, reason="first")
    gone = "20990101T000000Z-deadbeef"
    registry.store.put(LATEST_KEY, f"prod/{gone}/model.skops".encode())
    result = cli("promote", b.version, models=tmp_path)
    assert result.returncode == 0, result.stderr
    assert registry.live_version() == b.version
    decision = registry.decisions()[0]
    assert (decision.verdict, decision.version, decision.previous) == ("promoted", b.version, gone)
    assert decision.report_key is not None
    assert registry.store.exists(decision.report_key)


def _as_an_unprivileged_user() -> list[str]:
    """A command prefix under which file permissions apply: root ignores them unless its
    capabilities to override them are dropped (setpriv, util-linux); any other user is subject to them."""
    if os.geteuid() != 0:
        return []
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner"]


def test_a_read_only_store_gives_one_line_and_the_storage_exit_code(tmp_path: Path) -> None:
    from flightdelay.errors import StorageError

    models = tmp_path / "models"
    registry = Registry(LocalStore(models))
    a, b = staged(registry, 2)
    registry.promote(a.version, reason="first")
    modes = {path: path.stat().st_mode for path in [models, *models.rglob("*")]}
    for path in modes:
        path.chmod(modes[path] & ~0o222)  # no one may write
    env = {
        **os.environ,
        "FLIGHTDELAY_MODELS_URL": str(models),
        "FLIGHTDELAY_DATA_URL": str(tmp_path / "data"),
    }
    try:
        result = subprocess.run(
            [*_as_an_unprivileged_user(), sys.executable, "-m", "cli", "promote", b.version],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        for path, mode in modes.items():
            path.chmod(mode)
    assert result.returncode == StorageError.exit_code == 9, result.stderr
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"error: the store file://{models} cannot be written (Permission denied")
    assert registry.live_version() == a.version
