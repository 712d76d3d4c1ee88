"""Value types that plugins hand to the host through hooks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Migrations:
    """Where a module keeps its Alembic versions, and which models are its own.

    :param branch: the module's Alembic branch label (its first revision carries it).
    :param directory: the folder of its version scripts.
    :param package: the Python package whose mapped classes are this module's tables;
        used to compare models and migrations module by module.
    """

    branch: str
    directory: Path
    package: str


@dataclass(frozen=True)
class TypeFields:
    """Fields a module adds to a GraphQL object type it does not own.

    :param target: the Strawberry type to extend (for example core's ``System``).
    :param fields: Python field name -> ``strawberry.field(resolver=...)``. The resolver gets
        the parent object as its ``root`` argument. The GraphQL name is the camelCase of the
        key. A name another module (or the type itself) already has stops startup.
    """

    target: type[Any]
    fields: Mapping[str, Any]
