"""Hooks the surveys plugin announces, for other plugins (tickets, loyalty) to implement.

Called inside the transaction of the change, after it is flushed: what a listener writes
with ``session`` commits with the response, and an exception undoes both. Mark an
implementation ``@hookimpl(optionalhook=True)`` so your plugin still loads when the surveys
plugin is disabled. A listener must not import this plugin: the objects passed are read by
their attributes, documented here.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING

from core.plugin_api import hookspec

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from core.plugin_api import RequestContext
    from plugins.surveys.models import SurveyResponse


@hookspec
def crm_survey_response_submitted(
    session: AsyncSession, response: SurveyResponse, context: RequestContext | None
) -> Awaitable[None] | None:
    """A customer's contact answered a survey (through the public page or
    ``submitSurveyResponse``; ``context`` has no signed-in user then).

    ``response`` has ``id``, ``customer_id``, ``contact_id``, ``subject_kind`` (``TICKET``,
    ``SCHEDULE`` or ``MANUAL``), ``subject_id`` (the ticket's id for ``TICKET``),
    ``handler_id``, ``satisfied`` (the overall yes/no answer, or ``None`` when the template
    asks none), ``nps`` (0-10 or ``None``), ``comment`` (the text answers, or ``None``),
    ``low_scored`` and ``submitted_at``. The tickets plugin closes a satisfied ticket and
    reopens one that is not.
    """
