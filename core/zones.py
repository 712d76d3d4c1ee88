"""Time zones and locales: the deployment's defaults, a user's or a contact's own, and the
zone date-times are written in for the current request.

Storage is always UTC. What changes with the zone is how a moment is shown (the API's
``DateTime`` scalar, exports) and which calendar day "today" is (due dates, dormancy,
birthdays): the caller's zone (their own, else ``CRM_TIME_ZONE``) for what a request shows,
the deployment's zone for work no user asked for (``crm jobs run``, the worker).

The zone of the request lives in a context variable (:func:`use_zone`), set around each
GraphQL request by the HTTP endpoint (the caller's zone), around each background job and
each ``crm`` command (the deployment's), and read by the ``DateTime`` scalar when it
serialises. Exports take the caller's zone from the request context directly.
Zones are IANA names (``Asia/Shanghai``), read through :mod:`zoneinfo` with the ``tzdata``
package, so a host without a system time-zone database knows them too.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
from collections.abc import Iterator
from contextvars import ContextVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from core.i18n import SUPPORTED_LOCALES, LocaleName, _

DEFAULT_TIME_ZONE = "UTC"
LOCALES = SUPPORTED_LOCALES
"""The locales the service speaks (BCP 47 tags), the deployment default first."""

ZONE_PROBLEM = _("is not an IANA time zone such as Asia/Shanghai or Europe/London")
LOCALE_PROBLEM = _("is not a supported locale (en, zh-CN)")

_request_zone: ContextVar[dt.tzinfo | None] = ContextVar("crm_request_zone", default=None)


@functools.cache
def _known_zones() -> dict[str, str]:
    """Every IANA name the zone database holds, by its lower-case spelling."""
    return {name.lower(): name for name in available_timezones()}


def zone_name(value: str | None) -> str | None:
    """The IANA name ``value`` stands for (as the database spells it: ``asia/shanghai`` is
    ``Asia/Shanghai``), or ``None`` when it names no zone."""
    cleaned = (value or "").strip()
    if not cleaned:
        return None
    found = _known_zones().get(cleaned.lower())
    if found is None:
        return None
    try:
        ZoneInfo(found)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder such as "Asia"
        return None
    return found


def locale_tag(value: str | None) -> LocaleName | None:
    """The supported locale ``value`` stands for (any case, ``_`` or ``-``: ``zh_cn`` is
    ``zh-CN``), or ``None`` when it is not one."""
    cleaned = (value or "").strip().replace("_", "-").lower()
    for tag in LOCALES:
        if tag.lower() == cleaned:
            return tag
    return None


@functools.cache
def zone(name: str) -> ZoneInfo:
    """The zone of a name already checked by :func:`zone_name`."""
    return ZoneInfo(name)


def own_zone(name: str | None, fallback: ZoneInfo) -> ZoneInfo:
    """Someone's own zone by its stored name, else ``fallback`` (the deployment's): also
    when the zone database no longer knows the name, rather than failing."""
    found = zone_name(name) if name else None
    return zone(found) if found and found == name else fallback


def current_zone() -> dt.tzinfo:
    """The zone date-times are written in for this request (UTC outside any)."""
    return _request_zone.get() or dt.UTC


@contextlib.contextmanager
def use_zone(tz: dt.tzinfo) -> Iterator[None]:
    """Write date-times in ``tz`` inside the block (the request's zone), then restore."""
    token = _request_zone.set(tz)
    try:
        yield
    finally:
        _request_zone.reset(token)


def switch_zone(tz: dt.tzinfo) -> None:
    """Write the rest of this request's date-times in ``tz`` (after the caller changed
    their own time zone, so the answer already shows the new one)."""
    _request_zone.set(tz)


def local(value: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """``value`` (aware) as the same moment in ``tz``."""
    return value.astimezone(tz)


def local_date(value: dt.datetime, tz: dt.tzinfo) -> dt.date:
    """The calendar day ``value`` falls on in ``tz``."""
    return value.astimezone(tz).date()
