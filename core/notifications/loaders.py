"""Notifications by id: the caller's own only (a by-id loader for ``node(id:)``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, false, select

from core.loaders import ByIdLoader
from core.notifications.models import Notification


class NotificationByIdLoader(ByIdLoader[Notification]):
    entity = Notification

    def statement(self) -> Select[Any]:
        caller = self.context.caller
        if caller is None:
            return select(Notification).where(false())
        return select(Notification).where(Notification.user_id == caller.user_id)
