"""Invitations: who is asked which survey, sent by e-mail or skipped with the reason.

:func:`invite` applies every rule: the contact is the one given, else the customer's primary
contact; nobody is asked without a contact (NO_CONTACT) or an e-mail address (NO_EMAIL);
the person who handled the ticket is never the respondent (RESPONDENT_IS_HANDLER); no
contact is asked twice within ``CRM_SURVEYS_FATIGUE_DAYS`` (FATIGUE), except for a further
round of the same ticket (a reopened ticket resolved again is always asked). A skipped
invitation is stored with its reason and no token; a sent one stores only its token's hash
and writes the mail to the outbox in the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
from email.headerregistry import Address
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pluggy
from sqlalchemy import and_, func, not_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import (
    Check,
    Contact,
    Customer,
    RequestContext,
    Settings,
    User,
    UserErrorCode,
    UserErrors,
    actor_of,
    audit,
    customer_visible,
    global_id,
    not_found,
    require,
    send_email,
    translator,
)
from plugins.surveys import declarations
from plugins.surveys import settings as survey_settings
from plugins.surveys.models import SurveyInvitation, SurveyTemplate, SurveyTemplateVersion
from plugins.surveys.service import tokens

SENT, SKIPPED, ANSWERED = "SENT", "SKIPPED", "ANSWERED"
NO_CONTACT, NO_EMAIL, FATIGUE = "NO_CONTACT", "NO_EMAIL", "FATIGUE"
RESPONDENT_IS_HANDLER, TEMPLATE_INACTIVE = "RESPONDENT_IS_HANDLER", "TEMPLATE_INACTIVE"
TICKET, SCHEDULE, MANUAL = "TICKET", "SCHEDULE", "MANUAL"
MAIL_TEMPLATE = "surveys/invitation"
MAIL_KIND = "surveys.invitation"
LOCALES = ("en", "zh-CN")

_ = translator(__name__)


async def current_version(session: AsyncSession, template: SurveyTemplate) -> SurveyTemplateVersion:
    version = await session.scalar(
        select(SurveyTemplateVersion).where(
            SurveyTemplateVersion.template_id == template.id,
            SurveyTemplateVersion.number == template.current_version,
        )
    )
    assert version is not None, f"template {template.key} has no version {template.current_version}"
    return version


async def primary_contact(session: AsyncSession, customer_id: int) -> Contact | None:
    """The customer's primary contact, unless archived."""
    contact: Contact | None = await session.scalar(
        select(Contact)
        .where(
            Contact.customer_id == customer_id,
            Contact.is_primary.is_(True),
            Contact.archived_at.is_(None),
        )
        .order_by(Contact.id)
        .limit(1)
    )
    return contact


async def _contact(
    session: AsyncSession, customer_id: int, contact_id: int | None
) -> Contact | None:
    if contact_id is not None:
        given = await session.get(Contact, contact_id)
        if given is not None and given.customer_id == customer_id and given.archived_at is None:
            return given
    return await primary_contact(session, customer_id)


async def _is_handler(session: AsyncSession, handler_id: int | None, email: str) -> bool:
    if handler_id is None:
        return False
    handler_email = await session.scalar(select(User.email).where(User.id == handler_id))
    return handler_email is not None and handler_email.strip().lower() == email.strip().lower()


async def _fatigued(
    session: AsyncSession,
    contact_id: int,
    subject_kind: str,
    subject_id: int | None,
    now: dt.datetime,
    days: int,
) -> bool:
    """Another invitation SENT or ANSWERED to the contact within ``days`` before ``now``,
    other than one for the same ticket."""
    if days <= 0:
        return False
    conditions = [
        SurveyInvitation.contact_id == contact_id,
        SurveyInvitation.status.in_((SENT, ANSWERED)),
        SurveyInvitation.sent_at > now - dt.timedelta(days=days),
        SurveyInvitation.sent_at <= now,
    ]
    if subject_kind == TICKET and subject_id is not None:
        conditions.append(
            not_(
                and_(
                    SurveyInvitation.subject_kind == TICKET,
                    SurveyInvitation.subject_id == subject_id,
                )
            )
        )
    found = await session.scalar(
        select(func.count()).select_from(SurveyInvitation).where(*conditions)
    )
    return bool(found)


def _recipient(name: str, email: str) -> str | None:
    """``Name <address>`` for the mail, or ``None`` when the address is unusable."""
    if not email:
        return None
    checked = Check().email("email", email)
    if checked is None:
        return None
    try:
        return str(Address(display_name=name, addr_spec=email))
    except (ValueError, IndexError):
        return None


def _zone(name: str | None, fallback: ZoneInfo) -> ZoneInfo:
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return fallback


async def invite(
    session: AsyncSession,
    pm: pluggy.PluginManager,
    *,
    template_id: int,
    customer_id: int,
    contact_id: int | None,
    subject_kind: str,
    subject_id: int | None = None,
    subject_number: str | None = None,
    subject_type: str | None = None,
    handler_id: int | None = None,
    schedule_id: int | None = None,
    created_by_id: int | None = None,
    now: dt.datetime,
    settings: Settings,
    subject_title: str | None = None,
) -> SurveyInvitation:
    """Ask the template's current version of one contact of ``customer_id``: the invitation
    stored (SENT with its mail in the outbox, or SKIPPED with the reason).

    :param subject_title: the ticket's subject, named in the mail (TICKET).
    """
    options = survey_settings.load()
    template = await session.get(SurveyTemplate, template_id)
    assert template is not None, f"no survey template {template_id}"
    version = await current_version(session, template)
    contact = await _contact(session, customer_id, contact_id)
    locale = contact.locale if contact is not None and contact.locale in LOCALES else None
    invitation = SurveyInvitation(
        template_id=template.id,
        template_version_id=version.id,
        customer_id=customer_id,
        contact_id=contact.id if contact is not None else None,
        locale=locale or settings.locale,
        subject_kind=subject_kind,
        subject_id=subject_id,
        subject_number=subject_number,
        subject_type=subject_type,
        handler_id=handler_id,
        schedule_id=schedule_id,
        created_by_id=created_by_id,
        created_at=now,
        status=SKIPPED,
    )
    session.add(invitation)
    email = (contact.email or "").strip() if contact is not None else ""
    # An address the mail layer cannot use is no address.
    recipient = _recipient(contact.name, email) if contact is not None else None
    if not template.active:
        invitation.skip_reason = TEMPLATE_INACTIVE
    elif contact is None:
        invitation.skip_reason = NO_CONTACT
    elif recipient is None:
        invitation.skip_reason = NO_EMAIL
    elif await _is_handler(session, handler_id, email):
        invitation.skip_reason = RESPONDENT_IS_HANDLER
    elif await _fatigued(session, contact.id, subject_kind, subject_id, now, options.fatigue_days):
        invitation.skip_reason = FATIGUE
    if subject_kind == TICKET and subject_id is not None:
        await end_earlier_rounds(session, subject_id, now)
    if invitation.skip_reason is not None or contact is None or recipient is None:
        await session.flush()
        return invitation

    token, token_hash = tokens.new_token()
    invitation.status = SENT
    invitation.email = email
    invitation.token_hash = token_hash
    invitation.sent_at = now
    invitation.expires_at = now + dt.timedelta(days=options.link_days)
    await session.flush()
    values: dict[str, Any] = {
        "name": contact.name,
        "survey": template.name_zh if invitation.locale.startswith("zh") else template.name_en,
        "ticket_number": subject_number if subject_kind == TICKET else None,
        "ticket_subject": subject_title if subject_kind == TICKET else None,
        "url": tokens.link(settings.public_url, token),
        "expires_at": invitation.expires_at,
    }
    # Any other MailError (a missing template or value) is a fault of the deployment, not
    # of the contact: it fails the transaction rather than pass for a missing address.
    await send_email(
        session,
        pm,
        to=recipient,
        template=MAIL_TEMPLATE,
        values=values,
        locale=invitation.locale,
        zone=_zone(contact.time_zone, settings.zone),
        now=now,
        kind=MAIL_KIND,
        dedupe_key=f"{MAIL_KIND}:{invitation.id}",
    )
    return invitation


async def end_earlier_rounds(session: AsyncSession, ticket_id: int, now: dt.datetime) -> None:
    """A ticket resolved again ends the earlier round's unanswered link, whether or not a new
    round is sent: an old answer must not close or reopen the ticket resolved since."""
    await session.execute(
        update(SurveyInvitation)
        .where(
            SurveyInvitation.subject_kind == TICKET,
            SurveyInvitation.subject_id == ticket_id,
            SurveyInvitation.status == SENT,
            SurveyInvitation.expires_at > now,
        )
        .values(expires_at=now)
    )


async def ticket_template(session: AsyncSession) -> SurveyTemplate | None:
    """The active template ``CRM_SURVEYS_TICKET_TEMPLATE`` names, if it sends."""
    options = survey_settings.load()
    if not options.on_resolved or not options.ticket_template:
        return None
    template: SurveyTemplate | None = await session.scalar(
        select(SurveyTemplate).where(SurveyTemplate.key == options.ticket_template)
    )
    return template if template is not None and template.active else None


async def on_ticket_resolved(
    session: AsyncSession, ticket: Any, context: RequestContext | None
) -> None:
    """Invite the ticket's contact (or the customer's primary contact) to the ticket
    template's survey, when CRM_SURVEYS_ON_RESOLVED and that template is active.

    ``ticket`` is the tickets plugin's row, read by its attributes only. Without a request
    context (no plugin host to render the mail with) nothing is sent.
    """
    if context is None:
        return
    template = await ticket_template(session)
    if template is None:
        await end_earlier_rounds(session, ticket.id, context.now())
        return
    await invite(
        session,
        context.pm,
        template_id=template.id,
        customer_id=ticket.customer_id,
        contact_id=getattr(ticket, "contact_id", None),
        subject_kind=TICKET,
        subject_id=ticket.id,
        subject_number=getattr(ticket, "number", None),
        subject_type=getattr(ticket, "type", None),
        handler_id=getattr(ticket, "assignee_id", None),
        now=context.now(),
        settings=context.settings,
        subject_title=getattr(ticket, "subject", None),
    )


# --- sendSurvey -----------------------------------------------------------------------------

MAX_RECIPIENTS = 500


async def send_survey(
    session: AsyncSession,
    context: RequestContext,
    check: Check,
    template_id: int | None,
    customer_ids: list[int] | None,
    contact_ids: list[int] | None,
) -> list[SurveyInvitation]:
    """Send the template's survey now (MANUAL) to the primary contacts of ``customer_ids`` or
    to ``contact_ids``: the invitations made, the skipped ones with their reason."""
    require(context, declarations.MANAGE)
    if customer_ids is not None and contact_ids is not None:
        check.fail(
            "customerIds", _("give customerIds or contactIds, not both"), UserErrorCode.INVALID
        )
    elif not customer_ids and not contact_ids:
        field = "contactIds" if contact_ids is not None else "customerIds"
        check.fail(field, _("give at least one id"), UserErrorCode.REQUIRED)
    else:
        field = "customerIds" if customer_ids else "contactIds"
        if len(customer_ids or contact_ids or []) > MAX_RECIPIENTS:
            check.fail(
                field,
                _("give at most {max} ids", max=MAX_RECIPIENTS),
                UserErrorCode.OUT_OF_RANGE,
            )
    check.done()
    template = await session.get(SurveyTemplate, template_id) if template_id else None
    if template is None:
        raise not_found("input.templateId", _("no survey template with this id"))
    if not template.active:
        raise UserErrors.single(
            "templateId",
            _("the template is not active: switch it on before sending it"),
            UserErrorCode.BUSINESS_RULE,
        )
    # (customer id, contact id or None) per recipient, each visible to the caller.
    recipients: list[tuple[int, int | None]] = []
    if customer_ids:
        archived = dict(
            (
                await session.execute(
                    select(Customer.id, Customer.archived_at.is_not(None)).where(
                        Customer.id.in_(customer_ids),
                        Customer.erased_at.is_(None),
                        customer_visible(context, Customer.id),
                    )
                )
            ).all()
        )
        for index, customer_id in enumerate(customer_ids):
            if customer_id not in archived:
                raise not_found(f"input.customerIds.{index}", _("no customer with this id"))
            if archived[customer_id]:
                check.fail(
                    f"customerIds.{index}",
                    _("the customer is archived: restore it before asking it a survey"),
                    UserErrorCode.BUSINESS_RULE,
                )
            if (customer_id, None) not in recipients:  # each asked once
                recipients.append((customer_id, None))
        check.done()
    else:
        ids = contact_ids or []
        rows = (
            await session.execute(
                select(Contact.id, Contact.customer_id).where(
                    Contact.id.in_(ids),
                    Contact.archived_at.is_(None),
                    customer_visible(context, Contact.customer_id),
                )
            )
        ).all()
        owners = {row.id: row.customer_id for row in rows}
        for index, contact_id in enumerate(ids):
            if contact_id not in owners:
                raise not_found(
                    f"input.contactIds.{index}", _("no contact with this id (or it is archived)")
                )
            if (owners[contact_id], contact_id) not in recipients:  # each asked once
                recipients.append((owners[contact_id], contact_id))
    now = context.now()
    caller = context.caller
    made = [
        await invite(
            session,
            context.pm,
            template_id=template.id,
            customer_id=customer_id,
            contact_id=contact_id,
            subject_kind=MANUAL,
            created_by_id=caller.user_id if caller is not None else None,
            now=now,
            settings=context.settings,
        )
        for customer_id, contact_id in recipients
    ]
    audit.record(
        session,
        actor_of(context),
        "surveys.survey.sent",
        "SurveyTemplate",
        template.id,
        {
            "template": template.key,
            "sent": sum(1 for row in made if row.status == SENT),
            "skipped": sum(1 for row in made if row.status == SKIPPED),
            "invitationIds": [global_id("SurveyInvitation", row.id) for row in made],
        },
    )
    return made
