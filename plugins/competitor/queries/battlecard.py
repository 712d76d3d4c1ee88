"""Placeholder: replaced by the battlecard's fields."""

from __future__ import annotations

from typing import Any

COMPETITOR_FIELDS: dict[str, Any] = {}
