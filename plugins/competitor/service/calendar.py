"""The deployment's calendar: the day a moment falls on in the deployment's time zone
(``CRM_TIME_ZONE``), whoever asks. Every "not in the future", "today" and "the day of the
close" of the plugin is a day of this calendar."""

from __future__ import annotations

import datetime as dt

from core.plugin_api import RequestContext, Settings


def day_of(moment: dt.datetime, settings: Settings) -> dt.date:
    """The calendar day ``moment`` (aware) falls on in the deployment's time zone."""
    return moment.astimezone(settings.zone).date()


def today(context: RequestContext) -> dt.date:
    """The deployment's calendar day at the request's clock."""
    return day_of(context.now(), context.settings)
