"""Typed settings, read from ``FLIGHTDELAY_*`` environment variables by :func:`get_settings`.

Nothing here reads the environment at import time: build a :class:`Settings` when a command or
the API starts and pass it down.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from flightdelay.airports import airport_codes, unknown_codes
from flightdelay.errors import ConfigError

ENV_PREFIX = "FLIGHTDELAY_"


class Settings(BaseSettings):
    """Every setting of the system, grouped by the component that uses it."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    # --- storage: where the two buckets live (s3://bucket[/prefix], file://path or a path)
    data_url: str = "./.flightdelay/data"
    models_url: str = "./.flightdelay/models"
    aws_region: str | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    # --- fetcher: the Aviation Stack pull
    aviationstack_url: str = "https://api.aviationstack.com/v1"
    aviationstack_key: SecretStr | None = None
    fetch_airports: Annotated[list[str], NoDecode] = ["JFK", "LGA", "EWR"]
    fetch_page_size: int = Field(100, ge=1, le=1000)
    fetch_max_requests: int = Field(300, ge=1)
    fetch_timeout_seconds: float = Field(30.0, gt=0)
    fetch_max_attempts: int = Field(5, ge=1, le=20)
    fetch_backoff_seconds: float = Field(1.0, ge=0)
    fetch_max_rejected_share: float = Field(0.5, ge=0.0, le=1.0)
    fetch_page_deadline_seconds: float = Field(60.0, gt=0)
    fetch_run_deadline_seconds: float = Field(1800.0, gt=0)
    # A page is decoded up to this many bytes, then refused (a gzip bomb inflates ~1000:1). A full page
    # of 100 flights is 100-200 KB of JSON: 50 MB is far above any real page and far below harm.
    fetch_max_page_bytes: int = Field(50 * 1024 * 1024, ge=64 * 1024)

    # --- conditions: the airports' weather (METAR, Aviation Weather Center; no key)
    aviationweather_url: str = "https://aviationweather.gov/api/data"
    conditions_hours: float = Field(3.0, gt=0, le=360)  # hours of observations pulled each run
    # Opt-in: each run also reads the airports' departures from Aviation Stack's real-time list
    # (requests: airports × pages of 100 flights, every run; see services/conditions/README.md).
    conditions_departures: bool = False
    http_user_agent: str = "flightdelay/0.1 (flight delay prediction; github.com/flightdelay)"

    # --- training
    train_seed: int = 42
    # Training keeps at most this many flights (the latest months whole, older ones sampled): its
    # memory follows this budget, not the history's length (training/window.py).
    train_max_rows: int = Field(1_000_000, ge=1000)

    # --- evaluator: the promotion policy
    eval_window_days: int = Field(7, ge=1, le=366)
    eval_min_rows: int = Field(500, ge=1)
    eval_min_roc_auc: float = Field(0.60, ge=0.5, le=1.0)
    eval_margin: float = Field(0.005, ge=0.0, le=0.5)
    eval_bootstrap_resamples: int = Field(1000, ge=100, le=100_000)
    eval_seed: int = 20130101
    # --- monitoring (the evaluator's daily watch of the live model)
    monitor_drift_psi: float = Field(0.2, gt=0)  # PSI above this (or a late share moved by half) is drift
    metrics_namespace: str = "flightdelay"  # CloudWatch namespace of the embedded metrics

    # --- api
    api_host: str = "127.0.0.1"
    api_port: int = Field(8000, ge=0, le=65535)
    api_workers: int = Field(1, ge=1, le=64)
    api_poll_seconds: float = Field(10.0, gt=0)
    api_max_batch: int = Field(10_000, ge=1)
    api_max_body_bytes: int = Field(4 * 1024 * 1024, ge=1024)
    # Connections (services/api/server.py): a client slower than these is cut, so slow or idle
    # connections cannot hold the process's file descriptors; more than max_connections get a 503.
    api_header_timeout_seconds: float = Field(10.0, gt=0)  # from the first byte of a request to its headers
    api_body_timeout_seconds: float = Field(30.0, gt=0)  # from the headers to the body's last byte
    api_idle_timeout_seconds: float = Field(5.0, gt=0)  # between requests on a kept-alive connection
    api_max_connections: int = Field(1000, ge=1)
    # On SIGTERM: requests still running after this are cut, then the answer log's last flush
    # (ECS waits 30 s by default before SIGKILL).
    api_shutdown_timeout_seconds: float = Field(10.0, gt=0)
    risk_high: float = Field(0.45, gt=0, lt=1)  # "medium" starts at the live model's own threshold
    # The answer log (DATA predictions/): what the evaluator later judges the live model by.
    api_log_answers: bool = True
    api_log_flush_seconds: float = Field(10.0, gt=0)
    api_log_max_rows: int = Field(200_000, ge=1)  # about 60 MB while the store is unreachable
    # Where the last flush keeps answers the store refused at shutdown, for the next start ("": a
    # folder of the system's temporary directory named after the DATA URL).
    api_log_spill_dir: str = ""

    @field_validator("fetch_airports", mode="before")
    @classmethod
    def _check_airports(cls, value: object) -> object:
        if not isinstance(value, str | list):
            return value
        codes = airport_codes(value)
        # An unknown code would be a silent empty run: no weather, no flights, no error.
        unknown = unknown_codes(codes)
        if unknown:
            raise ValueError(f"unknown airport code {', '.join(unknown)}: no IATA airport has it")
        return codes

    @field_validator("data_url", "models_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        if value.startswith("s3://") and len(value) <= len("s3://"):
            raise ValueError("s3:// URL needs a bucket name")
        return value


def get_settings(**overrides: object) -> Settings:
    """Build the settings from the environment; a bad value raises ConfigError naming the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]  # overrides are validated by pydantic, not mypy
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"])
            name = f"{ENV_PREFIX}{field.upper()}" if field else "settings"
            problems.append(f"{name}: {error['msg']}")
        raise ConfigError("invalid configuration: " + "; ".join(problems)) from None
