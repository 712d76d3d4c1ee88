"""The competitor plugin's enumerations, shared by its inputs, types and services. The stored
value of each member is its name."""

from __future__ import annotations

import enum

import strawberry


@strawberry.enum(description="Where a competitor stands with us.")
class CompetitorStatus(enum.Enum):
    ACTIVE = "ACTIVE"
    WATCHING = "WATCHING"
    ARCHIVED = "ARCHIVED"


@strawberry.enum(description="How much a competitor threatens our business.")
class ThreatLevel(enum.Enum):
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"


@strawberry.enum(
    description="A company's size: MICRO (under 10 people), SMALL (10-49), MEDIUM (50-249), "
    "LARGE (250-999), ENTERPRISE (1,000 or more)."
)
class SizeBand(enum.Enum):
    MICRO = "MICRO"
    SMALL = "SMALL"
    MEDIUM = "MEDIUM"
    LARGE = "LARGE"
    ENTERPRISE = "ENTERPRISE"


@strawberry.enum(description="The four parts of a SWOT analysis.")
class SwotKind(enum.Enum):
    STRENGTH = "STRENGTH"
    WEAKNESS = "WEAKNESS"
    OPPORTUNITY = "OPPORTUNITY"
    THREAT = "THREAT"


@strawberry.enum(name="CompetitorSalesChannel", description="How a competitor sells.")
class SalesChannel(enum.Enum):
    DIRECT = "DIRECT"
    PARTNER = "PARTNER"
    ONLINE = "ONLINE"
    RETAIL = "RETAIL"
    OTHER = "OTHER"


@strawberry.enum(description="How far a piece of information can be trusted.")
class Confidence(enum.Enum):
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"


@strawberry.enum(description="What an intel entry is about.")
class IntelKind(enum.Enum):
    PRICE_CHANGE = "PRICE_CHANGE"
    PRODUCT_LAUNCH = "PRODUCT_LAUNCH"
    CAMPAIGN = "CAMPAIGN"
    PARTNERSHIP = "PARTNERSHIP"
    LEADERSHIP = "LEADERSHIP"
    WIN = "WIN"
    LOSS = "LOSS"
    OTHER = "OTHER"


@strawberry.enum(description="How a market is cut into segments: by industry or by region.")
class SegmentKind(enum.Enum):
    INDUSTRY = "INDUSTRY"
    REGION = "REGION"


@strawberry.enum(description="The length of a market period.")
class PeriodKind(enum.Enum):
    MONTH = "MONTH"
    QUARTER = "QUARTER"
    YEAR = "YEAR"


@strawberry.enum(description="How a deal met against a competitor ended for us.")
class EncounterOutcome(enum.Enum):
    WON = "WON"
    LOST = "LOST"


@strawberry.enum(
    description="Why a deal was won or lost: the sales plugin's lost reasons (PRICE, "
    "PRODUCT_FIT, COMPETITOR, TIMING, NO_DECISION, OTHER) and RELATIONSHIP and SERVICE."
)
class EncounterReason(enum.Enum):
    PRICE = "PRICE"
    PRODUCT_FIT = "PRODUCT_FIT"
    RELATIONSHIP = "RELATIONSHIP"
    SERVICE = "SERVICE"
    TIMING = "TIMING"
    NO_DECISION = "NO_DECISION"
    COMPETITOR = "COMPETITOR"
    OTHER = "OTHER"


@strawberry.enum(description="Where an encounter came from.")
class EncounterSource(enum.Enum):
    SALES = "SALES"
    """A closed opportunity of the sales plugin."""
    MANUAL = "MANUAL"
