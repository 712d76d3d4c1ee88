"""Wiring: everything the plugin adds reaches the CRM through these hook implementations."""

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from core import plugin_api as crm
from crm_warranty import models, service
from crm_warranty.mutations import WarrantyMutation
from crm_warranty.queries import WarrantyQuery, customer_warranties
from crm_warranty.types import Warranty


@crm.hookimpl
def crm_migrations() -> crm.Migrations:
    return crm.Migrations("warranty", Path(__file__).parent / "migrations/versions", __package__)


@crm.hookimpl
def crm_graphql_query() -> type[Any]:
    return WarrantyQuery


@crm.hookimpl
def crm_graphql_mutation() -> type[Any]:
    return WarrantyMutation


@crm.hookimpl
def crm_graphql_type_fields() -> Sequence[crm.TypeFields]:
    warranties = crm.batch_field(customer_warranties, graphql_type=crm.Connection[Warranty] | None)
    return [crm.TypeFields(target=crm.CustomerNode, fields={"warranties": warranties})]


@crm.hookimpl
def crm_permissions() -> Sequence[crm.Permission]:
    return [
        crm.Permission("warranties:read", "See customers' product warranties."),
        crm.Permission("warranties:write", "Register warranties."),
    ]


@crm.hookimpl
def crm_role_grants() -> Mapping[str, Sequence[crm.Grant]]:
    both = ("warranties:read", "warranties:write")
    return {
        crm.SALES_REPRESENTATIVE: [crm.Grant(p, crm.Scope.OWN) for p in both],
        crm.CUSTOMER_MANAGER: [crm.Grant(p, crm.Scope.TEAM) for p in both],
        crm.SUPPORT_REPRESENTATIVE: [crm.Grant("warranties:read", crm.Scope.ALL)],
    }


@crm.hookimpl
def crm_access_policies() -> Sequence[crm.AccessPolicy]:
    return [crm.policy_through_customer("warranties", models.Warranty.customer_id)]


@crm.hookimpl
async def crm_customer_merge(
    session: AsyncSession, source: crm.Customer, target: crm.Customer, dry_run: bool
) -> Mapping[str, int]:
    column = models.Warranty.customer_id
    return {
        "warranties": await crm.move_customer_rows(session, column, source.id, target.id, dry_run)
    }


@crm.hookimpl
async def crm_customer_erased(session: AsyncSession, customer: crm.Customer) -> None:
    await service.erase(session, customer.id)


@crm.hookimpl
def crm_cli_commands(cli: typer.Typer, run: crm.CommandRunner) -> None:
    group = typer.Typer(help="Product warranties.", no_args_is_help=True)
    cli.add_typer(group, name="warranty")

    @group.command()
    def expiring(days: Annotated[int, typer.Option(min=0)] = 30) -> None:
        """List the warranties that end within DAYS days."""

        async def work(context: crm.CommandContext) -> list[models.Warranty]:
            async with context.db.read() as session:
                return await service.expiring(session, context.today(), days)

        for row in run(work):
            typer.echo(f"{row.ends_on.isoformat()}  {row.serial}  {row.product}")
