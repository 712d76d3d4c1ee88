"""The surveys plugin's GraphQL types, one module per aggregate."""

from __future__ import annotations

from typing import Any

from plugins.surveys.types import actions, invitations, schedules, templates

NODE_TYPES: list[type[Any]] = [
    *templates.NODES,
    *invitations.NODES,
    *schedules.NODES,
    *actions.NODES,
]
"""The node types ``node(id:)`` resolves."""
