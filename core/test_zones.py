"""The deployment's time zone and locale (``CRM_TIME_ZONE``, ``CRM_LOCALE``), the names
:mod:`core.zones` accepts, and the ``DateTime`` scalar writing the zone of the request."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from core.config import ConfigError, load_settings
from core.zones import current_zone, locale_tag, use_zone, zone, zone_name
from schema.scalars import _serialize_date_time

MOMENT = dt.datetime(2026, 12, 4, 1, 0, tzinfo=dt.UTC)


def test_the_deployment_defaults_are_utc_and_english(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRM_DATA_DIR", str(tmp_path))
    settings = load_settings()
    assert (settings.time_zone, settings.locale) == ("UTC", "en")
    assert settings.zone.key == "UTC"


def test_the_deployment_zone_and_locale_are_read_and_normalised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRM_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CRM_TIME_ZONE", "asia/shanghai")
    monkeypatch.setenv("CRM_LOCALE", "zh_CN")
    settings = load_settings()
    assert (settings.time_zone, settings.locale) == ("Asia/Shanghai", "zh-CN")
    assert MOMENT.astimezone(settings.zone).hour == 9


@pytest.mark.parametrize(
    ("env", "value"),
    [
        ("CRM_TIME_ZONE", "Mars/Olympus"),
        ("CRM_TIME_ZONE", "Asia"),
        ("CRM_TIME_ZONE", "+08:00"),
        ("CRM_TIME_ZONE", ""),
        ("CRM_LOCALE", "fr"),
        ("CRM_LOCALE", "zh-TW"),
        ("CRM_LOCALE", ""),
    ],
)
def test_a_bad_zone_or_locale_stops_startup_naming_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env: str, value: str
) -> None:
    monkeypatch.setenv("CRM_DATA_DIR", str(tmp_path))
    monkeypatch.setenv(env, value)
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert f"{env}={value!r}" in str(raised.value)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("Asia/Shanghai", "Asia/Shanghai"),
        (" europe/london ", "Europe/London"),
        ("UTC", "UTC"),
        ("America/Argentina/Buenos_Aires", "America/Argentina/Buenos_Aires"),
        ("Asia", None),
        ("../../etc/passwd", None),
        ("Nowhere/City", None),
        ("", None),
        (None, None),
    ],
)
def test_zone_names(given: str | None, expected: str | None) -> None:
    assert zone_name(given) == expected


@pytest.mark.parametrize(
    ("given", "expected"),
    [("en", "en"), ("EN", "en"), ("zh-CN", "zh-CN"), ("zh_cn", "zh-CN"), ("zh", None)],
)
def test_locale_tags(given: str, expected: str | None) -> None:
    assert locale_tag(given) == expected


def test_date_times_are_written_in_the_zone_of_the_request() -> None:
    # Outside a request (a worker, a command): UTC.
    assert current_zone() is dt.UTC
    assert _serialize_date_time(MOMENT) == "2026-12-04T01:00:00+00:00"
    with use_zone(zone("Asia/Shanghai")):
        assert _serialize_date_time(MOMENT) == "2026-12-04T09:00:00+08:00"
        assert _serialize_date_time(MOMENT.astimezone(zone("Europe/Paris"))) == (
            "2026-12-04T09:00:00+08:00"
        )
        with use_zone(zone("America/New_York")):
            assert _serialize_date_time(MOMENT) == "2026-12-03T20:00:00-05:00"
        assert _serialize_date_time(MOMENT) == "2026-12-04T09:00:00+08:00"
    assert _serialize_date_time(MOMENT) == "2026-12-04T01:00:00+00:00"
