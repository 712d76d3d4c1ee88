"""Placeholder."""

from __future__ import annotations

from core.plugin_api import NotificationKind

KINDS: dict[str, NotificationKind] = {}
