"""The plugin's own settings, read from ``CRM_COMPETITOR_*`` environment variables."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.plugin_api import load_plugin_settings


class CompetitorSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CRM_COMPETITOR_", extra="ignore", frozen=True)

    contract_reminder_days: int = Field(
        default=60,
        ge=0,
        le=730,
        description="Days before a customer's contract with a competitor ends that the "
        "customer's owner is reminded (an opening to win them); 0: no reminders.",
    )
    forecast_periods: int = Field(
        default=4,
        ge=2,
        le=40,
        description="How many of the latest periods the trend forecast's least-squares line "
        "is fitted to.",
    )


def load() -> CompetitorSettings:
    return load_plugin_settings(CompetitorSettings)
