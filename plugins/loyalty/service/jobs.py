"""The loyalty plugin's periodic jobs."""

from __future__ import annotations

from collections.abc import Mapping

from core.plugin_api import JobContext


async def run_expiry(job: JobContext) -> Mapping[str, int]:
    return {}


async def run_tiers(job: JobContext) -> Mapping[str, int]:
    return {}
