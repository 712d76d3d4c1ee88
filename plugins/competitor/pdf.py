"""Placeholder."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route


async def _placeholder(request: Request) -> PlainTextResponse:
    return PlainTextResponse("", status_code=404)


ROUTE = Route("/competitors/{id}/battlecard.pdf", _placeholder)
