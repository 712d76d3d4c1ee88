"""What every change of the customer graph starts from: the customer the caller may
change, an owner in reach, no duplicate email or phone."""

from __future__ import annotations

from sqlalchemy import case, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.access import require
from core.context import RequestContext
from core.customers.models import Customer
from core.errors import ApiError, UserErrorCode, UserErrors, not_found
from core.extension import Scope
from core.i18n import _
from core.identity.models import User
from core.validation import Check

RECORDS = {"customer": _("customer"), "contact": _("contact"), "tag": _("tag"), "task": _("task")}
"""The records ``_not_found`` names, as messages."""


def _not_found(field: str, what: str = "customer") -> ApiError:
    """NOT_FOUND at the top level for the id in the mutation's input at ``field``."""
    return not_found(
        f"input.{field}",
        _("no {what} with this id that you may change", what=RECORDS.get(what, what)),
    )


async def writable_customer(
    session: AsyncSession,
    context: RequestContext,
    customer_id: int | None,
    field: str = "id",
    permission: str = "customers:write",
    *,
    archived: bool | None = False,
) -> Customer:
    """A customer the caller may change with ``permission``, locked for the change.

    :param archived: ``False`` refuses archived customers, ``True`` wants one, ``None``
        takes either.
    """
    require(context, permission)
    row = None
    if customer_id is not None:
        row = await session.scalar(
            select(Customer)
            .where(Customer.id == customer_id, context.visible(permission, "customers"))
            .with_for_update()
        )
    if row is None or row.erased_at is not None:
        raise _not_found(field)
    if archived is False and row.archived_at is not None:
        raise UserErrors.single(
            field,
            _("customer {number} is archived; restore it first", number=row.number),
            UserErrorCode.CONFLICT,
        )
    if archived is True and row.archived_at is None:
        raise UserErrors.single(
            field, _("customer {number} is not archived", number=row.number), UserErrorCode.CONFLICT
        )
    return row


async def owner_problem(
    session: AsyncSession,
    context: RequestContext,
    owner_id: int,
    permission: str = "customers:write",
) -> str | None:
    """Why ``owner_id`` cannot own (or be assigned) what the caller manages, or ``None``:
    it must be an active user the caller's scope reaches (OWN: only themself)."""
    caller = require(context, permission)
    scope = caller.scope(permission)
    statement = select(User.id).where(User.id == owner_id, User.is_active.is_(True))
    if scope is not None and scope is not Scope.ALL:
        statement = statement.where(User.id.in_(context.owner_ids(scope)))
    if await session.scalar(statement) is not None:
        return None
    if scope is Scope.OWN:
        return _(
            "must be an active user whose customers you may manage (your scope is OWN: only "
            "yourself)"
        )
    return _("must be an active user whose customers you may manage")


async def _owner_in_reach(
    session: AsyncSession,
    context: RequestContext,
    owner_id: int | None,
    field: str,
    permission: str = "customers:write",
) -> None:
    """Refuse an owner (or assignee) out of reach (:func:`owner_problem`) with NOT_FOUND at
    the top level, naming ``input.<field>``."""
    if owner_id is None:
        return
    problem = await owner_problem(session, context, owner_id, permission)
    if problem is not None:
        raise not_found(f"input.{field}", problem)


async def _duplicates(
    session: AsyncSession,
    context: RequestContext,
    check: Check,
    email: str | None,
    phone: str | None,
    own_id: int | None,
) -> None:
    """Refuse an email or phone that an active customer already has.

    The message names that customer's number only if the caller may read it; otherwise it
    says "another customer", so a refusal reveals no record outside the caller's scope.
    """
    readable = case((context.visible("customers:read", "customers"), 1), else_=0)
    for name, column, value in (("email", Customer.email, email), ("phone", Customer.phone, phone)):
        if value is None:
            continue
        statement = select(Customer.number, readable).where(
            column == value, Customer.archived_at.is_(None), Customer.erased_at.is_(None)
        )
        if own_id is not None:
            statement = statement.where(Customer.id != own_id)
        found = (await session.execute(statement.order_by(readable.desc()).limit(1))).first()
        if found is None:
            continue
        number, may_read = found
        check.fail(name, duplicate_message(name, number, may_read), UserErrorCode.DUPLICATE)


FIELD_NAMES = {"email": _("email"), "phone": _("phone"), "number": _("number")}
"""The words for the fields a duplicate is found by, as messages name them."""


def duplicate_message(name: str, number: str, may_read: bool) -> str:
    """What a refused duplicate ``name`` (email, phone) says: the other customer's number
    only to a caller who may read that customer."""
    name = FIELD_NAMES.get(name, name)
    if may_read:
        return _("customer {number} already has this {name}", number=number, name=name)
    return _("another customer already has this {name}", name=name)
