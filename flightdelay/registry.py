"""The model registry, laid out in the MODELS store as::

    staging/<version>/model.skops + manifest.json    trained, pending evaluation (create-only)
    staging/<version>/<attachment>                   what training adds (data-summary.json)
    prod/<version>/model.skops + manifest.json       promoted at least once (create-only)
    latest.txt                                       "prod/<version>/model.skops": the live model
    decisions/<sequence>-<version>.json              append-only record of every verdict, in the
                                                     store's order (older records: <time>-<version>)
    decisions/<time>-<version>.html                  a decision's report (the record names it)

This module is the only one that knows these keys; the records themselves are in records.py.

Promotion and rollback only ever rewrite ``latest.txt``, with a conditional write against the
ETag read first, after the artifact is in ``prod/`` and verified; a concurrent change makes them
fail with PromotionConflict and leaves everything as it was.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from flightdelay.errors import (
    AlreadyLive,
    CorruptRecord,
    ModelIntegrityError,
    ObjectNotFound,
    PreconditionFailed,
    PromotionConflict,
    RegistryError,
    VersionNotFound,
)
from flightdelay.records import (
    ARTIFACT_NAME,
    DataWindow,
    Decision,
    Evaluation,
    FeatureColumn,
    Manifest,
    ModelMetadata,
    Monitoring,
    Stage,
    Verdict,
)
from flightdelay.storage import ObjectStore, StoredObject

log = logging.getLogger(__name__)

LATEST_KEY = "latest.txt"
# Types a model file may hold beyond skops' defaults (builtins, numpy, scikit-learn estimators):
# nothing else is ever loaded, so a file from a bucket cannot run code (a pickle could).
TRUSTED_TYPES = (
    "flightdelay.features.FlightFeatures",
    "flightdelay.ensemble.LogOddsMean",
    "numpy.dtype",
    "sklearn.tree._tree.Tree",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "functools.partial",  # of the function below only: skops checks the partial's function too
    "sklearn.utils.validation.check_array",
)
MANIFEST_NAME = "manifest.json"
DECISIONS = "decisions/"
MONITORING = "monitoring/"
# A decision's id: its place in the history, from the store (``<sequence>-<version>``, the sequence
# claimed by a create-only write), or the wall-clock ids of records written before sequences.
_DECISION_ID = re.compile(r"\d{8}(T\d{12}Z)?-[A-Za-z0-9_-]+")
_SEQUENCED = re.compile(r"(\d{8})-[A-Za-z0-9_-]+")
_SEQUENCE_ATTEMPTS = 50


class ModelArtifact:
    """A verified artifact and its manifest; ``load()`` rebuilds the model from its skops file."""

    def __init__(
        self, manifest: Manifest, data: bytes, *, trusted_types: tuple[str, ...] = TRUSTED_TYPES
    ) -> None:
        self.manifest = manifest
        self.data = data
        self.trusted_types = trusted_types

    @property
    def version(self) -> str:
        return self.manifest.version

    def load(self) -> Any:
        import skops.io

        if not self.data.startswith(b"PK"):  # a skops file is a zip archive; a pickle is not
            raise ModelIntegrityError(
                self.version,
                reason="not a skops file (pickle/joblib artifacts are refused: loading one runs code)",
            )
        from skops.io.exceptions import UntrustedTypesFoundException

        try:
            return skops.io.loads(self.data, trusted=list(self.trusted_types))
        except UntrustedTypesFoundException as exc:  # skops refuses before building anything
            types = str(exc).splitlines()[0].split(": ", 1)[-1].rstrip(".")  # "… in the file: [...]."
            raise ModelIntegrityError(
                self.version, reason=f"refused: it holds untrusted types {types[:160]}"
            ) from None
        except Exception as exc:  # whatever the bytes hold, a failure to load is this model's fault
            raise ModelIntegrityError(
                self.version, reason=f"cannot be loaded ({type(exc).__name__}: {str(exc)[:120]})"
            ) from None


def dumps(model: Any) -> bytes:
    """A model as the bytes of a skops file (what ``ModelArtifact.load`` reads back)."""
    import skops.io

    data: bytes = skops.io.dumps(model)
    return data


def _model_key(stage: Stage, version: str, name: str) -> str:
    return f"{stage}/{version}/{name}"


def _pointer_to(version: str) -> bytes:
    return _model_key("prod", version, ARTIFACT_NAME).encode()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def make_version(sha256: str, now: datetime) -> str:
    """A version id that sorts by time: ``20261122T101500Z-<8 hex of sha256>``."""
    return f"{now.astimezone(UTC):%Y%m%dT%H%M%SZ}-{sha256[:8]}"


def version_of_pointer(pointer: str) -> str:
    """``prod/<version>/model.skops`` → ``<version>``."""
    parts = pointer.strip().split("/")
    if len(parts) != 3 or parts[0] != "prod" or parts[2] != ARTIFACT_NAME or not parts[1]:
        raise CorruptRecord(LATEST_KEY, reason=f"unexpected value {pointer.strip()[:80]!r}" + REPAIR)
    return parts[1]


REPAIR = " (repair it: flightdelay promote VERSION, or flightdelay rollback --to VERSION)"
T = TypeVar("T", bound=BaseModel)


def _own_manifest(folder: str, key: str, data: bytes) -> Manifest:
    """The manifest of the model in ``folder``: one that names another version or another file
    (a folder copied or crafted from another model's files) is refused, whatever its checksums."""
    manifest = _parse(Manifest, key, data)
    if manifest.version != folder:
        raise ModelIntegrityError(folder, reason=f"its manifest names version {manifest.version[:80]!r}")
    if manifest.artifact != ARTIFACT_NAME:
        raise ModelIntegrityError(folder, reason=f"its manifest names artifact {manifest.artifact[:80]!r}")
    return manifest


def _parse(model: type[T], key: str, data: bytes) -> T:
    """A stored JSON record as its model, or CorruptRecord naming the key and what is wrong."""
    try:
        return model.model_validate_json(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise CorruptRecord(key, reason=f"{where + ': ' if where else ''}{first['msg']}") from None


class Registry:
    """Staging, promotion, rollback and decisions over one MODELS store."""

    def __init__(self, store: ObjectStore, *, extra_trusted_types: tuple[str, ...] = ()) -> None:
        self.store = store
        self.trusted_types = TRUSTED_TYPES + extra_trusted_types  # extra: tests' own model types

    # --- reading -----------------------------------------------------------------------------
    def _manifests(self, stage: Stage) -> list[Manifest]:
        """Every readable manifest under a stage; an unreadable one is logged and left out, so one
        bad file cannot hide (or block the evaluation of) every other model."""
        manifests = []
        for key in self.store.list(f"{stage}/"):  # every <stage>/<version>/manifest.json
            parts = key.split("/")
            if len(parts) == 3 and parts[2] == MANIFEST_NAME:
                try:
                    manifests.append(_own_manifest(parts[1], key, self.store.get(key).data))
                except (CorruptRecord, ModelIntegrityError) as exc:
                    log.warning("skipping an unreadable manifest", extra={"key": key, "error": str(exc)})
        return sorted(manifests, key=lambda m: m.version, reverse=True)

    def staged(self) -> list[Manifest]:
        """Every staged model, newest first."""
        return self._manifests("staging")

    def promoted(self) -> list[Manifest]:
        """Every model that has been copied to prod, newest first."""
        return self._manifests("prod")

    def manifest(self, version: str, stage: Stage = "staging") -> Manifest:
        key = _model_key(stage, version, MANIFEST_NAME)
        try:
            raw = self.store.get(key).data
        except ObjectNotFound:
            raise VersionNotFound(version, where=f"{stage}/") from None
        return _own_manifest(version, key, raw)

    def artifact(
        self, version: str, stage: Stage = "staging", *, expected_features: list[FeatureColumn] | None = None
    ) -> ModelArtifact:
        """The artifact, verified against its manifest (sha256, size, and schema if given)."""
        manifest = self.manifest(version, stage)
        try:
            data = self.store.get(_model_key(stage, version, manifest.artifact)).data
        except ObjectNotFound:
            raise ModelIntegrityError(version, reason=f"artifact missing from {stage}/") from None
        verify(manifest, data, expected_features=expected_features)
        return ModelArtifact(manifest, data, trusted_types=self.trusted_types)

    def _latest(self) -> StoredObject | None:
        try:
            return self.store.get(LATEST_KEY)
        except ObjectNotFound:
            return None

    def pointer(self) -> tuple[str | None, str | None]:
        """What ``latest.txt`` says and its ETag; (None, None) when nothing is live."""
        obj = self._latest()
        return (pointer_text(obj.data), obj.etag) if obj else (None, None)

    def pointer_if_changed(self, etag: str | None) -> StoredObject | None:
        """latest.txt if its ETag is not ``etag`` (a cheap conditional read), else None;
        ObjectNotFound when nothing is live. ``version_in_pointer`` reads the version it names."""
        return self.store.get_if_changed(LATEST_KEY, etag)

    @staticmethod
    def version_in_pointer(data: bytes) -> str:
        return version_of_pointer(pointer_text(data))

    def live_version(self) -> str | None:
        pointer, _ = self.pointer()
        return version_of_pointer(pointer) if pointer else None

    def live(self, *, expected_features: list[FeatureColumn] | None = None) -> ModelArtifact | None:
        """The verified live model, or None when nothing has been promoted yet."""
        version = self.live_version()
        if version is None:
            return None
        return self.artifact(version, "prod", expected_features=expected_features)

    def decisions(self, limit: int | None = None) -> list[Decision]:
        """The decision history, newest first; an unreadable record is logged and left out."""
        keys = [k for k in self.store.list(DECISIONS) if k.endswith(".json")]
        keys.sort(key=_history_order, reverse=True)
        history: list[Decision] = []
        for key in keys:
            if limit is not None and len(history) >= limit:
                break
            try:
                history.append(_parse(Decision, key, self.store.get(key).data))
            except CorruptRecord as exc:
                log.warning("skipping an unreadable decision", extra={"key": key, "error": exc.reason})
        return history

    def monitoring(self, limit: int | None = None) -> list[Monitoring]:
        """The days the live model was watched, newest first; an unreadable record is left out."""
        keys = sorted((k for k in self.store.list(MONITORING) if k.endswith(".json")), reverse=True)
        history: list[Monitoring] = []
        for key in keys[:limit]:
            try:
                history.append(_parse(Monitoring, key, self.store.get(key).data))
            except CorruptRecord as exc:
                log.warning(
                    "skipping an unreadable monitoring record", extra={"key": key, "error": exc.reason}
                )
        return history

    def decided_versions(self) -> set[str]:
        """Versions that already have a final verdict (promoted or rejected): not evaluated again."""
        return {
            d.version
            for d in self.decisions()
            if d.version and d.verdict in ("promoted", "rejected") and not d.pending
        }

    def verdicts(self) -> dict[str, Verdict]:
        """Each version's latest evaluation verdict (promoted, rejected or no_decision)."""
        latest: dict[str, Verdict] = {}
        for decision in reversed(self.decisions()):
            if (
                decision.version
                and decision.verdict in ("promoted", "rejected", "no_decision")
                and not decision.pending
            ):
                latest[decision.version] = decision.verdict
        return latest

    # --- writing -----------------------------------------------------------------------------
    def stage(self, artifact: bytes, metadata: ModelMetadata, *, now: datetime | None = None) -> Manifest:
        """Write a new model to ``staging/`` (create-only) and return its manifest."""
        now = now or datetime.now(UTC)
        sha = sha256_hex(artifact)
        manifest = Manifest(
            **metadata.model_dump(),
            version=make_version(sha, now),
            sha256=sha,
            size_bytes=len(artifact),
            created_at=now,
        )
        try:  # create-only writes of identical bytes succeed: staging the same model again is a no-op
            self.store.put(_model_key("staging", manifest.version, ARTIFACT_NAME), artifact, if_absent=True)
        except PreconditionFailed:  # same second, same sha256 prefix, other bytes: a real collision
            raise RegistryError(f"version {manifest.version} is taken by another artifact") from None
        try:
            self.store.put(
                _model_key("staging", manifest.version, MANIFEST_NAME), _json(manifest), if_absent=True
            )
        except PreconditionFailed:  # the same model staged in the same second with other metadata
            return self.manifest(manifest.version)
        return manifest

    def attach(self, version: str, name: str, data: bytes) -> str:
        """Keep a file beside a staged model (create-only), e.g. training's data summary; its key."""
        key = _model_key("staging", version, name)
        self.store.put(key, data, if_absent=True)
        return key

    def record(self, decision: Decision) -> Decision:
        """Append a decision to the history (never overwrites) under the next sequence number.

        The order of the history is the order in which records claimed their sequence, by a
        create-only write: no host's clock orders it (a skewed one cannot reorder promotions)."""
        taken = [
            _sequence(k.removeprefix(DECISIONS).removesuffix(".json")) for k in self.store.list(DECISIONS)
        ]
        sequence = max((n for n in taken if n is not None), default=0) + 1
        for _ in range(_SEQUENCE_ATTEMPTS):
            numbered = decision.model_copy(update={"id": f"{sequence:08d}-{decision.version or 'none'}"})
            try:
                self.store.put(self.decision_key(numbered.id), _json(numbered), if_absent=True)
            except PreconditionFailed:  # another writer claimed this number first: take the next
                sequence += 1
                continue
            return numbered
        raise RegistryError(f"no free decision number after {_SEQUENCE_ATTEMPTS} attempts from {sequence}")

    def attach_report(self, decision: Decision, html: str) -> str:
        """Store the HTML report a recorded decision names (create-only); its key."""
        key = decision.report_key or self.report_key(decision.id)
        self.store.put(key, html.encode(), if_absent=True)
        return key

    def record_monitoring(self, record: Monitoring) -> str:
        """Keep one day's monitoring record; a re-run of the day replaces it. Its key."""
        key = self.monitoring_key(record.day)
        self.store.put(key, _json(record))
        return key

    @staticmethod
    def monitoring_key(day: date) -> str:
        return f"{MONITORING}date={day.isoformat()}.json"

    def report(self, decision_id: str) -> str | None:
        """The HTML report of a decision by the decision's id (checked: never a path of its own),
        or None if there is none."""
        if not _DECISION_ID.fullmatch(decision_id):
            return None
        try:
            decision = _parse(Decision, decision_id, self.store.get(self.decision_key(decision_id)).data)
            return self.store.get(decision.report_key).data.decode() if decision.report_key else None
        except (ObjectNotFound, CorruptRecord):
            return None

    @staticmethod
    def decision_id(now: datetime, version: str | None) -> str:
        return f"{now.astimezone(UTC):%Y%m%dT%H%M%S%fZ}-{version or 'none'}"

    @staticmethod
    def decision_key(decision_id: str) -> str:
        return f"{DECISIONS}{decision_id}.json"

    @staticmethod
    def report_key(decision_id: str) -> str:
        return f"{DECISIONS}{decision_id}.html"

    def new_decision(self, verdict: Verdict, version: str | None, reason: str, **fields: Any) -> Decision:
        now = fields.pop("created_at", None) or datetime.now(UTC)
        return Decision(
            id=self.decision_id(now, version),
            created_at=now,
            verdict=verdict,
            version=version,
            reason=reason,
            **fields,
        )

    def _ensure_in_prod(self, version: str) -> Manifest:
        """Copy a staged model to prod (unless already there) and verify the copy."""
        prod_manifest = _model_key("prod", version, MANIFEST_NAME)
        if not self.store.exists(prod_manifest):
            source = self.artifact(version, "staging")
            # A concurrent promoter may have copied it first: the copy is verified below either way.
            with contextlib.suppress(PreconditionFailed):
                self.store.put(_model_key("prod", version, ARTIFACT_NAME), source.data, if_absent=True)
            with contextlib.suppress(PreconditionFailed):
                self.store.put(prod_manifest, _json(source.manifest), if_absent=True)
        return self.artifact(version, "prod").manifest

    def _raw_pointer(self) -> tuple[str | None, str | None]:
        """latest.txt's text (even garbage) and ETag, for a switch that may repair it."""
        obj = self._latest()
        return (obj.data.decode("utf-8", errors="replace").strip(), obj.etag) if obj else (None, None)

    def _switch(self, version: str, expected_pointer: str | None, etag: str | None) -> None:
        pointer = _pointer_to(version)
        try:
            if etag is None:
                self.store.put(LATEST_KEY, pointer, if_absent=True)
            else:
                self.store.put(LATEST_KEY, pointer, if_match=etag)
        except PreconditionFailed:
            actual, _ = self.pointer()
            raise PromotionConflict(
                version, expected=_version_or_none(expected_pointer), actual=_version_or_none(actual)
            ) from None

    def promote(
        self,
        version: str,
        *,
        reason: str,
        source: str = "cli",
        details: Evaluation | None = None,
        report_key: str | None = None,
        now: datetime | None = None,
    ) -> Decision:
        """Make ``version`` live: copy to prod, verify, switch latest.txt, record the decision.

        An unreadable latest.txt is replaced (conditionally, like any switch): that is its repair.
        """
        self.recover()
        expected, etag = self._raw_pointer()
        previous = _version_or_none(expected)
        if previous == version:
            raise AlreadyLive(version)
        self._ensure_in_prod(version)
        pending = self.new_decision(
            "promoted",
            version,
            reason,
            previous=previous,
            live_after=version,
            source=source,
            details=details,
            report_key=report_key,
            created_at=now,
        )
        return self._switch_recorded(pending, expected, etag)

    def _switch_recorded(self, decision: Decision, expected: str | None, etag: str | None) -> Decision:
        """Record the switch as pending, switch latest.txt, then complete the record: a run killed
        in between leaves a pending record that the next run completes (``recover``)."""
        version = decision.live_after or ""
        pending = self.record(decision.model_copy(update={"pending": True, "switch_from": etag}))
        try:
            self._switch(version, expected, etag)
        except PromotionConflict as exc:
            self._complete(pending, verdict="failed", live_after=None, reason=f"{decision.reason}: {exc}")
            raise
        return self._complete(pending)

    def _complete(self, pending: Decision, **update: Any) -> Decision:
        """Rewrite a pending record as done (once: a conditional write on the pending record)."""
        key = self.decision_key(pending.id)
        current = self.store.get(key)
        record = _parse(Decision, key, current.data)
        if not record.pending:
            return record  # another run completed it
        done = record.model_copy(update={"pending": False, "switch_from": None, **update})
        try:
            self.store.put(key, _json(done), if_match=current.etag)
        except PreconditionFailed:  # another run completed it meanwhile
            return _parse(Decision, key, self.store.get(key).data)
        return done

    def recover(self) -> list[Decision]:
        """Complete the switches a killed run left pending, by what latest.txt says now: one whose
        version is live (latest.txt moved since it was recorded) was done; one whose latest.txt
        moved elsewhere can never be done. One whose latest.txt has not moved is in flight, or
        stopped before its switch, and stays pending. The records completed here are returned."""
        pending = [d for d in self.decisions() if d.pending]
        if not pending:
            return []
        obj = self._latest()
        live = _version_or_none(obj.data.decode("utf-8", errors="replace").strip()) if obj else None
        etag = obj.etag if obj else None
        done = []
        for record in reversed(pending):  # oldest first
            if etag == record.switch_from:
                continue
            if record.live_after is not None and record.live_after == live:
                done.append(self._complete(record, reason=f"{record.reason} (completed by a later run)"))
            else:
                reason = f"{record.reason}: interrupted before latest.txt was switched; nothing was switched"
                done.append(self._complete(record, verdict="failed", live_after=None, reason=reason))
            log.warning("completed a pending decision", extra={"id": record.id, "verdict": done[-1].verdict})
        return done

    def live_before(self) -> str:
        """The version a rollback with no target goes back to: the one live before the live one."""
        expected, _ = self._raw_pointer()
        live = version_of_pointer(expected) if expected else None
        if live is None:
            raise RegistryError("nothing is live: there is nothing to roll back")
        return self._live_before(live)

    def _live_before(self, live: str) -> str:
        """The version that was live before ``live`` was last promoted, from the decision history.

        A rollback never counts as the live version's origin, so rolling back twice goes two
        promotions back (C → B → A), not back and forth.
        """
        promotion = next(
            (d for d in self.decisions() if d.verdict == "promoted" and d.version == live and not d.pending),
            None,
        )
        if promotion is None or promotion.previous is None:
            raise RegistryError(
                f"nothing was live before {live} by the decision history: name a version (rollback --to)"
            )
        return promotion.previous

    def _direction(self, live: str | None, to: str) -> Verdict:
        """rolled_forward when ``to`` was last promoted after ``live`` was, in the store's order of
        the history (undoing a rollback); rolled_back otherwise, and when the history cannot tell."""
        order = [
            d.version for d in self.decisions() if d.verdict == "promoted" and not d.pending and d.version
        ]  # newest first
        if live not in order or to not in order:
            return "rolled_back"
        return "rolled_forward" if order.index(to) < order.index(live) else "rolled_back"

    def rollback(
        self,
        to: str | None = None,
        *,
        reason: str | None = None,
        source: str = "cli",
        report_key: str | None = None,
        now: datetime | None = None,
    ) -> Decision:
        """Point latest.txt at the version that was live before the live one, or at ``to``.

        With ``to``, an unreadable latest.txt is replaced: that is its repair.
        """
        self.recover()
        expected, etag = self._raw_pointer()
        if to is None:
            live = version_of_pointer(expected) if expected else None  # unreadable: name a version
            if live is None:
                raise RegistryError("nothing is live: there is nothing to roll back")
            to = self._live_before(live)
        else:
            live = _version_or_none(expected)
            if to not in {m.version for m in self.promoted()}:
                raise VersionNotFound(to, where="prod/ (only promoted versions can be rolled back to)")
        if to == live:
            raise RegistryError(f"model {to} is already live")
        self.artifact(to, "prod")  # refuse to switch to a damaged artifact
        verdict = self._direction(live, to)
        decision = self.new_decision(
            verdict,
            to,
            reason or f"{verdict.replace('_', ' ')} from {live}",
            previous=live,
            live_after=to,
            source=source,
            report_key=report_key,
            created_at=now,
        )
        return self._switch_recorded(decision, expected, etag)


def _sequence(decision_id: str) -> int | None:
    """The sequence number of a decision id, or None for an id from before sequences."""
    match = _SEQUENCED.fullmatch(decision_id)
    return int(match.group(1)) if match else None


def _history_order(key: str) -> tuple[int, int, str]:
    """Records from before sequences first (by their clock-based names), then by sequence."""
    sequence = _sequence(key.removeprefix(DECISIONS).removesuffix(".json"))
    return (0, 0, key) if sequence is None else (1, sequence, key)


def pointer_text(data: bytes) -> str:
    """latest.txt's bytes as text, or CorruptRecord (it must be UTF-8)."""
    try:
        return data.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise CorruptRecord(LATEST_KEY, reason="not UTF-8 text" + REPAIR) from None


def _version_or_none(pointer: str | None) -> str | None:
    """The version a pointer names, or None when there is none or it is unreadable."""
    if not pointer:
        return None
    try:
        return version_of_pointer(pointer)
    except CorruptRecord:
        return None


def verify(manifest: Manifest, data: bytes, *, expected_features: list[FeatureColumn] | None = None) -> None:
    """Raise ModelIntegrityError unless the bytes (and schema) are what the manifest promises."""
    if len(data) != manifest.size_bytes:
        raise ModelIntegrityError(
            manifest.version, reason=f"size {len(data)} bytes does not match manifest {manifest.size_bytes}"
        )
    actual = sha256_hex(data)
    if actual != manifest.sha256:
        raise ModelIntegrityError(
            manifest.version, reason=f"sha256 {actual[:12]} does not match manifest {manifest.sha256[:12]}"
        )
    if expected_features is not None and list(manifest.feature_schema) != list(expected_features):
        theirs = [c.name for c in manifest.feature_schema]
        ours = [c.name for c in expected_features]
        missing = sorted(set(ours) - set(theirs))
        extra = sorted(set(theirs) - set(ours))
        raise ModelIntegrityError(
            manifest.version,
            reason=f"feature schema differs from this code (missing {missing or 'none'}, "
            f"unexpected {extra or 'none'}, or types/order changed)",
        )


def _json(model: BaseModel) -> bytes:
    return json.dumps(model.model_dump(mode="json"), indent=2, sort_keys=True).encode()


__all__ = [
    "LATEST_KEY",
    "DataWindow",
    "Decision",
    "Evaluation",
    "Manifest",
    "ModelArtifact",
    "ModelMetadata",
    "Registry",
    "Stage",
    "Verdict",
    "make_version",
    "verify",
]
