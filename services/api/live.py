"""The live model: loaded at start, swapped atomically when latest.txt changes, never on the request path.

A reload that fails (missing, tampered or incompatible artifact; unsound trees; no probabilities for
a few smoke flights: flightdelay.validation) leaves the current model serving
and is reported in /model, the logs and the metrics.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from flightdelay import layout
from flightdelay.conditions import Aircraft, Known, Snapshot, aircraft_from, known_from
from flightdelay.errors import FlightDelayError, NoLiveModel, ObjectNotFound
from flightdelay.features import FlightFeatures, feature_schema
from flightdelay.records import SWITCHES, Manifest
from flightdelay.registry import Registry
from flightdelay.serving import Flights, fast_predictor, feature_matrix, for_serving
from flightdelay.storage import ObjectStore
from flightdelay.validation import validate_model

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Loaded:
    manifest: Manifest
    features: FlightFeatures
    estimator: Any  # the pipeline after its feature step
    predictor: Any  # serving.fast_predictor(estimator): the same probabilities, less overhead
    loaded_at: datetime
    promoted_at: datetime | None

    @property
    def version(self) -> str:
        return self.manifest.version

    def predict(self, flights: Flights, state: Snapshot | None) -> tuple[np.ndarray, Known, Aircraft]:
        """P(arriving 15+ minutes late) for each flight, through the shared feature code, knowing
        the conditions and its aircraft's previous flight as the snapshot gives them; and those."""
        known = known_from(state, flights.origin, flights.departure_utc)
        aircraft = aircraft_from(
            state,
            flights.carrier,
            flights.column("flight_number"),
            flights.origin,
            flights.column("tail_number"),
            flights.departure_local,
            flights.departure_utc,
        )
        matrix = feature_matrix(self.features, flights, known, aircraft.known)
        probabilities: np.ndarray = self.predictor(matrix)
        return probabilities, known, aircraft


class LiveModel:
    """Holds the current Loaded model; ``current`` is replaced in one assignment."""

    def __init__(self, registry: Registry, *, on_reload: Any = None) -> None:
        self.registry = registry
        self.current: Loaded | None = None
        self.etag: str | None = None
        self.last_reload: dict[str, Any] | None = None
        # NaN answers of the current model since it was loaded: it cannot score (/ready says so).
        self.unscorable: dict[str, Any] | None = None
        self._on_reload = on_reload or (lambda result, version: None)

    def _promoted_at(self, version: str) -> datetime | None:
        """When the version went live, from the decision history (the API's role may not read it)."""
        try:
            decisions = self.registry.decisions(limit=50)
        except FlightDelayError:
            return None
        for decision in decisions:
            if decision.version == version and decision.verdict in SWITCHES:
                return decision.created_at
        return None

    def _load(self, version: str) -> Loaded:
        schema = feature_schema()
        artifact = self.registry.artifact(version, "prod", expected_features=schema)
        model = for_serving(artifact.load())
        validate_model(model, schema, version=version)  # before anything runs its trees
        features, estimator = model[0], model[1:]
        return Loaded(
            artifact.manifest,
            features,
            estimator,
            fast_predictor(estimator),
            datetime.now(UTC),
            self._promoted_at(version),
        )

    def refresh(self) -> bool:
        """Check latest.txt once (a conditional read) and swap in a new model if it changed."""
        try:
            changed = self.registry.pointer_if_changed(self.etag)
        except ObjectNotFound:
            return False  # nothing is live yet (or latest.txt was removed: keep serving what we have)
        except FlightDelayError as exc:
            self._record("failed", None, str(exc))
            return False
        if changed is None:
            return False
        attempted: str | None = None
        try:
            attempted = self.registry.version_in_pointer(changed.data)
            loaded = self._load(attempted)
        except FlightDelayError as exc:
            self.etag = changed.etag  # do not retry the same broken pointer every poll
            self._record("failed", attempted, str(exc))
            return False
        self.current, self.unscorable = loaded, None
        self.etag = changed.etag
        self._record("loaded", attempted, None)
        return True

    def note_unscorable(self, loaded: Loaded, flights: int) -> None:
        """The model ``loaded`` answered NaN for this many flights (on the event loop)."""
        if loaded is not self.current:
            return  # replaced meanwhile: the new one is judged on its own answers
        before = self.unscorable["flights"] if self.unscorable else 0
        self.unscorable = {"version": loaded.version, "flights": before + flights, "last": datetime.now(UTC)}
        log.error("model answered NaN", extra={"version": loaded.version, "flights": flights})

    def not_ready(self) -> str | None:
        """Why /ready answers 503 (None: ready): nothing live, with the last refusal, or a live model
        that answered NaN."""
        if self.current is None:
            last = self.last_reload
            if not (last and last["result"] == "failed" and last["version"]):
                return str(NoLiveModel())
            why = str(last["error"]).removeprefix(f"model {last['version']}: ")
            return f"{NoLiveModel()}; model {last['version']} was refused: {why}"
        if self.unscorable:
            u = self.unscorable
            return (
                f"the live model {u['version']} cannot score: it answered NaN for {u['flights']} flights "
                f"since it was loaded (last at {u['last'].isoformat(timespec='seconds')})"
            )
        return None

    def _record(self, result: str, version: str | None, error: str | None) -> None:
        self.last_reload = {
            "at": datetime.now(UTC).isoformat(),
            "result": result,
            "version": version,
            "error": error,
            "serving": self.current.version if self.current else None,
        }
        (log.info if result == "loaded" else log.error)(
            "model reload", extra={"result": result, "version": version, "error": error}
        )
        self._on_reload(result, version)


async def poll_forever(refresh: Callable[[], object], interval: float) -> None:
    """Call ``refresh`` in a thread every ``interval`` seconds, whatever any one call raises."""
    while True:
        await asyncio.sleep(interval)
        try:
            await asyncio.to_thread(refresh)
        except Exception:  # a poller must outlive any one failure
            log.exception("poll failed", extra={"refresh": getattr(refresh, "__qualname__", "?")})


class ConditionsFeed:
    """The airports' conditions (DATA ``conditions/latest.json``), reloaded when they change.

    Conditions are optional: none yet, or a file that cannot be read, leaves every flight with
    unknown conditions (and the last good snapshot in place), never an error.
    """

    def __init__(self, data: ObjectStore) -> None:
        self.data = data
        self.current: Snapshot | None = None
        self.etag: str | None = None
        self.problem: str | None = None

    def refresh(self) -> bool:
        try:
            changed = self.data.get_if_changed(layout.latest_conditions(), self.etag)
        except ObjectNotFound:
            return False
        except FlightDelayError as exc:
            self.problem = str(exc)
            log.warning("conditions unreadable", extra={"error": str(exc)})
            return False
        if changed is None:
            return False
        self.etag = changed.etag  # a broken file is not read again until it changes
        try:
            snapshot = Snapshot.model_validate_json(changed.data)
        except ValueError as exc:
            self.problem = f"{layout.latest_conditions()} cannot be read: {str(exc).splitlines()[0]}"
            log.warning("conditions unreadable", extra={"error": self.problem})
            return False
        _ = snapshot.table  # indexed here, in the poller's thread, not by the next request
        self.current = snapshot
        self.problem = None
        log.info("conditions reload", extra={"as_of": self.current.as_of.isoformat()})
        return True
