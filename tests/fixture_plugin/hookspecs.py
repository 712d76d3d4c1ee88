"""The fixture plugin's own hooks, for other plugins to listen to."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from core import hookspec
from tests.fixture_plugin.models import Widget


@hookspec
def crm_fixture_widget_created(session: AsyncSession, widget: Widget) -> None:
    """Called in the transaction that created ``widget``; raising undoes the creation."""
