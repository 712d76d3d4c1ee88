"""The public answer page, ``/s/<token>``: server-rendered, no login (:mod:`.routes`)."""

from __future__ import annotations

from starlette.routing import BaseRoute

from plugins.surveys.page.routes import ROUTES as _ROUTES

ROUTES: list[BaseRoute] = list(_ROUTES)
"""GET and POST ``/s/{token}``, GET ``/s/{token}/thanks``."""
