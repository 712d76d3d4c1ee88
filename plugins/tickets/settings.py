"""The plugin's own settings, read from ``CRM_TICKETS_*`` environment variables."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.plugin_api import load_plugin_settings


class TicketSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CRM_TICKETS_", extra="ignore", frozen=True)

    autoclose_days: int = Field(
        default=7, ge=1, le=365, description="Days a RESOLVED ticket waits for confirmation."
    )
    sla_risk_minutes: int = Field(
        default=30,
        ge=1,
        le=7 * 24 * 60,
        description="A ticket's people are told its SLA is at risk this many minutes before "
        "its due time.",
    )


def load() -> TicketSettings:
    return load_plugin_settings(TicketSettings)
