"""The composition root: builds the one GraphQL schema, the HTTP app and the CLI."""

from schema.builder import CRMSchema, SchemaConflictError, build_schema

__all__ = ["CRMSchema", "SchemaConflictError", "build_schema"]
