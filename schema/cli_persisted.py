"""``crm persisted-queries register``: a client build's operations become the only ones that
run under ``CRM_PERSISTED_QUERIES=trusted``."""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any

import typer
from graphql import GraphQLError, parse, validate

from core import persisted
from core.extension import CommandContext
from schema.builder import build_schema
from schema.runner import console, fail, run_command

persisted_cli = typer.Typer(
    help="Persisted queries: register a client build's operations.", no_args_is_help=True
)
MANIFEST_FORMAT = "apollo-persisted-query-manifest"


def _operations(text: str) -> list[dict[str, Any]]:
    """The operations of an Apollo persisted query manifest (``generate-persisted-query-
    manifest``: ``{"format", "version": 1, "operations": [{"id", "name", "type", "body"}]}``)."""
    try:
        manifest = json.loads(text)
    except ValueError as exc:
        fail(f"MANIFEST: not JSON ({exc})")
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        fail(f'MANIFEST: expected {{"format": "{MANIFEST_FORMAT}", "version": 1, ...}}')
    if manifest.get("version") != 1:
        fail("MANIFEST: only version 1 manifests are known")
    operations = manifest.get("operations")
    if not isinstance(operations, list) or not all(isinstance(o, dict) for o in operations):
        fail("MANIFEST: 'operations' must be a list of objects")
    return operations


@persisted_cli.command("register")
def register(
    manifest: Annotated[
        typer.FileText,
        typer.Argument(help="Apollo's persisted query manifest (JSON) of a client build."),
    ],
) -> None:
    """Register every operation of a client build's manifest. Each must have its SHA-256 as
    its id and validate against this deployment's schema; if any does not, none is added."""
    operations = _operations(manifest.read())

    async def work(ctx: CommandContext) -> int:
        schema = build_schema(ctx.pm, ctx.settings)
        documents: dict[str, str] = {}
        problems: list[str] = []
        for index, operation in enumerate(operations):
            name = operation.get("name") or f"operation {index}"
            body, given = operation.get("body"), operation.get("id")
            if not isinstance(body, str) or not isinstance(given, str):
                problems.append(f"{name}: needs a string 'id' and 'body'")
                continue
            if hashlib.sha256(body.encode()).hexdigest() != given:
                problems.append(f"{name}: its id is not the SHA-256 of its body")
                continue
            try:
                errors = validate(schema._schema, parse(body))
            except GraphQLError as exc:
                errors = [exc]
            if errors:
                problems.append(f"{name}: {errors[0].message}")
                continue
            documents[given] = body
        if problems:
            fail("nothing registered: " + "; ".join(problems))
        return await persisted.register(ctx.db, documents, ctx.now())

    added = run_command(work)
    console.print(
        f"{len(operations)} operations in the manifest; {added} newly registered",
        highlight=False,
    )
