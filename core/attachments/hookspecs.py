"""Hooks the attachments module announces.

Declared through ``crm_add_hookspecs`` by core's attachments module, which is always
enabled, so every plugin may implement them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from core.hookspecs import hookspec

if TYPE_CHECKING:
    from core.attachments.targets import AttachmentTarget


# -------------------------------------------------------------------------
# Attachments
# -------------------------------------------------------------------------


@hookspec
def crm_attachment_targets() -> Mapping[str, AttachmentTarget]:
    """Name the records that take files: GraphQL type name -> how to check access.

    Called when a file is attached, listed, downloaded or deleted; every module's answer is
    merged (a type name two modules claim stops with a :class:`core.host.PluginError`).
    ``attachFile`` accepts a ``targetId`` of these types only. The module also adds the
    ``attachments`` field to its type (``crm_graphql_type_fields``, with
    ``core.plugin_api.attachments_field``).

    :return: ``{"Ticket": AttachmentTarget(readable=..., writable=...)}``
        (:class:`core.plugin_api.AttachmentTarget`).
    """
