"""Relationship surveys on a schedule."""

from __future__ import annotations

from collections.abc import Mapping

from core.plugin_api import JobContext


async def run_due(job: JobContext) -> Mapping[str, int]:
    return {}
