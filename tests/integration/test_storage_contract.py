"""One contract, two backends: LocalStore and S3Store (moto) must behave alike."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from flightdelay.errors import ObjectNotFound, PreconditionFailed, StorageError
from flightdelay.storage import LocalStore, ObjectStore, S3Store, etag_of, open_store


def test_put_then_get_returns_bytes_and_etag(store: ObjectStore) -> None:
    etag = store.put("a/b.bin", b"\x00payload")
    obj = store.get("a/b.bin")
    assert obj.data == b"\x00payload"
    assert obj.etag == etag == etag_of(b"\x00payload")


def test_get_missing_key_raises_object_not_found_naming_the_key(store: ObjectStore) -> None:
    with pytest.raises(ObjectNotFound, match=r"missing/key\.json"):
        store.get("missing/key.json")


def test_exists_reflects_put_and_delete(store: ObjectStore) -> None:
    assert not store.exists("x.txt")
    store.put("x.txt", b"1")
    assert store.exists("x.txt")
    store.delete("x.txt")
    assert not store.exists("x.txt")
    store.delete("x.txt")  # deleting an absent key is not an error


def test_put_overwrites_unconditionally(store: ObjectStore) -> None:
    store.put("k", b"one")
    store.put("k", b"two")
    assert store.get("k").data == b"two"


def test_put_if_absent_wins_once_then_refuses(store: ObjectStore) -> None:
    store.put("once", b"first", if_absent=True)
    with pytest.raises(PreconditionFailed):
        store.put("once", b"second", if_absent=True)
    assert store.get("once").data == b"first"


def test_put_if_match_succeeds_with_current_etag(store: ObjectStore) -> None:
    etag = store.put("latest.txt", b"v1")
    new_etag = store.put("latest.txt", b"v2", if_match=etag)
    assert store.get("latest.txt").data == b"v2"
    assert new_etag != etag


def test_put_if_match_loses_when_etag_changed(store: ObjectStore) -> None:
    stale = store.put("latest.txt", b"v1")
    store.put("latest.txt", b"v2")
    with pytest.raises(PreconditionFailed, match=r"latest\.txt"):
        store.put("latest.txt", b"v3", if_match=stale)
    assert store.get("latest.txt").data == b"v2"


def test_two_threads_racing_on_one_conditional_put_exactly_one_wins(store: ObjectStore) -> None:
    etag = store.put("latest.txt", b"v0")
    barrier = threading.Barrier(8)

    def attempt(n: int) -> bool:
        barrier.wait()
        try:
            store.put("latest.txt", f"v{n}".encode(), if_match=etag)
        except PreconditionFailed:
            return False
        return True

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(attempt, range(1, 9)))
    assert results.count(True) == 1
    winner = results.index(True) + 1
    assert store.get("latest.txt").data == f"v{winner}".encode()


def test_two_threads_racing_on_create_only_put_exactly_one_wins(store: ObjectStore) -> None:
    barrier = threading.Barrier(6)

    def attempt(n: int) -> bool:
        barrier.wait()
        try:
            store.put("decisions/one.json", str(n).encode(), if_absent=True)
        except PreconditionFailed:
            return False
        return True

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(attempt, range(6)))
    assert results.count(True) == 1


def test_list_returns_every_key_past_one_thousand_sorted(store: ObjectStore) -> None:
    keys = [f"many/{i:05d}.json" for i in range(1_105)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(lambda k: store.put(k, b"{}"), keys))
    store.put("other/x.json", b"{}")
    listed = store.list("many/")
    assert len(listed) == 1_105
    assert listed == sorted(keys)


def test_list_by_prefix_and_of_everything(store: ObjectStore) -> None:
    store.put("staging/v1/model.skops", b"m")
    store.put("staging/v1/manifest.json", b"{}")
    store.put("prod/v1/model.skops", b"m")
    assert store.list("staging/") == ["staging/v1/manifest.json", "staging/v1/model.skops"]
    assert store.list("nothing/") == []
    assert len(store.list()) == 3


def test_keys_with_spaces_round_trip(store: ObjectStore) -> None:
    store.put("reports/a report with spaces.html", b"<p>")
    assert store.get("reports/a report with spaces.html").data == b"<p>"
    assert store.list("reports/") == ["reports/a report with spaces.html"]


def test_copy_duplicates_content(store: ObjectStore) -> None:
    store.put("staging/v/model.skops", b"weights")
    store.copy("staging/v/model.skops", "prod/v/model.skops")
    assert store.get("prod/v/model.skops").data == b"weights"
    assert store.get("staging/v/model.skops").data == b"weights"


def test_copy_of_missing_key_raises_object_not_found(store: ObjectStore) -> None:
    with pytest.raises(ObjectNotFound):
        store.copy("nope", "dst")


def test_get_if_changed_returns_none_for_the_same_etag(store: ObjectStore) -> None:
    etag = store.put("latest.txt", b"v1")
    assert store.get_if_changed("latest.txt", etag) is None
    store.put("latest.txt", b"v2")
    changed = store.get_if_changed("latest.txt", etag)
    assert changed is not None
    assert changed.data == b"v2"
    first = store.get_if_changed("latest.txt", None)
    assert first is not None
    assert first.data == b"v2"


@pytest.mark.parametrize("bad", ["../escape", "a/../../b", "/abs", "", "dir/", "a//b"])
def test_keys_that_could_escape_the_root_are_refused(store: ObjectStore, bad: str) -> None:
    with pytest.raises(StorageError, match="invalid key"):
        store.put(bad, b"x")


def test_local_store_leaves_no_temporary_files_visible(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.put("a.txt", b"1")
    store.put("a.txt", b"2", if_match=etag_of(b"1"))
    assert store.list() == ["a.txt"]


def test_local_store_conditional_put_holds_across_processes(tmp_path: Path) -> None:
    import multiprocessing

    store = LocalStore(tmp_path)
    etag = store.put("latest.txt", b"v0")
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        results = pool.starmap(_conditional_put_in_process, [(str(tmp_path), etag, n) for n in range(4)])
    assert results.count(True) == 1


def _conditional_put_in_process(root: str, etag: str, n: int) -> bool:
    try:
        LocalStore(root).put("latest.txt", f"p{n}".encode(), if_match=etag)
    except PreconditionFailed:
        return False
    return True


def test_open_store_picks_backend_from_url(tmp_path: Path) -> None:
    assert isinstance(open_store(str(tmp_path)), LocalStore)
    assert isinstance(open_store(f"file://{tmp_path}"), LocalStore)
    s3 = open_store("s3://bucket/some/prefix", region="us-east-1")
    assert isinstance(s3, S3Store)
    assert s3.url == "s3://bucket/some/prefix"
    with pytest.raises(StorageError, match="unsupported"):
        open_store("ftp://host/x")


def test_s3_errors_name_bucket_and_key(moto_endpoint: str) -> None:
    from tests.conftest import s3_client

    store = S3Store("bucket-that-does-not-exist", client=s3_client(moto_endpoint))
    with pytest.raises(StorageError, match=r"bucket-that-does-not-exist/some\.key"):
        store.put("some.key", b"x")


# --- writing the same bytes again is not a conflict (a retry after a lost response) ---------------


def test_a_create_only_write_of_identical_bytes_succeeds_and_of_other_bytes_is_refused(
    store: ObjectStore,
) -> None:
    etag = store.put("once.json", b"same", if_absent=True)
    assert store.put("once.json", b"same", if_absent=True) == etag
    with pytest.raises(PreconditionFailed):
        store.put("once.json", b"other", if_absent=True)
    assert store.get("once.json").data == b"same"


def test_a_conditional_write_that_finds_its_own_bytes_there_succeeds(store: ObjectStore) -> None:
    stale = store.put("latest.txt", b"v1")
    store.put("latest.txt", b"v2")
    assert store.put("latest.txt", b"v2", if_match=stale) == etag_of(b"v2")
    with pytest.raises(PreconditionFailed):
        store.put("latest.txt", b"v3", if_match=stale)


def test_a_create_only_write_whose_response_is_lost_succeeds(moto_endpoint: str, s3_bucket: str) -> None:
    from tests.faults import faulty_s3_store, lose_responses

    store, client = faulty_s3_store(moto_endpoint, s3_bucket)
    lost = lose_responses(client, key=lambda path: path.endswith("/page.json"))
    assert store.put("raw/page.json", b"page", if_absent=True) == etag_of(b"page")
    assert lost.lost  # the first attempt landed; botocore's retry met it (412) and the put read it back
    assert store.get("raw/page.json").data == b"page"


def test_a_conditional_write_whose_response_is_lost_succeeds(moto_endpoint: str, s3_bucket: str) -> None:
    from tests.faults import faulty_s3_store, lose_responses

    store, client = faulty_s3_store(moto_endpoint, s3_bucket)
    etag = store.put("latest.txt", b"v1")
    lost = lose_responses(client, key=lambda path: path.endswith("/latest.txt"))
    assert store.put("latest.txt", b"v2", if_match=etag) == etag_of(b"v2")
    assert lost.lost
    assert store.get("latest.txt").data == b"v2"


def test_a_write_whose_every_response_is_lost_is_verified_by_reading_it_back(
    moto_endpoint: str, s3_bucket: str
) -> None:
    from tests.faults import faulty_s3_store, lose_responses

    store, client = faulty_s3_store(moto_endpoint, s3_bucket, retries={"max_attempts": 1, "mode": "standard"})
    lose_responses(client, key=lambda path: path.endswith("/k.json"), times=10)
    assert store.put("k.json", b"data", if_absent=True) == etag_of(b"data")


def test_a_lost_response_does_not_hide_a_real_conflict(moto_endpoint: str, s3_bucket: str) -> None:
    from tests.faults import faulty_s3_store, lose_responses

    store, client = faulty_s3_store(moto_endpoint, s3_bucket, retries={"max_attempts": 1, "mode": "standard"})
    store.put("k.json", b"theirs")
    lose_responses(client, key=lambda path: path.endswith("/k.json"), times=10)
    with pytest.raises(StorageError, match="ReadTimeoutError"):
        store.put("k.json", b"mine", if_absent=True)
    assert store.get("k.json").data == b"theirs"
