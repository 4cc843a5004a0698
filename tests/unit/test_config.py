from __future__ import annotations

import pytest

from flightdelay.config import get_settings
from flightdelay.errors import ConfigError


def test_defaults_point_at_the_local_embedded_stores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLIGHTDELAY_DATA_URL")  # conftest points it away from the checkout
    settings = get_settings()
    assert settings.data_url == "./.flightdelay/data"
    assert settings.models_url == "./.flightdelay/models"
    assert settings.fetch_airports == ["JFK", "LGA", "EWR"]


def test_environment_variables_override_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLIGHTDELAY_MODELS_URL", "s3://models-bucket/p")
    monkeypatch.setenv("FLIGHTDELAY_FETCH_AIRPORTS", "jfk, bos")
    settings = get_settings()
    assert settings.models_url == "s3://models-bucket/p"
    assert settings.fetch_airports == ["JFK", "BOS"]


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("FLIGHTDELAY_API_PORT", "eighty"),
        ("FLIGHTDELAY_EVAL_MIN_ROC_AUC", "1.5"),
        ("FLIGHTDELAY_FETCH_AIRPORTS", "JFK,NEWYORK"),
        ("FLIGHTDELAY_LOG_LEVEL", "LOUD"),
    ],
)
def test_invalid_values_fail_with_the_variable_named(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=variable):
        get_settings()


def test_the_aviationstack_key_is_secret_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLIGHTDELAY_AVIATIONSTACK_KEY", "supersecretkey123")
    settings = get_settings()
    assert "supersecretkey123" not in repr(settings)
    assert settings.aviationstack_key is not None
    assert settings.aviationstack_key.get_secret_value() == "supersecretkey123"


def test_the_readme_names_every_setting() -> None:
    from pathlib import Path

    from flightdelay.config import Settings

    table = (Path(__file__).resolve().parents[2] / "README.md").read_text().split("## Configuration", 1)[1]
    table = table.split("\n## ", 1)[0]
    missing = [
        name
        for name in Settings.model_fields
        if f"FLIGHTDELAY_{name.upper()}" not in table and f"_{name.upper().split('_', 1)[1]}`" not in table
    ]
    assert missing == []


def test_the_airports_are_any_iata_airports_and_an_unknown_one_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FLIGHTDELAY_FETCH_AIRPORTS", "den, sea,HNL")
    assert get_settings().fetch_airports == ["DEN", "SEA", "HNL"]
    # The conditions stage and the fetcher read it: an unknown code would be a silent empty run.
    monkeypatch.setenv("FLIGHTDELAY_FETCH_AIRPORTS", "DEN,XYZ")
    with pytest.raises(
        ConfigError, match=r"FLIGHTDELAY_FETCH_AIRPORTS: .*unknown airport code XYZ"
    ) as caught:
        get_settings()
    assert caught.value.exit_code == 2
