"""Hooks the competitor plugin announces, for other plugins (sales) to implement.

Mark an implementation ``@hookimpl(optionalhook=True)`` so your plugin still loads when the
competitor plugin is disabled. An implementation must not import this plugin.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import TYPE_CHECKING, Any

from core.plugin_api import hookspec

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


@hookspec(firstresult=True)
def crm_competitor_our_products(
    session: AsyncSession, product_ids: Sequence[int] | None, category: str | None
) -> Awaitable[Sequence[Any] | None] | Sequence[Any] | None:
    """Our own products, to set beside a competitor's: those of ``product_ids``, or else the
    active ones of ``category`` (compared case-insensitively). Each is read by its attributes
    ``id``, ``name``, ``category``, ``list_price`` (a ``Decimal``), ``currency`` and
    ``active``. ``firstresult``: the sales plugin answers; with no catalogue (the sales plugin
    disabled) nobody does and the result is ``None``."""
