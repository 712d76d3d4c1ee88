"""The dataloader of the battlecard's price comparison: a page of competitors compared with
our products at once (:func:`plugins.competitor.service.battlecard.prices`). The battlecard's
other parts come through the loaders of their own aggregates (SWOT items, win/loss, intel)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import Loader
from plugins.competitor.loaders.profiles import readable
from plugins.competitor.service import battlecard


class BattlecardPricesLoader(Loader[int, battlecard.Prices]):
    """Each competitor's products matched to ours, compared with ours (nothing for a caller
    without ``competitors:read``)."""

    async def load_batch(
        self, session: AsyncSession, keys: Sequence[int]
    ) -> list[battlecard.Prices]:
        if not readable(self.context):
            return [battlecard.Prices() for _key in keys]
        found = await battlecard.prices(session, self.context, keys)
        return [found[key] for key in keys]
