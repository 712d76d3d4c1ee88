"""Core's own contributions, registered through the same hooks as every plugin's."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import strawberry
from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.routing import BaseRoute, Route

from core import demo
from core.config import Settings
from core.customers import demo as customer_demo
from core.customers import exchange
from core.customers import jobs as customer_jobs
from core.customers import types as customer_types
from core.customers.models import Customer
from core.customers.schema import CustomerMutation, CustomerQuery
from core.db import Database
from core.extension import AccessPolicy, Grant, Migrations, Permission
from core.hookspecs import hookimpl
from core.identity import declarations
from core.identity import types as identity_types
from core.identity.schema import IdentityMutation, IdentityQuery
from core.queries import CoreQuery

MIGRATIONS_DIR = Path(__file__).parent / "migrations" / "versions"


@strawberry.type(name="CoreQuery")
class Query(CoreQuery, IdentityQuery, CustomerQuery):
    """Core's root query fields."""


@strawberry.type(name="CoreMutation")
class Mutation(IdentityMutation, CustomerMutation):
    """Core's root mutation fields."""


def _customers_owned_by(ids: Any) -> ColumnElement[bool]:
    return Customer.owner_id.in_(ids)


@hookimpl
def crm_migrations() -> Migrations:
    return Migrations(branch="core", directory=MIGRATIONS_DIR, package="core")


@hookimpl
def crm_graphql_query() -> type[Any]:
    return Query


@hookimpl
def crm_graphql_mutation() -> type[Any]:
    return Mutation


@hookimpl
def crm_graphql_types() -> Sequence[type[Any]]:
    return [
        identity_types.User,
        identity_types.Team,
        identity_types.Role,
        identity_types.ApiToken,
        identity_types.AuditEvent,
        customer_types.Customer,
        customer_types.Contact,
        customer_types.Interaction,
        customer_types.Task,
        customer_types.Tag,
        customer_types.CustomFieldDefinition,
    ]


@hookimpl
def crm_permissions() -> Sequence[Permission]:
    return declarations.PERMISSIONS


@hookimpl
def crm_role_grants() -> Mapping[str, Sequence[Grant]]:
    return declarations.ROLE_GRANTS


@hookimpl
def crm_access_policies() -> Sequence[AccessPolicy]:
    # Customers are owned by their owner; contacts, interactions and tasks go with them.
    # Follow-ups (interactions, tasks) are scoped through the same customer ownership.
    return [
        *declarations.POLICIES,
        AccessPolicy("customers", _customers_owned_by),
        AccessPolicy("followups", _customers_owned_by),
    ]


@hookimpl
def crm_http_routes() -> Sequence[BaseRoute]:
    return [Route("/export/customers.{format:str}", exchange.export_customers, methods=["GET"])]


@hookimpl
async def crm_jobs_run(db: Database, settings: Settings, now: dt.datetime) -> Mapping[str, int]:
    return await customer_jobs.run(db, settings, now)


@hookimpl
async def crm_demo_data(session: AsyncSession, size: int, settings: Settings) -> None:
    await demo.load(session, size, settings)
    await customer_demo.load(session, size)
