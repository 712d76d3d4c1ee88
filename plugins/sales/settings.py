"""The plugin's own settings, read from ``CRM_SALES_*`` environment variables."""

from __future__ import annotations

import decimal

from babel.numbers import is_currency
from pydantic import Field, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.plugin_api import load_plugin_settings


class SalesSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CRM_SALES_", extra="ignore", frozen=True)

    currency: str = Field(
        default="CNY",
        description="The deployment's main currency (ISO 4217): value tiers compare spend "
        "in it, and new records default to it.",
    )
    value_tier_high: decimal.Decimal = Field(
        default=decimal.Decimal(100_000),
        ge=0,
        description="Spend in the main currency over the last 12 months from which a "
        "customer's value tier is HIGH.",
    )
    value_tier_medium: decimal.Decimal = Field(
        default=decimal.Decimal(50_000),
        ge=0,
        description="Spend over the last 12 months from which the tier is MEDIUM (below it, "
        "STANDARD); must not be above the HIGH band.",
    )
    renewal_reminder_days: int = Field(
        default=30,
        ge=1,
        le=366,
        description="Days before a contract's end that its customer's owner is reminded of "
        "the renewal; a contract with a longer notice period is reminded of when that period "
        "starts.",
    )

    @field_validator("currency")
    @classmethod
    def _iso_currency(cls, value: str) -> str:
        code = value.strip().upper()
        if not is_currency(code):
            raise ValueError("must be an ISO 4217 currency code such as CNY")
        return code

    @field_validator("value_tier_medium")
    @classmethod
    def _bands_in_order(cls, value: decimal.Decimal, info: ValidationInfo) -> decimal.Decimal:
        high = info.data.get("value_tier_high")
        if high is not None and value > high:
            raise ValueError("must not be above CRM_SALES_VALUE_TIER_HIGH")
        return value


def load() -> SalesSettings:
    return load_plugin_settings(SalesSettings)
