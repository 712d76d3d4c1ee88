"""Changes to the customer graph: checked, scoped, versioned, audited, announced to plugins.

Every function runs in the caller's transaction. Writes reach only the customers the caller
may change (``customers:write`` in scope; ``followups:write`` for interactions and tasks);
a customer outside that scope is reported as not found, never revealed. Plugins hear of
changes through the ``crm_customer_*`` hooks in the same transaction, and can veto archive
and erase by raising :class:`~core.errors.UserErrors`.

One file per aggregate: ``customers``, ``contacts``, ``followups`` (interactions), ``tasks``,
``tags``, ``fields`` (custom fields), ``merge`` and ``erase``; ``common`` holds the checks
they share. The public names are all here.
"""

from __future__ import annotations

from core.customers.service.common import writable_customer
from core.customers.service.contacts import (
    CONTACT_FIELDS,
    archive_contact,
    create_contact,
    set_primary_contact,
    update_contact,
    writable_contact,
)
from core.customers.service.customers import (
    ADDRESS_COLUMNS,
    COUNTER,
    CREATE_DEFAULTS,
    CUSTOMER_FIELDS,
    NUMBER_PREFIX,
    CustomerValues,
    archive_customer,
    create_customer,
    restore_customer,
    transfer_customers,
    update_customer,
)
from core.customers.service.erase import ERASED, erase_customer
from core.customers.service.fields import KEY_PATTERN, custom_fields, define_custom_field
from core.customers.service.followups import log_interaction
from core.customers.service.merge import MergeResult, merge_customers, move_customer_rows
from core.customers.service.tags import rename_tag, tag_customers
from core.customers.service.tasks import (
    TASK_TYPES,
    cancel_task,
    complete_task,
    create_task,
    reassign_task,
    reschedule_task,
    task_status,
)

__all__ = [
    "ADDRESS_COLUMNS",
    "CONTACT_FIELDS",
    "COUNTER",
    "CREATE_DEFAULTS",
    "CUSTOMER_FIELDS",
    "ERASED",
    "KEY_PATTERN",
    "NUMBER_PREFIX",
    "TASK_TYPES",
    "CustomerValues",
    "MergeResult",
    "archive_contact",
    "archive_customer",
    "cancel_task",
    "complete_task",
    "create_contact",
    "create_customer",
    "create_task",
    "custom_fields",
    "define_custom_field",
    "erase_customer",
    "log_interaction",
    "merge_customers",
    "move_customer_rows",
    "reassign_task",
    "rename_tag",
    "reschedule_task",
    "restore_customer",
    "set_primary_contact",
    "tag_customers",
    "task_status",
    "transfer_customers",
    "update_contact",
    "update_customer",
    "writable_contact",
    "writable_customer",
]
