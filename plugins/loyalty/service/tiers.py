"""Tiers over a rolling 12 months: recomputed on each earn and by the daily job."""

from __future__ import annotations

from core.plugin_api import NotificationKind

KINDS: dict[str, NotificationKind] = {}
