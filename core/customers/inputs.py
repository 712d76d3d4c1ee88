"""GraphQL inputs and enums of the customer graph."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
from typing import Any

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from core.ordering import OrderDirection
from core.text_encoding import ImportEncoding
from core.types import DateTimeRange


@strawberry.enum(description="A company or a private person.")
class CustomerKind(enum.Enum):
    COMPANY = "COMPANY"
    PERSON = "PERSON"


@strawberry.enum(description="Where the customer is in its lifecycle.")
class CustomerStage(enum.Enum):
    POTENTIAL = "POTENTIAL"
    NEW = "NEW"
    ACTIVE = "ACTIVE"
    DORMANT = "DORMANT"
    CHURNED = "CHURNED"


@strawberry.enum(description="How valuable the customer is.")
class CustomerGrade(enum.Enum):
    GOLD = "GOLD"
    SILVER = "SILVER"
    STANDARD = "STANDARD"


@strawberry.enum(description="How the customer found us.")
class CustomerSource(enum.Enum):
    TRADE_SHOW = "TRADE_SHOW"
    INBOUND = "INBOUND"
    REFERRAL = "REFERRAL"
    CAMPAIGN = "CAMPAIGN"
    PARTNER = "PARTNER"
    WEBSITE = "WEBSITE"
    OTHER = "OTHER"


@strawberry.enum(description="How an interaction took place.")
class InteractionChannel(enum.Enum):
    PHONE = "PHONE"
    EMAIL = "EMAIL"
    MEETING = "MEETING"
    ONLINE_MEETING = "ONLINE_MEETING"
    VISIT = "VISIT"
    OTHER = "OTHER"


@strawberry.enum(description="The type of a custom field's values.")
class CustomFieldType(enum.Enum):
    TEXT = "TEXT"
    NUMBER = "NUMBER"
    DATE = "DATE"
    BOOLEAN = "BOOLEAN"
    SELECT = "SELECT"


@strawberry.enum(description="The kind of record a custom field belongs to.")
class CustomFieldEntity(enum.Enum):
    CUSTOMER = "CUSTOMER"
    CONTACT = "CONTACT"


@strawberry.input(
    description="A postal address. On update, only the parts given change (null clears a "
    "part); `address: null` clears the whole address."
)
class AddressInput:
    line1: str | None = strawberry.UNSET
    line2: str | None = strawberry.UNSET
    city: str | None = strawberry.UNSET
    region: str | None = strawberry.UNSET
    postal_code: str | None = strawberry.UNSET
    country: str | None = strawberry.field(
        default=strawberry.UNSET,
        description=(
            "ISO 3166-1 alpha-2 code; alpha-3 codes and English or Simplified Chinese names "
            "(CHN, China, 中国) are accepted and stored as the alpha-2 code."
        ),
    )


@strawberry.input(
    description="A custom field value to set, typed: the field's key and the one member that "
    "matches its type (`text` for TEXT, `number` for NUMBER, `date` for DATE, `boolean` for "
    "BOOLEAN, `choice` for SELECT); with no member, the value is removed."
)
class CustomFieldValueInput:
    key: str
    text: str | None = None
    number: decimal.Decimal | None = None
    date: dt.date | None = None
    boolean: bool | None = None
    choice: str | None = None


@strawberry.input
class CreateCustomerInput:
    name: str
    kind: CustomerKind = CustomerKind.COMPANY
    industry: str | None = None
    stage: CustomerStage = CustomerStage.POTENTIAL
    grade: CustomerGrade = CustomerGrade.STANDARD
    source: CustomerSource | None = None
    phone: str | None = None
    email: str | None = None
    website: str | None = None
    founded_on: dt.date | None = None
    address: AddressInput | None = None
    owner_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Defaults to the caller."
    )
    allow_duplicates: bool = strawberry.field(
        default=False,
        description="Create it even though likely duplicates exist (refused with DUPLICATE "
        "and the candidates in the payload's `duplicates` otherwise).",
    )
    tags: list[str] = strawberry.field(default_factory=list, description="Tag names.")
    custom_fields: JSON | None = strawberry.field(
        default=None, description="Values by custom field key (or customFieldValues)."
    )
    custom_field_values: list[CustomFieldValueInput] | None = strawberry.field(
        default=None, description="Values as typed entries (or customFields, not both)."
    )


@strawberry.input
class UpdateCustomerInput:
    id: relay.GlobalID
    version: int = strawberry.field(description="The version you read; a stale one is refused.")
    name: str | None = strawberry.UNSET
    kind: CustomerKind | None = strawberry.UNSET
    industry: str | None = strawberry.UNSET
    stage: CustomerStage | None = strawberry.UNSET
    grade: CustomerGrade | None = strawberry.UNSET
    source: CustomerSource | None = strawberry.UNSET
    phone: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    website: str | None = strawberry.UNSET
    founded_on: dt.date | None = strawberry.UNSET
    address: AddressInput | None = strawberry.UNSET
    owner_id: relay.GlobalID | None = strawberry.UNSET
    custom_fields: JSON | None = strawberry.field(
        default=strawberry.UNSET, description="Keys given replace their values; null removes."
    )
    custom_field_values: list[CustomFieldValueInput] | None = strawberry.field(
        default=strawberry.UNSET,
        description="Typed entries (or customFields, not both): keys given replace their "
        "values; an entry without a value member removes it.",
    )


@strawberry.input
class CustomerRefInput:
    id: relay.GlobalID
    version: int


@strawberry.input
class EraseCustomerInput:
    id: relay.GlobalID
    version: int
    reason: str = strawberry.field(description="Why, for the audit trail (a request reference).")


@strawberry.input
class MergeCustomersInput:
    source_id: relay.GlobalID
    target_id: relay.GlobalID
    dry_run: bool = False


@strawberry.input
class TransferCustomersInput:
    customer_ids: list[relay.GlobalID]
    owner_id: relay.GlobalID


@strawberry.input
class CreateContactInput:
    customer_id: relay.GlobalID
    name: str
    title: str | None = None
    phone: str | None = None
    mobile: str | None = None
    email: str | None = None
    birthday: dt.date | None = None
    primary: bool = False
    notes: str | None = None
    locale: str | None = strawberry.field(
        default=None, description="`en` or `zh-CN`; null: the deployment's (`CRM_LOCALE`)."
    )
    time_zone: str | None = strawberry.field(
        default=None,
        description="IANA time zone, e.g. `Asia/Shanghai`; null: the deployment's.",
    )


@strawberry.input
class UpdateContactInput:
    id: relay.GlobalID
    version: int
    name: str | None = strawberry.UNSET
    title: str | None = strawberry.UNSET
    phone: str | None = strawberry.UNSET
    mobile: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    birthday: dt.date | None = strawberry.UNSET
    notes: str | None = strawberry.UNSET
    locale: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="`en` or `zh-CN`; null: the deployment's (`CRM_LOCALE`).",
    )
    time_zone: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="IANA time zone, e.g. `Asia/Shanghai`; null: the deployment's.",
    )


@strawberry.input
class ContactRefInput:
    id: relay.GlobalID
    version: int


@strawberry.input
class LogInteractionInput:
    customer_id: relay.GlobalID
    contact_id: relay.GlobalID | None = None
    channel: InteractionChannel
    summary: str
    occurred_at: dt.datetime | None = strawberry.field(default=None, description="Default: now.")
    participant_ids: list[relay.GlobalID] = strawberry.field(default_factory=list)
    next_follow_up_at: dt.datetime | None = strawberry.field(
        default=None, description="Also creates a follow-up task due then."
    )


@strawberry.input
class TagCustomersInput:
    customer_ids: list[relay.GlobalID]
    tags: list[str]


@strawberry.input
class RenameTagInput:
    id: relay.GlobalID
    name: str = strawberry.field(description="If another tag has this name, the two merge.")


@strawberry.input
class DefineCustomFieldInput:
    entity: CustomFieldEntity = CustomFieldEntity.CUSTOMER
    key: str
    label: str
    type: CustomFieldType
    options: list[str] | None = None
    required: bool = False


@strawberry.input
class CustomFieldFilter:
    key: str
    equals: JSON


@strawberry.enum
class TagMatch(enum.Enum):
    ANY = "ANY"
    ALL = "ALL"


@strawberry.input
class CustomerFilter:
    search: str | None = strawberry.field(
        default=None,
        description="Part of name, number, phone, email or a contact's name; width, case "
        "and spacing do not matter, and Chinese names are found by their pinyin (beijing) "
        "and its initials (bj) too.",
    )
    stage: list[CustomerStage] | None = None
    grade: list[CustomerGrade] | None = None
    industry: list[str] | None = None
    source: list[CustomerSource] | None = None
    owner_id: relay.GlobalID | None = None
    tags: list[str] | None = None
    tag_match: TagMatch = TagMatch.ANY
    created: DateTimeRange | None = None
    last_interaction: DateTimeRange | None = None
    custom_fields: list[CustomFieldFilter] | None = None
    archived: bool = strawberry.field(
        default=False, description="true lists archived customers instead of active ones."
    )
    plugin_values: strawberry.Private[dict[str, Any]] = dataclasses.field(default_factory=dict)
    """The fields modules add (``crm_customer_filter_fields``) the client set, by GraphQL
    name, as GraphQL coerced them (:mod:`core.customers.filter_fields` converts and applies
    them)."""


@strawberry.enum(
    description="What a customer list sorts by. STAGE follows the lifecycle (POTENTIAL, "
    "NEW, ACTIVE, DORMANT, CHURNED), NAME the name in pinyin order (Chinese characters by "
    "their pinyin, other letters ignoring case and accents), GRADE the value (STANDARD, "
    "SILVER, GOLD), OWNER the owner's name (customers without an owner sort as NULL: "
    "last ascending, first descending), LAST_INTERACTION_AT puts never-contacted "
    "customers first ascending."
)
class CustomerOrderField(enum.Enum):
    NAME = "NAME"
    NUMBER = "NUMBER"
    CREATED_AT = "CREATED_AT"
    UPDATED_AT = "UPDATED_AT"
    LAST_INTERACTION_AT = "LAST_INTERACTION_AT"
    STAGE = "STAGE"
    GRADE = "GRADE"
    OWNER = "OWNER"


@strawberry.input(description="One entry of a customer list's orderBy.")
class CustomerOrder:
    field: CustomerOrderField = CustomerOrderField.NAME
    direction: OrderDirection = OrderDirection.ASC


@strawberry.enum(
    description="What a contact list sorts by. NAME sorts names in pinyin order, as "
    "customer lists do."
)
class ContactOrderField(enum.Enum):
    NAME = "NAME"
    CREATED_AT = "CREATED_AT"
    UPDATED_AT = "UPDATED_AT"


@strawberry.input(description="One entry of a contact list's orderBy.")
class ContactOrder:
    field: ContactOrderField
    direction: OrderDirection = OrderDirection.ASC


@strawberry.enum(description="What a customer's timeline sorts by.")
class InteractionOrderField(enum.Enum):
    OCCURRED_AT = "OCCURRED_AT"
    CREATED_AT = "CREATED_AT"


@strawberry.input(description="One entry of a timeline's orderBy.")
class InteractionOrder:
    field: InteractionOrderField
    direction: OrderDirection = OrderDirection.ASC


@strawberry.enum(
    description="What a task list sorts by; DONE_AT puts open tasks (NULL) last ascending, "
    "first descending."
)
class TaskOrderField(enum.Enum):
    DUE_AT = "DUE_AT"
    CREATED_AT = "CREATED_AT"
    UPDATED_AT = "UPDATED_AT"
    DONE_AT = "DONE_AT"


@strawberry.input(description="One entry of a task list's orderBy.")
class TaskOrder:
    field: TaskOrderField
    direction: OrderDirection = OrderDirection.ASC


@strawberry.input
class ContactFilter:
    search: str | None = strawberry.field(
        default=None,
        description="Part of a contact's name or email, matched as a customer search is "
        "(pinyin and initials included).",
    )
    customer_id: relay.GlobalID | None = None


@strawberry.input
class ArchiveCustomerInput(CustomerRefInput):
    pass


@strawberry.input
class RestoreCustomerInput(CustomerRefInput):
    pass


@strawberry.input
class UntagCustomersInput(TagCustomersInput):
    pass


@strawberry.input
class ArchiveContactInput(ContactRefInput):
    pass


@strawberry.input
class SetPrimaryContactInput(ContactRefInput):
    pass


@strawberry.enum(description="A column that identifies an existing customer in an import.")
class ImportMatch(enum.Enum):
    EMAIL = "EMAIL"
    PHONE = "PHONE"
    NUMBER = "NUMBER"


strawberry.enum(
    ImportEncoding,
    name="ImportEncoding",
    description="How the bytes of an imported file are read: AUTO takes strict UTF-16 when "
    "the file starts with its byte-order mark (Excel's 'Unicode text'), else strict UTF-8 (a "
    "byte-order mark dropped), else strict GB18030 (GBK, what Excel on Chinese Windows saves "
    "as CSV), else refuses the file. UTF_8 and GB18030 read only that encoding.",
)


@strawberry.input
class ImportCustomersInput:
    csv: str | None = strawberry.field(
        default=None,
        description="CSV text with a header row; columns as in the export, plus custom:<key>. "
        "Give this or csvBase64.",
    )
    csv_base64: str | None = strawberry.field(
        default=None,
        description="The CSV file's bytes in base64, for the service to decode as encoding "
        "says. Give this or csv.",
    )
    encoding: ImportEncoding = strawberry.field(
        default=ImportEncoding.AUTO,
        description="How csvBase64 is read (csv is text already).",
    )
    dry_run: bool = strawberry.field(default=False, description="Check every row, keep nothing.")
    match_on: list[ImportMatch] = strawberry.field(
        default_factory=lambda: [ImportMatch.EMAIL],
        description="Keys that find an existing customer to update, tried in order.",
    )


@strawberry.input
class StartCustomerImportInput(ImportCustomersInput):
    pass


@strawberry.input
class CancelCustomerImportInput:
    id: relay.GlobalID
