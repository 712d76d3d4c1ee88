"""The orderings of the customer graph's lists (``orderBy``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import case, func, literal, select

from core.customers import models
from core.customers.inputs import (
    ContactOrderField,
    CustomerOrderField,
    CustomerStage,
    InteractionOrderField,
    TaskOrderField,
)
from core.db import UTCDateTime
from core.identity.models import User
from core.ordering import ListOrder

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _rank(column: Any, values: list[str]) -> Any:
    """``column``'s place in ``values`` (0, 1, ...): an enum sorted in its own order."""
    return case({value: rank for rank, value in enumerate(values)}, value=column, else_=len(values))


# Never-contacted customers sort as if contacted at the epoch (first when ascending). The
# epoch is written into the SQL, not bound, so that the expression is the one of the index
# in this order (migration core_0005).
_LAST_INTERACTION = func.coalesce(
    models.Customer.last_interaction_at, literal(EPOCH, UTCDateTime(), literal_execute=True)
)

CUSTOMER_ORDER = ListOrder(
    {
        CustomerOrderField.NAME: models.Customer.name_sort,
        CustomerOrderField.NUMBER: models.Customer.number,
        CustomerOrderField.CREATED_AT: models.Customer.created_at,
        CustomerOrderField.UPDATED_AT: models.Customer.updated_at,
        CustomerOrderField.LAST_INTERACTION_AT: _LAST_INTERACTION,
        CustomerOrderField.STAGE: _rank(
            models.Customer.stage, [stage.value for stage in CustomerStage]
        ),
        CustomerOrderField.GRADE: _rank(models.Customer.grade, ["STANDARD", "SILVER", "GOLD"]),
        CustomerOrderField.OWNER: select(User.name)
        .where(User.id == models.Customer.owner_id)
        .scalar_subquery(),
    },
    models.Customer.id,
    default=[(CustomerOrderField.NAME, False)],
    nullable=[CustomerOrderField.OWNER],
)
"""Customer lists' orderings: by name unless ``orderBy`` says otherwise; OWNER sorts by the
owner's name, customers without one last (first when descending)."""


CONTACT_ORDER = ListOrder(
    {
        ContactOrderField.NAME: models.Contact.name_sort,
        ContactOrderField.CREATED_AT: models.Contact.created_at,
        ContactOrderField.UPDATED_AT: models.Contact.updated_at,
    },
    models.Contact.id,
    default=[(ContactOrderField.NAME, False)],
)
"""Contact lists' orderings: by name unless ``orderBy`` says otherwise."""

INTERACTION_ORDER = ListOrder(
    {
        InteractionOrderField.OCCURRED_AT: models.Interaction.occurred_at,
        InteractionOrderField.CREATED_AT: models.Interaction.created_at,
    },
    models.Interaction.id,
    default=[(InteractionOrderField.OCCURRED_AT, True)],
)
"""A customer's timeline's orderings: newest first unless ``orderBy`` says otherwise."""

TASK_ORDER = ListOrder(
    {
        TaskOrderField.DUE_AT: models.Task.due_at,
        TaskOrderField.CREATED_AT: models.Task.created_at,
        TaskOrderField.UPDATED_AT: models.Task.updated_at,
        TaskOrderField.DONE_AT: models.Task.done_at,
    },
    models.Task.id,
    default=[(TaskOrderField.DUE_AT, False)],
    nullable=[TaskOrderField.DONE_AT],
)
"""Task lists' orderings: soonest due first unless ``orderBy`` says otherwise."""
