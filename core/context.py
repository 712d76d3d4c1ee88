"""The per-request context every resolver sees as ``info.context``."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from strawberry.types import Info as StrawberryInfo

if TYPE_CHECKING:
    from starlette.requests import Request

    from core.config import Settings
    from core.db import Database
    from core.loaders import Loader
    from core.plugins import CRMPluginManager

L = TypeVar("L", bound="Loader[Any, Any]")


@dataclass
class RequestContext:
    """Per request: settings, database, plugin host, the caller and the dataloaders.

    Loaders are created lazily, once per request, keyed by their class
    (``ctx.loader(WidgetsBySystemLoader)``), so two modules can never collide on a name.
    """

    settings: Settings
    db: Database
    pm: CRMPluginManager
    request: Request | None = None
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    caller: Any = None
    _loaders: dict[type[Any], Any] = field(default_factory=dict, repr=False)

    def loader(self, loader_class: type[L]) -> L:
        existing = self._loaders.get(loader_class)
        if existing is None:
            existing = loader_class(self)
            self._loaders[loader_class] = existing
        return existing


Info = StrawberryInfo[RequestContext, None]
"""Resolver ``info`` annotation with a typed ``info.context``."""
