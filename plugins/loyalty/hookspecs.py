"""Hooks the loyalty plugin announces, for other plugins to implement.

Called inside the transaction of the change, after it is flushed: what a listener writes
with ``session`` commits with the change, and an exception undoes both. Mark an
implementation ``@hookimpl(optionalhook=True)`` so your plugin still loads when the loyalty
plugin is disabled. A listener must not import this plugin: the objects passed are read by
their attributes, documented here.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING

from core.plugin_api import hookspec

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from core.plugin_api import RequestContext
    from plugins.loyalty.models import Account


@hookspec
def crm_loyalty_tier_changed(
    session: AsyncSession,
    account: Account,
    from_tier: str,
    to_tier: str,
    context: RequestContext | None,
) -> Awaitable[None] | None:
    """A member's tier changed (``from_tier`` and ``to_tier`` are tier keys such as
    ``SILVER``): on an earn, or by the ``loyalty.tiers`` job after a downgrade's grace period
    (``context`` is ``None`` then). ``account`` has ``id``, ``customer_id``, ``tier_key``,
    ``balance`` and ``lifetime_earned``.
    """
