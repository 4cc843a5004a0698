"""The core's exceptions: every error the core raises on purpose.

    FlightDelayError
     ├── ConfigError                    a setting is missing or invalid
     ├── StorageError                   the object store failed (I/O, permissions, bad key): exit 9
     │    ├── ObjectNotFound            the key does not exist
     │    └── PreconditionFailed        a conditional write lost (ETag changed, or key exists)
     ├── RegistryError                  the model registry refused an operation
     │    ├── NoLiveModel               nothing has been promoted yet: nothing can predict
     │    ├── VersionNotFound           no such staged or promoted version
     │    ├── CorruptRecord             a manifest, decision or latest.txt cannot be read
     │    ├── ModelIntegrityError       artifact checksum/size/schema does not match, or it cannot be loaded
     │    ├── ModelCannotScore          the live model answered NaN for a flight: no probability to give
     │    ├── AlreadyLive               the version to promote is live already (another promoter won)
     │    └── PromotionConflict         latest.txt changed under a promoter; nothing was switched
     ├── DataError                      data does not fit the normalized schema or is unusable
     │    ├── SchemaValidationError     named rows and fields fail validation
     │    └── UnknownFileFormat         a file given to import is not the format named (usage)
     └── FetchError                     the flight data provider failed
          ├── ProviderAuthError         bad/missing key, inactive account, plan restriction
          ├── QuotaExhausted            monthly quota used up: retrying cannot help
          ├── RequestBudgetExceeded     the run would exceed its configured request budget
          └── PageTooLarge              a page decodes to more than the bound (a gzip bomb): not retried

The edges translate these: the CLI into one line and an exit code, the API into a status and a
short ``detail`` sentence.
"""

from __future__ import annotations


class FlightDelayError(Exception):
    """Base of every error the core raises on purpose."""

    exit_code = 1


class ConfigError(FlightDelayError):
    """A setting is missing or invalid; the message names the environment variable."""

    exit_code = 2


class StorageError(FlightDelayError):
    """The object store failed (I/O, permissions: a read-only store, a bad key)."""

    exit_code = 9

    def __init__(self, message: str, *, store: str = "", key: str = "") -> None:
        where = f" ({store}{'/' if store and key else ''}{key})" if store or key else ""
        super().__init__(f"{message}{where}")
        self.store = store
        self.key = key


class ObjectNotFound(StorageError):
    def __init__(self, *, store: str, key: str) -> None:
        super().__init__("object not found", store=store, key=key)


class PreconditionFailed(StorageError):
    def __init__(self, *, store: str, key: str, condition: str) -> None:
        super().__init__(f"conditional write refused ({condition})", store=store, key=key)
        self.condition = condition


class RegistryError(FlightDelayError):
    """The model registry refused an operation."""


class NoLiveModel(RegistryError):
    """Nothing has been promoted yet (or the live model could not be loaded): nothing can predict."""

    def __init__(self) -> None:
        super().__init__(
            "no model is live yet: train and promote one (flightdelay train, then flightdelay evaluate)"
        )


class VersionNotFound(RegistryError):
    def __init__(self, version: str, *, where: str) -> None:
        super().__init__(f"model version {version!r} not found in {where}")
        self.version = version


class CorruptRecord(RegistryError):
    """A record of the registry is there but cannot be read (not UTF-8, not JSON, not the schema)."""

    def __init__(self, key: str, *, reason: str) -> None:
        super().__init__(f"{key} cannot be read: {reason}")
        self.key = key
        self.reason = reason


class ModelIntegrityError(RegistryError):
    def __init__(self, version: str, *, reason: str) -> None:
        super().__init__(f"model {version}: {reason}")
        self.version = version
        self.reason = reason


class ModelCannotScore(RegistryError):
    """The live model passed its checks at load but answered something that is not a probability."""

    def __init__(self, version: str, *, flights: int) -> None:
        super().__init__(
            f"model {version} answered NaN for {flights} of these flights: no probability to give"
        )
        self.version = version
        self.flights = flights


class AlreadyLive(RegistryError):
    def __init__(self, version: str) -> None:
        super().__init__(f"model {version} is already live")
        self.version = version


class PromotionConflict(RegistryError):
    exit_code = 3

    def __init__(self, version: str, *, expected: str | None, actual: str | None) -> None:
        super().__init__(
            f"latest.txt changed while promoting {version} "
            f"(expected {expected or 'nothing live'}, found {actual or 'nothing live'}); nothing was switched"
        )
        self.version = version


class DataError(FlightDelayError):
    """Data does not fit the normalized schema or cannot be used."""


class SchemaValidationError(DataError):
    def __init__(self, problems: list[str], *, total: int | None = None) -> None:
        shown = "; ".join(problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        count = f"{total if total is not None else len(problems)} invalid value(s): "
        super().__init__(count + shown + more)
        self.problems = problems


class UnknownFileFormat(DataError):
    """A file given to an import (``seed --bts``, ``seed --metar``) is not that format: a usage error."""

    exit_code = 2

    def __init__(self, path: str, *, expected: str, missing: list[str]) -> None:
        super().__init__(f"{path} is not {expected}: it lacks {', '.join(missing)}")
        self.path = path
        self.missing = missing


class FetchError(FlightDelayError):
    """The flight data provider failed."""

    exit_code = 4


class ProviderAuthError(FetchError):
    exit_code = 5


class QuotaExhausted(FetchError):
    exit_code = 6


class RequestBudgetExceeded(FetchError):
    exit_code = 7


class PageTooLarge(FetchError):
    """A provider's page decodes to more than the bound: reading stopped there, and a retry would
    only inflate it again."""

    def __init__(self, where: str, *, limit: int, decoded: int) -> None:
        super().__init__(
            f"the page {where} decodes to more than {limit:,} bytes (FLIGHTDELAY_FETCH_MAX_PAGE_BYTES): "
            f"stopped reading it at {decoded:,}"
        )
        self.limit = limit
        self.decoded = decoded


class PortInUse(FlightDelayError):
    """The API cannot listen where it was asked to (another process holds the port)."""

    exit_code = 8
