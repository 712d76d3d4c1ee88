"""The public answer page, ``/s/<token>``: server-rendered, no login."""

from __future__ import annotations

from starlette.routing import BaseRoute

ROUTES: list[BaseRoute] = []
