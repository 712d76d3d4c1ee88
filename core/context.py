"""The per-request context every resolver sees as ``info.context``."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from strawberry.types import Info as StrawberryInfo

from core.db import utcnow
from core.i18n import DEFAULT_LOCALE, LocaleName

if TYPE_CHECKING:
    from collections.abc import Sequence
    from zoneinfo import ZoneInfo

    from sqlalchemy import ColumnElement, Select
    from starlette.requests import Request
    from strawberry.relay import Node

    from core.access import Caller
    from core.batch_fields import BatchLoad, BatchLoader
    from core.config import Settings
    from core.db import Database
    from core.errors import ApiErrorCode
    from core.extension import Scope
    from core.host import CRMPluginManager
    from core.loaders import ChildCountLoader, ChildPageLoader, Loader
    from core.ordering import SortKey
    from core.pagination import Connection, PageArgs, Part

L = TypeVar("L", bound="Loader[Any, Any]")
N = TypeVar("N", bound="Node")


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
    caller: Caller | None = None
    auth_error: str | None = None
    auth_code: ApiErrorCode | None = None
    client_address: str | None = None
    clock: Callable[[], dt.datetime] = utcnow
    locale: LocaleName = DEFAULT_LOCALE
    """The language messages are rendered in (:func:`core.i18n.negotiate`)."""
    connection_params: dict[str, Any] | None = None
    """A WebSocket's ``connection_init`` payload (:mod:`core.subscriptions`); ``None`` over
    HTTP."""
    read_path: str | None = None
    """Which executor served the request's GraphQL document (``compiled``, ``reference``)."""
    read_path_reason: str | None = None
    """Why a query wanted on the compiled path ran on the reference one."""
    read_path_retry: bool = False
    """The compiled run asks for the request to be answered on the reference path."""
    _loaders: dict[Any, Any] = field(default_factory=dict, repr=False)

    def loader(self, loader_class: type[L]) -> L:
        existing = self._loaders.get(loader_class)
        if existing is None:
            existing = loader_class(self)
            self._loaders[loader_class] = existing
        return existing

    def release(self) -> None:
        """Drop the request's loaders and what they hold, once its response is made."""
        self._loaders.clear()

    def batch(self, load: BatchLoad, arguments: dict[str, Any]) -> BatchLoader:
        """The loader gathering the parents of a :func:`core.batch_fields.batch_field` field
        asked with ``arguments`` (one per request and distinct arguments)."""
        from core.batch_fields import BatchLoader, arguments_key

        key = (load, arguments_key(arguments))
        existing = self._loaders.get(key)
        if existing is None:
            existing = self._loaders[key] = BatchLoader(self, load, arguments)
        return existing

    async def page(
        self,
        statement: Select[Any],
        *,
        keys: Sequence[SortKey],
        args: PageArgs,
        to_node: Callable[[Any], N],
        parts: Sequence[Part] = (),
    ) -> Connection[N]:
        """One page of a root list (:func:`core.pagination.paginate`) in a read session of
        its own, capped by ``CRM_MAX_PAGE_SIZE``, with ``totalCount`` counted on demand."""
        from core.pagination import paginate

        async with self.db.lookup() as session:
            return await paginate(
                session,
                statement,
                keys=keys,
                args=args,
                max_page_size=self.settings.max_page_size,
                to_node=to_node,
                count_session=self.db.read,
                parts=parts,
            )

    async def child_pages(
        self,
        pages: type[ChildPageLoader],
        counts: type[ChildCountLoader] | None,
        parents: Sequence[Any],
        args: PageArgs,
        to_node: Callable[[Any], N],
        keys: Sequence[SortKey] | None = None,
    ) -> list[Connection[N]]:
        """A page of a nested connection (``customer.contacts(first: 5)``) for each of
        ``parents`` (their ids), in the order of ``keys`` (the ``pages`` loader's own keys
        when None).

        The page arguments are checked here, once (a bad one fails this field only); the
        rows come through the ``pages`` loader, batched with every other parent asking for
        the same arguments and order, and ``totalCount`` through the ``counts`` loader when
        asked for.
        """
        from core.cursors import ordering_tag
        from core.light_nodes import light_nodes
        from core.loaders import PageSpec
        from core.pagination import check_page_args

        check_page_args(args, self.settings.max_page_size)
        ordering = tuple(keys if keys is not None else pages.keys)
        # The query reads plain fields of the nodes only: the rows are read with their
        # columns alone and made into nodes as they come.
        light = light_nodes(to_node)
        spec = PageSpec(args, ordering, light)
        found = await self.loader(pages).load_level([(parent, spec) for parent in parents])
        counter = self.loader(counts) if counts is not None else None
        row_to_node = to_node if light is None else None
        tag = ordering_tag(ordering)  # once for the level, not once per connection
        return [
            page.connection(ordering, row_to_node, _counting(counter, parent), tag)
            for parent, page in zip(parents, found, strict=True)
        ]

    def now(self) -> dt.datetime:
        """The current time (a test can hand the app a controllable clock)."""
        return self.clock()

    @property
    def zone(self) -> ZoneInfo:
        """The caller's time zone: their own, else the deployment's (``CRM_TIME_ZONE``).
        Date-times are shown in it and "today" is the calendar day it has now."""
        from core.zones import own_zone

        own = self.caller.time_zone if self.caller is not None else None
        return own_zone(own, self.settings.zone)

    def today(self) -> dt.date:
        """The calendar day it is now in the caller's zone (:attr:`zone`)."""
        return self.now().astimezone(self.zone).date()

    def visible(self, permission: str, resource: str | None = None) -> ColumnElement[bool]:
        """The SQL condition for the records of ``permission`` this caller reaches."""
        from core.access import visible
        from core.catalog import catalog_for

        return visible(self.caller, catalog_for(self.pm), permission, resource)

    def owner_ids(self, scope: Scope) -> Any:
        """The user ids whose records ``scope`` reaches for this (authenticated) caller."""
        from core.access import owner_ids
        from core.catalog import catalog_for

        if self.caller is None:
            return []
        return owner_ids(catalog_for(self.pm), self.caller, scope)


Info = StrawberryInfo[RequestContext, None]
"""Resolver ``info`` annotation with a typed ``info.context``."""


def _counting(counter: Any, parent: Any) -> Callable[[], Awaitable[int]] | None:
    return (lambda: counter.load(parent)) if counter is not None else None
