"""The loyalty plugin's webhook event types."""

from __future__ import annotations

EVENT_TYPES: dict[str, str] = {}
