"""flightdelay: the shared core of the flight delay prediction system.

Storage, registry, settings, schema and features live here, so training, evaluation and serving
compute everything with the very same code.
"""

from flightdelay.config import Settings, get_settings
from flightdelay.errors import (
    ConfigError,
    DataError,
    FetchError,
    FlightDelayError,
    ModelIntegrityError,
    NoLiveModel,
    ObjectNotFound,
    PreconditionFailed,
    PromotionConflict,
    RegistryError,
    StorageError,
    VersionNotFound,
)
from flightdelay.records import Decision, Evaluation, Manifest, ModelMetadata
from flightdelay.registry import ModelArtifact, Registry
from flightdelay.storage import LocalStore, ObjectStore, S3Store, StoredObject, open_store

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "DataError",
    "Decision",
    "Evaluation",
    "FetchError",
    "FlightDelayError",
    "LocalStore",
    "Manifest",
    "ModelArtifact",
    "ModelIntegrityError",
    "ModelMetadata",
    "NoLiveModel",
    "ObjectNotFound",
    "ObjectStore",
    "PreconditionFailed",
    "PromotionConflict",
    "Registry",
    "RegistryError",
    "S3Store",
    "Settings",
    "StorageError",
    "StoredObject",
    "VersionNotFound",
    "get_settings",
    "open_store",
]
