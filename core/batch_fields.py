"""Fields computed for many parents at once: the declaration both read paths use.

``batch_field(load)`` makes a field whose values come from ``load(context, parents,
**arguments)``, an async function returning one value per parent, in order (an
``Exception`` in place of a value fails that parent's field alone). The parameters of
``load`` after the first two are the field's GraphQL arguments, declared as a resolver's
are (annotations, defaults, ``strawberry.argument``); the field's type is the annotation
of the attribute it is assigned to::

    async def owners(context: RequestContext, customers: Sequence[Customer]) -> list[...]:
        return await UserSummary.load_many(context, [c.owner_id for c in customers])

    @strawberry.type
    class Customer:
        owner: UserSummary | None = batch_field(owners, description="...")

``reads`` names the attributes of the parents that ``load`` reads (``related`` declares its
own): a page of parents whose fields a query reads are all plain or declared can then be read
with those columns alone (:func:`core.light_nodes.light_nodes`). A function that reads more
than it declares fails on such a page, so declare exactly what it reads, or nothing.

The compiled read path calls ``load`` once per level of the response with every parent
there; graphql-core's executor (the reference path) resolves the field once per parent, and
the resolver gathers the parents of a tick through a per-request dataloader, so ``load``
runs once per level on that path too: both paths share the one piece of code.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import strawberry
from aiodataloader import DataLoader
from strawberry.types import Info

if TYPE_CHECKING:
    from core.context import RequestContext

BatchLoad = Callable[..., Awaitable[Sequence[Any]]]
"""``async load(context, parents, **arguments) -> one value per parent``."""

BATCH_ATTRIBUTE = "__crm_batch__"
READS_ATTRIBUTE = "__crm_reads__"


def batch_field(load: BatchLoad, *, reads: Iterable[str] | None = None, **field: Any) -> Any:
    """A ``strawberry.field`` computed by ``load`` for all the parents of a level at once;
    ``reads``: the parents' attributes ``load`` reads (by default what ``load`` declares
    itself, as :func:`related` does; else undeclared); ``field`` holds
    ``strawberry.field``'s own options (``description``, ``extensions``...)."""
    declared = frozenset(reads) if reads is not None else getattr(load, READS_ATTRIBUTE, None)
    signature = inspect.signature(load)
    parameters = list(signature.parameters.values())
    if len(parameters) < 2:
        raise TypeError(f"{load.__qualname__} must take (context, parents, **arguments)")
    arguments = parameters[2:]

    async def resolve(self: Any, info: Info[Any, Any], **given: Any) -> Any:
        return await info.context.batch(load, given).load(self)

    positional = inspect.Parameter.POSITIONAL_OR_KEYWORD
    resolve.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[
            inspect.Parameter("self", positional),
            inspect.Parameter("info", positional, annotation=Info),
            *arguments,
        ],
        return_annotation=inspect.Signature.empty,
    )
    resolve.__annotations__ = {
        **{parameter.name: parameter.annotation for parameter in arguments},
        "info": Info,
    }
    resolve.__module__ = load.__module__
    resolve.__name__ = resolve.__qualname__ = load.__name__
    setattr(resolve, BATCH_ATTRIBUTE, load)
    setattr(resolve, READS_ATTRIBUTE, declared)
    return strawberry.field(resolver=resolve, **field)


def related(target: Any, attribute: str) -> BatchLoad:
    """The batch function of a field holding the record another attribute names:
    ``target.load_many(context, [parent.<attribute> for each parent])``. ``target`` is a
    class with that classmethod (a :class:`core.node.ModelNode`, ``UserSummary``), or a
    function returning one, for a class defined further down."""

    async def load(context: RequestContext, parents: Sequence[Any]) -> Sequence[Any]:
        kind: Any = target if isinstance(target, type) else target()
        found: Sequence[Any] = await kind.load_many(
            context, [getattr(parent, attribute) for parent in parents]
        )
        return found

    load.__qualname__ = load.__name__ = f"related_{attribute}"
    setattr(load, READS_ATTRIBUTE, frozenset({attribute}))
    return load


def batch_of(resolver: object) -> BatchLoad | None:
    """The batch function a resolver was declared with, or ``None``."""
    found: BatchLoad | None = getattr(resolver, BATCH_ATTRIBUTE, None)
    return found


def reads_of(resolver: object) -> frozenset[str] | None:
    """The parents' attributes a batch field's function reads, or ``None`` when undeclared."""
    found: frozenset[str] | None = getattr(resolver, READS_ATTRIBUTE, None)
    return found


class BatchLoader(DataLoader[Any, Any]):
    """Gathers the parents of one ``(load, arguments)`` that resolve in the same tick.

    Keys are the parent objects themselves, which need not be hashable: the loader keeps no
    cache, and each key is looked up by identity within its batch.
    """

    def __init__(self, context: RequestContext, load: BatchLoad, arguments: dict[str, Any]) -> None:
        super().__init__(cache=False)
        self.context = context
        self._load = load
        self._arguments = arguments

    async def batch_load_fn(self, parents: Sequence[Any]) -> list[Any]:
        values = list(await self._load(self.context, list(parents), **self._arguments))
        if len(values) != len(parents):
            raise RuntimeError(mismatch(self._load, len(values), len(parents)))
        return values


def mismatch(load: BatchLoad, values: int, parents: int) -> str:
    """The error of a batch function that did not return one value per parent."""
    return f"{load.__qualname__} returned {values} values for {parents} parents"


def arguments_key(arguments: dict[str, Any]) -> str:
    """A key that is equal for equal arguments (input objects and enums print alike)."""
    return repr(sorted(arguments.items()))
