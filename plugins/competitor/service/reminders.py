"""Placeholder."""

from __future__ import annotations

from collections.abc import Mapping

from core.plugin_api import JobContext, NotificationKind

KINDS: dict[str, NotificationKind] = {}


async def run(job: JobContext) -> Mapping[str, int]:
    return {}
