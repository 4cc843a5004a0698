"""The page for people, driven in headless Chromium (Debian's package, through Playwright)."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from flightdelay import datasets, layout
from flightdelay.config import get_settings
from flightdelay.records import DataWindow, Drift, LiveScores, Monitoring
from flightdelay.registry import Registry
from flightdelay.storage import LocalStore
from services.api.app import create_app
from services.api.server import RunningServer
from tests.factories import BASE_TIME, stage_model

CHROMIUM = os.environ.get("FLIGHTDELAY_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("FLIGHTDELAY_REQUIRE_BROWSER"):
            pytest.fail("chromium is required here (make browser installs it) but is missing")
        pytest.skip("chromium is not installed: `make browser` installs it (Debian's package)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield instance
        instance.close()


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, shared_models: Callable[[str], Any]
) -> Iterator[tuple[RunningServer, str]]:
    from cli.models import switch

    root, data = tmp_path_factory.mktemp("models"), LocalStore(tmp_path_factory.mktemp("data"))
    registry = Registry(LocalStore(root))
    m = stage_model(registry, shared_models("lr"), now=BASE_TIME)
    # By hand, as an operator would: a decision with a report, and a reason as long as real ones.
    switch(registry, "promote", m.version, reason="browser test: " + "a long reason " * 8, source="cli")
    for day in range(8, 15):  # a week of watching, as the evaluator records it
        registry.record_monitoring(watched(date(2013, 12, day), m.version, 0.60 + day / 200))
    failed = {"stage": "fetch", "run_id": "20261122T101500123456Z-abcd", "date": "2013-12-14",
              "status": "failed", "error": "gave up on https://api.aviationstack.com/v1/flights after "
              "3 attempt(s): ConnectTimeout"}  # fmt: skip
    data.put(layout.fetch_run(failed["run_id"]), json.dumps(failed).encode())
    settings = get_settings(models_url=str(root), data_url=str(data.root), api_poll_seconds=0.2)
    with RunningServer(create_app(settings)) as running:
        yield running, m.version


def test_a_person_asks_about_a_flight_and_reads_the_answer(
    browser: Any, server: tuple[RunningServer, str]
) -> None:
    running, version = server
    page = browser.new_page()
    page.goto(running.url)
    page.fill("#carrier", "dl")
    page.fill("#flight_number", "")
    page.fill("#origin", "lga")
    page.fill("#dest", "atl")
    page.fill("#departure", "2013-12-03T18:30")
    page.fill("#arrival", "")
    page.click("button[type=submit]")
    page.wait_for_selector("#answer:not([hidden])")
    page.wait_for_function("document.querySelector('#sentence').textContent.includes('chance')")
    sentence = page.text_content("#sentence") or ""
    assert sentence.startswith("DL from LGA to ATL")  # no flight number given: none shown
    assert "% chance of arriving 15+ minutes late" in sentence
    width = page.eval_on_selector("#fill", "el => el.style.width")
    assert width.endswith("%")
    assert int(width[:-1]) == int(sentence.split("a ")[-1].split("%")[0])
    assert version in (page.text_content("#model") or "")
    # ... and why: the three inputs that moved it most, in words and points.
    reasons = page.locator("#factors li").all_text_contents()
    assert len(reasons) == 3
    assert all(r.endswith(" points.") and " the chance by " in r for r in reasons)
    page.close()


def watched(day: date, version: str, roc_auc: float) -> Monitoring:
    scores = LiveScores(
        flights=900, late_share=0.33, mean_probability=0.25, brier=0.2, flag_accuracy=0.7, roc_auc=roc_auc
    )
    window = DataWindow(start=date(2013, 1, 1), end=date(2013, 11, 30), rows=306_000, base_rate=0.236)
    recent = DataWindow(start=day.replace(day=day.day - 6), end=day, rows=6_300, base_rate=0.432)
    psi = {"block_minutes": 0.21, "dest": 0.05, "origin_hour_departures": 0.04, "recent_late_share": 0.3}
    unknown = {"carrier": 0.0, "route": 0.01}
    return Monitoring(
        drift=Drift(
            reference=window,
            recent=recent,
            psi=psi,
            unknown_share=unknown,
            max_psi=0.3,
            drifted=True,
            threshold=0.2,
        ),
        day=day,
        created_at=BASE_TIME,
        model_version=version,
        answers=950,
        quality=scores,
        by_origin={"JFK": scores},
        alarms=["drift: dest PSI 0.31 (bar 0.20)"] if day.day == 14 else [],
    )


def test_the_status_page_draws_its_lines_as_lines(browser: Any, server: tuple[RunningServer, str]) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(f"{server[0].url}/status")
    fills = page.eval_on_selector_all("svg.plot polyline", "els => els.map(e => getComputedStyle(e).fill)")
    assert len(fills) == 2  # ROC-AUC and flag accuracy
    assert fills == ["none", "none"]  # a filled polyline is a shape, not a line
    dots = page.eval_on_selector_all("svg.plot circle", "els => els.map(e => getComputedStyle(e).fill)")
    assert "none" not in dots  # the day's points stay filled
    page.close()


@pytest.mark.parametrize("path", ["/status", "/reports/{decision}"])
def test_the_status_page_and_a_report_fit_a_phone(
    browser: Any, server: tuple[RunningServer, str], path: str
) -> None:
    running, _ = server
    decision = httpx.get(f"{running.url}/status.json").json()["decisions"][0]["id"]
    page = browser.new_page(viewport={"width": 360, "height": 740})
    response = page.goto(running.url + path.format(decision=decision))
    assert response is not None
    assert response.status == 200
    wide = page.evaluate(
        "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 360"
        " && !e.closest('.wrap')).map(e => e.tagName + '.' + e.className).slice(0, 5)"
    )
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 360, wide
    page.close()


@pytest.mark.parametrize("width", [360, 1280])
def test_the_status_page_plots_live_quality_offline_at_any_width(
    browser: Any, server: tuple[RunningServer, str], width: int
) -> None:
    running, version = server
    page = browser.new_page(viewport={"width": width, "height": 800})
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{running.url}/status")
    assert page.locator("svg.plot circle.auc").count() == 7  # one point a watched day
    assert page.locator("svg.plot text", has_text="Dec 08").count() == 1  # a labelled day axis
    assert page.locator("svg.plot text", has_text="0.6").count() >= 1  # a labelled quality axis
    assert "drift: dest PSI 0.31" in (page.text_content(".alarm") or "")
    assert version in (page.text_content("body") or "")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert all(url.startswith(running.url) for url in requested)  # nothing from outside
    page.goto(running.url)  # the model card shows the live quality and links the status page
    page.wait_for_function("document.querySelector('#model').textContent.includes('ROC-AUC 0.6')")
    assert "6,300 flights" in (page.text_content("#model") or "")
    page.close()


def test_the_api_docs_render_offline(browser: Any, server: tuple[RunningServer, str]) -> None:
    running, _ = server
    page = browser.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{running.url}/docs")
    page.wait_for_selector(".opblock-summary-path", timeout=15_000)  # Swagger UI drew the operations
    assert "/predict" in (page.text_content("#swagger-ui") or "")
    assert all(url.startswith(running.url) for url in requested), [
        u for u in requested if running.url not in u
    ]
    page.close()


def test_a_person_sees_what_to_fix_on_bad_input(browser: Any, server: tuple[RunningServer, str]) -> None:
    page = browser.new_page()
    page.goto(server[0].url)
    page.fill("#dest", "JFK")  # same as the origin
    page.click("button[type=submit]")
    page.wait_for_function("document.querySelector('#sentence').textContent.length > 0")
    assert "From and To must be different airports." in (page.text_content("#sentence") or "")
    page.fill("#dest", "SYR")
    page.fill("#carrier", "B")  # one character: not an airline code
    page.click("button[type=submit]")
    page.wait_for_function("document.querySelector('#sentence').textContent.includes('Airline')")
    sentence = page.text_content("#sentence") or ""
    assert "Airline: use the airline's two-character IATA code, like B6." in sentence
    assert "pattern" not in sentence  # no validator jargon
    page.close()


def test_an_unknown_airport_is_answered_and_flagged(browser: Any, server: tuple[RunningServer, str]) -> None:
    page = browser.new_page()
    page.goto(server[0].url)
    page.fill("#origin", "QQQ")
    page.fill("#arrival", "")
    page.click("button[type=submit]")
    page.wait_for_selector(".unseen")
    assert "never seen origin QQQ" in (page.text_content(".unseen") or "")
    page.close()


def test_a_csv_of_flights_comes_back_with_the_answers(
    browser: Any, server: tuple[RunningServer, str], tmp_path: Path
) -> None:
    running, version = server
    flights = datasets.load_flights(date(2013, 12, 3), date(2013, 12, 3)).iloc[:25]
    upload = tmp_path / "my-flights.csv"
    upload.write_text(
        "carrier,origin,dest,scheduled_departure\n"
        + "".join(
            f"{r.carrier},{r.origin},{r.dest},{r.sched_dep_local:%Y-%m-%dT%H:%M}\n"
            for r in flights.itertuples()
        )
        + "B6,QQQ,BOS,2013-12-03T09:00\n"  # an airport the model has never seen
    )
    page = browser.new_page(viewport={"width": 360, "height": 740})
    page.goto(running.url)
    page.set_input_files("#batch-file", str(upload))
    page.wait_for_selector("#batch-download")
    assert "26 flights answered" in (page.text_content("#batch-result") or "")
    with page.expect_download() as download:
        page.click("#batch-download")
    rows = download.value.path().read_text().strip().splitlines()
    assert download.value.suggested_filename == "my-flights-answers.csv"
    assert (
        rows[0] == "carrier,origin,dest,scheduled_departure,probability,delayed,risk,model_version,warnings"
    )
    assert len(rows) == 27
    assert all(row.split(",")[-2] == version for row in rows[1:])
    assert all(row.endswith(f"{version},") for row in rows[1:-1])  # no warning about known airports
    assert rows[-1].endswith(f"{version},never seen origin QQQ; never seen route QQQ-BOS")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # fits a phone
    page.close()


def test_the_answer_names_the_flight_as_people_write_it(
    browser: Any, server: tuple[RunningServer, str]
) -> None:
    page = browser.new_page()
    page.goto(server[0].url)
    page.click("button[type=submit]")  # the form's own example: B6 1816, JFK to SYR
    page.wait_for_function("document.querySelector('#sentence').textContent.includes('chance')")
    assert (page.text_content("#sentence") or "").startswith("B6 1816 from JFK to SYR")
    page.close()


@pytest.mark.parametrize("width", [360, 390])
def test_the_page_fits_a_phone(browser: Any, server: tuple[RunningServer, str], width: int) -> None:
    page = browser.new_page(viewport={"width": width, "height": 800})
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(server[0].url)
    page.click("button[type=submit]")
    page.wait_for_function("document.querySelector('#sentence').textContent.includes('chance')")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert all(url.startswith(server[0].url) for url in requested)  # the page needs nothing from outside
    page.close()


def test_an_evaluation_report_reads_fully_in_chromium(
    browser: Any, tmp_path: Path, shared_models: Callable[[str], Any]
) -> None:
    from flightdelay.config import get_settings as settings_of
    from services.evaluator.evaluate import evaluate
    from tests.factories import TEST_TYPES, NoisyModel, write_days

    store = LocalStore(tmp_path / "both")
    registry = Registry(store, extra_trusted_types=TEST_TYPES)
    write_days(store, "new/clean", datasets.load_flights(date(2013, 12, 1), date(2013, 12, 7)))
    good = shared_models("hgb")
    weak = stage_model(registry, NoisyModel(good, 0.7), now=BASE_TIME)
    registry.promote(weak.version, reason="setup")
    stage_model(registry, good, now=BASE_TIME.replace(minute=30))
    outcome = evaluate(
        settings_of(eval_min_roc_auc=0.5, eval_bootstrap_resamples=200),
        store,
        registry,
        end=date(2013, 12, 7),
    )
    assert outcome.verdict == "promoted"
    report = tmp_path / "report.html"
    assert outcome.decision is not None
    assert outcome.decision.report_key is not None
    report.write_bytes(store.get(outcome.decision.report_key).data)

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(report.as_uri())
    text = page.text_content("body") or ""
    banner = page.text_content("#verdict") or ""
    assert banner.startswith("PROMOTED — ")
    assert banner.count("promoted") + banner.count("PROMOTED") == 1  # said once
    for title in ("ROC curve", "Precision–recall curve", "Calibration", "Scores of the candidate model"):
        assert page.locator("figcaption", has_text=title).count() >= 1, title
    # Every chart has numbered axes.
    assert all(svg.locator("text", has_text="0.4").count() >= 1 for svg in page.locator("figure svg").all())
    assert "The candidate model predicts" in text  # the sentence that reads the calibration
    assert page.locator("table.confusion").count() == 2  # candidate and live, at their thresholds
    for heading in ("By origin", "By carrier", "By departure hour", "What drives each model"):
        assert page.locator("h2, h3", has_text=heading).count() == 1, heading
    assert "candidate − live" in text
    assert requested == [report.as_uri()]  # nothing fetched from anywhere
    page.close()
    phone = browser.new_page(viewport={"width": 360, "height": 740})
    phone.goto(report.as_uri())
    assert phone.evaluate("document.scrollingElement.scrollWidth") <= 360  # wide tables scroll alone
    phone.close()
