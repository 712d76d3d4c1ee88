"""The plugin's settings: defaults, and every refused value named by its variable."""

from __future__ import annotations

import decimal

import pytest

from core.plugin_api import ConfigError
from plugins.sales import settings


def test_defaults_are_the_documented_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CURRENCY", "VALUE_TIER_HIGH", "VALUE_TIER_MEDIUM", "RENEWAL_REMINDER_DAYS"):
        monkeypatch.delenv(f"CRM_SALES_{name}", raising=False)

    loaded = settings.load()

    assert loaded.currency == "CNY"
    assert (loaded.value_tier_high, loaded.value_tier_medium) == (
        decimal.Decimal(100_000),
        decimal.Decimal(50_000),
    )
    assert loaded.renewal_reminder_days == 30


def test_the_currency_is_read_in_any_case(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_SALES_CURRENCY", " jpy ")

    assert settings.load().currency == "JPY"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CRM_SALES_CURRENCY", "XYZ"),
        ("CRM_SALES_VALUE_TIER_HIGH", "-1"),
        ("CRM_SALES_VALUE_TIER_HIGH", "lots"),
        ("CRM_SALES_VALUE_TIER_MEDIUM", "200000"),  # above the HIGH band
        ("CRM_SALES_RENEWAL_REMINDER_DAYS", "0"),
        ("CRM_SALES_RENEWAL_REMINDER_DAYS", "400"),
    ],
)
def test_a_refused_value_names_its_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)

    with pytest.raises(ConfigError, match=variable):
        settings.load()
