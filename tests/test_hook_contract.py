"""Meta-tests that keep the plugin contract honest, as Datasette's do.

Every hook specification in ``core/hookspecs.py`` must be documented in ``docs/plugins.md``
under a ``### `name(params) -> return` `` heading whose signature is the specification's, in
the section of its banner group, and must be called by at least one test under ``tests/``.
The hooks built-in plugins declare are documented the same way under ``#### `` headings in
the guide's section on hooks that plugins declare.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from core import hookspecs
from core.customers import hookspecs as customer_hookspecs
from plugins.tickets import hookspecs as ticket_hookspecs
from schema.modules import build_plugin_manager

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "plugins.md"
TESTS = ROOT / "tests"
THIS_FILE = Path(__file__).resolve()
SPEC_MARKER = f"{hookspecs.PROJECT_NAME}_spec"

# Hooks allowed to have no test under tests/ that names them. Keep it empty; an entry needs a
# comment saying why the hook cannot be tested and where it is covered instead.
EXEMPT: list[str] = []

_HOOK_HEADING = re.compile(r"^### `(?P<signature>(?P<name>crm_\w+)\(.*)`\s*$")
_PLUGIN_HOOK_HEADING = re.compile(r"^#### `(?P<signature>(?P<name>crm_\w+)\(.*)`\s*$")
PLUGIN_HOOKS_SECTION = "Hooks that plugins declare"
# A banner: a rule, the group's title, optional comment lines about the group, a rule.
_BANNER = re.compile(
    r"^# -{10,}\n# (?P<title>[^\n]+)\n(?:#(?: [^\n]*)?\n)*?# -{10,}$", re.MULTILINE
)
_SPEC_DEF = re.compile(r"^def (?P<name>crm_\w+)\(", re.MULTILINE)


def specs_of(module: object) -> dict[str, Callable[..., Any]]:
    """The hook specification functions of a hookspecs module, by name."""
    return {
        name: value
        for name, value in vars(module).items()
        if inspect.isfunction(value) and hasattr(value, SPEC_MARKER)
    }


CORE_SPEC_MODULES = (hookspecs, customer_hookspecs)
"""The kernel's hookspecs and those core's customers module declares (customer events)."""


def core_hookspecs() -> dict[str, Callable[..., Any]]:
    """The hook specification functions of core (kernel and customers module), by name."""
    found: dict[str, Callable[..., Any]] = {}
    for module in CORE_SPEC_MODULES:
        found.update(specs_of(module))
    return found


def documented_signature(function: Callable[..., Any]) -> str:
    """``name(arg: Type, ...) -> Return`` with the annotations as written in the source."""
    signature = inspect.signature(function)  # annotations stay strings (``__future__``)
    params: list[str] = []
    for param in signature.parameters.values():
        text = param.name
        if param.kind is inspect.Parameter.VAR_POSITIONAL:
            text = "*" + text
        elif param.kind is inspect.Parameter.VAR_KEYWORD:
            text = "**" + text
        if param.annotation is not inspect.Parameter.empty:
            text += f": {param.annotation}"
        if param.default is not inspect.Parameter.empty:
            text += f" = {param.default!r}"
        params.append(text)
    text = f"{function.__name__}({', '.join(params)})"
    if signature.return_annotation is not inspect.Signature.empty:
        text += f" -> {signature.return_annotation}"
    return text


def documented_hooks() -> dict[str, tuple[str, str | None]]:
    """Hook headings of the guide: name -> (signature, title of the enclosing ``##``)."""
    found: dict[str, tuple[str, str | None]] = {}
    section: str | None = None
    for line in DOCS.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
            continue
        match = _HOOK_HEADING.match(line)
        if match:
            found[match["name"]] = (match["signature"], section)
    return found


def documented_plugin_hooks() -> dict[str, tuple[str, str | None]]:
    """``####`` hook headings of the guide: name -> (signature, title of the enclosing ``##``)."""
    found: dict[str, tuple[str, str | None]] = {}
    section: str | None = None
    for line in DOCS.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
            continue
        match = _PLUGIN_HOOK_HEADING.match(line)
        if match:
            found[match["name"]] = (match["signature"], section)
    return found


def banner_groups() -> dict[str, str]:
    """Hook name -> title of the banner comment it sits under in its hookspecs module."""
    groups: dict[str, str] = {}
    for module in CORE_SPEC_MODULES:
        source = Path(inspect.getfile(module)).read_text(encoding="utf-8")
        banners = [(m.start(), m["title"].strip()) for m in _BANNER.finditer(source)]
        for definition in _SPEC_DEF.finditer(source):
            above = [title for start, title in banners if start < definition.start()]
            if above:
                groups[definition["name"]] = above[-1]
    return groups


def test_banners_may_carry_notes_below_their_title() -> None:
    rule = "# " + "-" * 20
    source = f"{rule}\n# Events\n#\n# Called in the transaction.\n{rule}\n\n\ndef crm_a():\n"

    assert [m["title"] for m in _BANNER.finditer(source)] == ["Events"]
    assert banner_groups()["crm_customer_merged"] == "Customer events"
    assert banner_groups()["crm_access_policies"] == "Identity and access"


def test_hookspecs_are_found() -> None:
    specs = core_hookspecs()
    pm = build_plugin_manager([], load_entrypoints=False)
    with_spec = {
        name
        for name, caller in vars(pm.hook).items()
        if caller.spec is not None and caller.spec.namespace in CORE_SPEC_MODULES
    }

    assert specs, "no hook specifications found in core/hookspecs.py"
    assert set(specs) == with_spec
    assert all(name.startswith("crm_") for name in specs)


def test_every_hook_is_documented_with_its_exact_signature() -> None:
    documented = documented_hooks()
    problems: list[str] = []
    for name, function in sorted(core_hookspecs().items()):
        expected = documented_signature(function)
        if name not in documented:
            problems.append(f"missing heading: ### `{expected}`")
        elif documented[name][0] != expected:
            problems.append(f"wrong signature: {documented[name][0]!r} should be {expected!r}")

    assert not problems, "docs/plugins.md is out of step with core/hookspecs.py:\n  " + (
        "\n  ".join(problems)
    )


def test_no_documented_hook_is_unknown() -> None:
    unknown = sorted(set(documented_hooks()) - set(core_hookspecs()))

    assert not unknown, f"docs/plugins.md documents hooks core does not have: {unknown}"


def test_the_tickets_plugins_hooks_are_documented_with_their_exact_signatures() -> None:
    specs = specs_of(ticket_hookspecs)
    documented = documented_plugin_hooks()

    assert specs, "no hook specifications found in plugins/tickets/hookspecs.py"
    assert {name: documented.get(name) for name in specs} == {
        name: (documented_signature(function), PLUGIN_HOOKS_SECTION)
        for name, function in specs.items()
    }
    assert set(documented) == set(specs), "docs/plugins.md documents unknown plugin hooks"


def test_hooks_are_documented_in_their_banner_group() -> None:
    groups = banner_groups()
    documented = documented_hooks()
    assert set(groups) == set(core_hookspecs()), "every hookspec sits under a banner comment"

    misplaced = [
        f"{name} belongs under a '## ...{group}' heading, not {documented[name][1]!r}"
        for name, group in sorted(groups.items())
        if name in documented and group.casefold() not in (documented[name][1] or "").casefold()
    ]

    assert not misplaced, misplaced


def test_signature_format() -> None:
    def crm_example(size: int = 3, *names: str, **extra: object) -> list[str] | None:
        return None

    assert documented_signature(hookspecs.crm_startup) == (
        "crm_startup(settings: Settings, db: Database) -> Awaitable[None] | None"
    )
    assert documented_signature(crm_example) == (
        "crm_example(size: int = 3, *names: str, **extra: object) -> list[str] | None"
    )


def _test_sources() -> dict[Path, str]:
    return {
        path: path.read_text(encoding="utf-8")
        for path in sorted(TESTS.rglob("test_*.py"))
        if path.resolve() != THIS_FILE
    }


def test_exemptions_are_real_hooks() -> None:
    assert set(EXEMPT) <= set(core_hookspecs()), "EXEMPT names hooks that do not exist"


@pytest.mark.parametrize("name", sorted(core_hookspecs()))
def test_every_hook_is_called_by_a_test(name: str) -> None:
    if name in EXEMPT:
        pytest.skip(f"{name} is exempt (see EXEMPT)")
    pattern = re.compile(rf"\b{re.escape(name)}\b")
    callers = [path.name for path, source in _test_sources().items() if pattern.search(source)]

    assert callers, f"no test under tests/ (other than {THIS_FILE.name}) calls {name}"
