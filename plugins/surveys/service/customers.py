"""The surveys plugin's side of core's customer changes.

- **Merging** moves the source's invitations and responses to the target (answers go with
  their responses); a dry run only counts them.
- **Erasing** drops what may name or describe a person: the addresses invitations were
  sent to and their contacts, the tokens of links not yet used (they stop working), the
  comments of responses and the text of their TEXT answers (``ERASED``). Scores, yes/no
  and choice answers, dates, templates and handlers stay: they name nobody and keep the
  satisfaction figures whole.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import ERASED, move_customer_rows
from plugins.surveys.models import SurveyAnswer, SurveyInvitation, SurveyResponse


async def erase(session: AsyncSession, customer_id: int) -> None:
    await session.execute(
        update(SurveyInvitation)
        .where(SurveyInvitation.customer_id == customer_id)
        .values(email=None, contact_id=None, token_hash=None)
        .execution_options(synchronize_session=False)
    )
    theirs = SurveyResponse.customer_id == customer_id
    await session.execute(
        update(SurveyResponse)
        .where(theirs)
        .values(contact_id=None)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(SurveyResponse)
        .where(theirs, SurveyResponse.comment.is_not(None))
        .values(comment=ERASED)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(SurveyAnswer)
        .where(
            SurveyAnswer.response_id.in_(select(SurveyResponse.id).where(theirs)),
            SurveyAnswer.text.is_not(None),
        )
        .values(text=ERASED)
        .execution_options(synchronize_session=False)
    )


async def merge(
    session: AsyncSession, source_id: int, target_id: int, dry_run: bool
) -> dict[str, int]:
    """Move (or, on a dry run, count) the source's invitations and responses."""
    return {
        "survey invitations": await move_customer_rows(
            session, SurveyInvitation.customer_id, source_id, target_id, dry_run
        ),
        "survey responses": await move_customer_rows(
            session, SurveyResponse.customer_id, source_id, target_id, dry_run
        ),
    }
