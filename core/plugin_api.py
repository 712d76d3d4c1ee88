"""The public plugin API: everything a plugin may import, in one module.

A plugin writes ``from core.plugin_api import hookimpl, Check, RequestContext, ...`` (or
``from core import plugin_api as crm``) and nothing else from ``core``; every other module
is private and may change between releases. The import contracts (``lint-imports``) hold
the built-in plugins to this; docs/plugins.md describes each name.
"""

from __future__ import annotations

from core import audit
from core.access import AuthenticationError, Caller, actor_of, require, requires
from core.attachments.targets import AttachmentTarget
from core.attachments.types import attachments_field
from core.audit import Actor, AuditEvent
from core.background import (
    BackgroundJob,
    JobCancelled,
    JobFailed,
    JobHandler,
    JobRun,
    JobStatus,
    enqueue,
    request_cancel,
)
from core.batch_fields import BatchLoad, batch_field, related
from core.catalog import (
    ADMINISTRATOR,
    CUSTOMER_MANAGER,
    FINANCE,
    SALES_REPRESENTATIVE,
    SUPPORT_REPRESENTATIVE,
    SYSTEM_ADMINISTRATOR,
)
from core.child_pages import ChildPage
from core.config import Settings
from core.context import Info, RequestContext
from core.csv_import import ImportRowError, ParsedRow, RowError, read_csv, row_errors
from core.customers.declarations import customer_owned_by, policy_through_customer
from core.customers.hookspecs import CustomerProfileSection
from core.customers.inputs import CustomerGrade, CustomerStage
from core.customers.loaders import ContactByIdLoader, CustomerByIdLoader, customer_visible
from core.customers.models import Contact, Customer
from core.customers.service import ERASED, move_customer_rows, writable_customer
from core.customers.types import Contact as ContactNode
from core.customers.types import Customer as CustomerNode
from core.db import Base, Database, UTCDateTime, bulk_insert, utcnow
from core.errors import (
    ApiError,
    ApiErrorCode,
    UserError,
    UserErrorCode,
    UserErrors,
    bad_argument,
    forbidden,
    not_found,
)
from core.exports import ListExport, error_response, export_route, refusal
from core.extension import (
    AccessPolicy,
    CommandContext,
    CommandRunner,
    CustomerFilterField,
    Grant,
    Migrations,
    Permission,
    Scope,
    TypeFields,
)
from core.hookspecs import hookimpl, hookspec
from core.host import CRMPluginManager, PluginError, call_in_turn
from core.i18n import Text, render, translator
from core.identity.loaders import UserByIdLoader
from core.identity.models import Role, Team, User, UserRole
from core.identity.service.holders import users_with_permission
from core.identity.types import User as UserNode
from core.identity.types import UserSummary
from core.key_lists import among
from core.loaders import (
    ByIdLoader,
    ChildCountLoader,
    ChildPageLoader,
    Loader,
    group_by_key,
    one_by_key,
)
from core.mail import MailError, RenderedMail, render_mail, send_email
from core.money import (
    MAX_AMOUNT,
    Money,
    check_amount,
    check_currency,
    currency_precision,
    money_totals,
    quantize_amount,
)
from core.mutations import mutate, transact
from core.node import ModelNode, int_ids
from core.notifications.service import Environment, NotificationKind, notify
from core.ordering import ORDER_BY_HELP, ListOrder, OrderDirection, SortKey
from core.outbox import Deliverer, Delivery, DeliveryFailed, enqueue_message
from core.pagination import Connection, PageArgs, check_page_args, paginate
from core.pdf import (
    BAD,
    GOOD,
    MARGIN,
    PAGE_WIDTH,
    PANEL,
    PdfStyles,
    fit,
    list_table,
    list_table_style,
    markup,
    paragraph,
    register_fonts,
)
from core.plugin_settings import ConfigError, load_plugin_settings
from core.schedule import JobContext, PeriodicJob
from core.sequences import create_counter, drop_counter, format_number, next_value, next_values
from core.text_keys import like_pattern as search_key_pattern
from core.types import DateTimeRange, in_range
from core.validation import (
    MAX_SEARCH_LENGTH,
    Check,
    argument_id,
    global_id,
    like_pattern,
    require_version,
    search_text,
)
from core.webhooks.events import emit_event

__all__ = [
    "ADMINISTRATOR",
    "BAD",
    "CUSTOMER_MANAGER",
    "ERASED",
    "FINANCE",
    "GOOD",
    "MARGIN",
    "MAX_AMOUNT",
    "MAX_SEARCH_LENGTH",
    "ORDER_BY_HELP",
    "PAGE_WIDTH",
    "PANEL",
    "SALES_REPRESENTATIVE",
    "SUPPORT_REPRESENTATIVE",
    "SYSTEM_ADMINISTRATOR",
    "AccessPolicy",
    "Actor",
    "ApiError",
    "ApiErrorCode",
    "AttachmentTarget",
    "AuditEvent",
    "AuthenticationError",
    "BackgroundJob",
    "Base",
    "BatchLoad",
    "ByIdLoader",
    "CRMPluginManager",
    "Caller",
    "Check",
    "ChildCountLoader",
    "ChildPage",
    "ChildPageLoader",
    "CommandContext",
    "CommandRunner",
    "ConfigError",
    "Connection",
    "Contact",
    "ContactByIdLoader",
    "ContactNode",
    "Customer",
    "CustomerByIdLoader",
    "CustomerFilterField",
    "CustomerGrade",
    "CustomerNode",
    "CustomerProfileSection",
    "CustomerStage",
    "Database",
    "DateTimeRange",
    "Deliverer",
    "Delivery",
    "DeliveryFailed",
    "Environment",
    "Grant",
    "ImportRowError",
    "Info",
    "JobCancelled",
    "JobContext",
    "JobFailed",
    "JobHandler",
    "JobRun",
    "JobStatus",
    "ListExport",
    "ListOrder",
    "Loader",
    "MailError",
    "Migrations",
    "ModelNode",
    "Money",
    "NotificationKind",
    "OrderDirection",
    "PageArgs",
    "ParsedRow",
    "PdfStyles",
    "PeriodicJob",
    "Permission",
    "PluginError",
    "RenderedMail",
    "RequestContext",
    "Role",
    "RowError",
    "Scope",
    "Settings",
    "SortKey",
    "Team",
    "Text",
    "TypeFields",
    "UTCDateTime",
    "User",
    "UserByIdLoader",
    "UserError",
    "UserErrorCode",
    "UserErrors",
    "UserNode",
    "UserRole",
    "UserSummary",
    "actor_of",
    "among",
    "argument_id",
    "attachments_field",
    "audit",
    "bad_argument",
    "batch_field",
    "bulk_insert",
    "call_in_turn",
    "check_amount",
    "check_currency",
    "check_page_args",
    "create_counter",
    "currency_precision",
    "customer_owned_by",
    "customer_visible",
    "drop_counter",
    "emit_event",
    "enqueue",
    "enqueue_message",
    "error_response",
    "export_route",
    "fit",
    "forbidden",
    "format_number",
    "global_id",
    "group_by_key",
    "hookimpl",
    "hookspec",
    "in_range",
    "int_ids",
    "like_pattern",
    "list_table",
    "list_table_style",
    "load_plugin_settings",
    "markup",
    "money_totals",
    "move_customer_rows",
    "mutate",
    "next_value",
    "next_values",
    "not_found",
    "notify",
    "one_by_key",
    "paginate",
    "paragraph",
    "policy_through_customer",
    "quantize_amount",
    "read_csv",
    "refusal",
    "register_fonts",
    "related",
    "render",
    "render_mail",
    "request_cancel",
    "require",
    "require_version",
    "requires",
    "row_errors",
    "search_key_pattern",
    "search_text",
    "send_email",
    "transact",
    "translator",
    "users_with_permission",
    "utcnow",
    "writable_customer",
]
