"""The plugin's own settings, read from ``CRM_SURVEYS_*`` environment variables."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.plugin_api import load_plugin_settings


class SurveySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CRM_SURVEYS_", extra="ignore", frozen=True)

    link_days: int = Field(
        default=14,
        ge=1,
        le=365,
        description="Days a survey link stays valid after it is sent.",
    )
    fatigue_days: int = Field(
        default=30,
        ge=0,
        le=3650,
        description="No contact is asked more than one survey in this many days (0: no "
        "limit); an invitation the rule holds back is recorded as skipped with the reason.",
    )
    ticket_template: str = Field(
        default="CSAT_SERVICE",
        min_length=1,
        max_length=40,
        description="The key of the template sent when a ticket is resolved; an empty or "
        "inactive template sends nothing.",
    )
    on_resolved: bool = Field(
        default=True,
        description="Send the ticket template's survey to the customer when a ticket is resolved.",
    )
    rate_limit: int = Field(
        default=30,
        ge=1,
        le=100_000,
        description="Requests one client address may make to the public survey page and "
        "submitSurveyResponse in a window; more are refused until the window ends.",
    )
    rate_window_minutes: int = Field(
        default=10, ge=1, le=1440, description="The length of the rate limit's window."
    )


def load() -> SurveySettings:
    return load_plugin_settings(SurveySettings)
