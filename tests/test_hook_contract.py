"""Meta-tests that keep the plugin contract honest, as Datasette's do.

``docs/plugins.md`` documents every hook specification under ``## Hook reference``: each one
under a ``#### `name(params) -> return` `` heading whose signature is the specification's,
inside the ``### `` group of its banner in the hookspecs module. Core's hooks (the kernel's,
``core/hookspecs.py``, and the customers module's, ``core/customers/hookspecs.py``) are
documented exactly once each, and nothing else is; the hooks the tickets plugin declares
(``plugins/tickets/hookspecs.py``) sit in the group ``### Hooks that plugins declare``. Each
hook's ``**Kind:**`` sentence says what its specification says: ``firstresult``,
``historic``, awaited in turn (``call_in_turn``) or not awaited. That a test calls every
hook is checked by ``tests.hook_coverage`` while the whole suite runs.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core import hookspecs
from core.attachments import hookspecs as attachment_hookspecs
from core.customers import hookspecs as customer_hookspecs
from plugins.competitor import hookspecs as competitor_hookspecs
from plugins.loyalty import hookspecs as loyalty_hookspecs
from plugins.sales import hookspecs as sales_hookspecs
from plugins.surveys import hookspecs as survey_hookspecs
from plugins.tickets import hookspecs as ticket_hookspecs
from schema.modules import build_plugin_manager

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "plugins.md"
SPEC_MARKER = f"{hookspecs.PROJECT_NAME}_spec"

HOOK_REFERENCE = "Hook reference"
PLUGIN_HOOKS_SECTION = "Hooks that plugins declare"
_HOOK_HEADING = re.compile(r"^#### `(?P<signature>(?P<name>crm_\w+)\(.*)`\s*$")
_ANY_HEADING = re.compile(r"^(?P<level>#{1,6}) (?P<title>.*?)\s*$")
_KIND = re.compile(r"\*\*Kind:\*\*(?P<kind>.*?)(?:\.\s|\.$)")
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


CORE_SPEC_MODULES = (hookspecs, customer_hookspecs, attachment_hookspecs)
"""The kernel's hookspecs and those core's customers module (customer events) and
attachments module (attachment targets) declare."""


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


@dataclass(frozen=True)
class DocumentedHook:
    """A ``####`` hook heading of the guide and the text under it."""

    name: str
    signature: str
    section: str | None
    """Title of the enclosing ``##`` heading."""
    group: str | None
    """Title of the enclosing ``###`` heading."""
    body: str
    """The text up to the next heading, whitespace collapsed."""


def parse_hook_headings(text: str) -> tuple[list[DocumentedHook], list[str]]:
    """Every ``####`` hook heading of ``text`` (outside code fences), and every other heading
    that names a hook the way a hook heading does (a problem: wrong level)."""
    hooks: list[DocumentedHook] = []
    misplaced: list[str] = []
    section: str | None = None
    group: str | None = None
    current: dict[str, Any] | None = None
    body: list[str] = []
    in_fence = False

    def close() -> None:
        if current is not None:
            hooks.append(DocumentedHook(**current, body=" ".join(" ".join(body).split())))

    for line in text.splitlines():
        if line.startswith("```"):
            in_fence = not in_fence
        heading = None if in_fence else _ANY_HEADING.match(line)
        if heading is None:
            body.append(line)
            continue
        close()
        current, body = None, []
        level, title = len(heading["level"]), heading["title"]
        if level <= 2:
            section, group = (title if level == 2 else None), None
        elif level == 3:
            group = title
        match = _HOOK_HEADING.match(line)
        if match:
            current = {
                "name": match["name"],
                "signature": match["signature"],
                "section": section,
                "group": group,
            }
        elif re.match(r"`crm_\w+\(", title):
            misplaced.append(line)
    close()
    return hooks, misplaced


def guide_hooks() -> list[DocumentedHook]:
    return parse_hook_headings(DOCS.read_text(encoding="utf-8"))[0]


def documented_hooks() -> dict[str, tuple[str, str | None]]:
    """Core's hook headings: name -> (signature, title of the enclosing ``###`` group)."""
    return {
        hook.name: (hook.signature, hook.group)
        for hook in guide_hooks()
        if hook.group != PLUGIN_HOOKS_SECTION
    }


def documented_plugin_hooks() -> dict[str, tuple[str, str | None]]:
    """Hook headings of the group on hooks plugins declare: name -> (signature, group)."""
    return {
        hook.name: (hook.signature, hook.group)
        for hook in guide_hooks()
        if hook.group == PLUGIN_HOOKS_SECTION
    }


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
            problems.append(f"missing heading: #### `{expected}`")
        elif documented[name][0] != expected:
            problems.append(f"wrong signature: {documented[name][0]!r} should be {expected!r}")

    assert not problems, "docs/plugins.md is out of step with core/hookspecs.py:\n  " + (
        "\n  ".join(problems)
    )


def test_no_documented_hook_is_unknown() -> None:
    unknown = sorted(set(documented_hooks()) - set(core_hookspecs()))

    assert not unknown, f"docs/plugins.md documents hooks core does not have: {unknown}"


def test_the_built_in_plugins_hooks_are_documented_with_their_exact_signatures() -> None:
    specs = {
        **specs_of(ticket_hookspecs),
        **specs_of(sales_hookspecs),
        **specs_of(survey_hookspecs),
        **specs_of(loyalty_hookspecs),
        **specs_of(competitor_hookspecs),
    }
    documented = documented_plugin_hooks()

    assert specs_of(ticket_hookspecs), "no hook specifications in plugins/tickets/hookspecs.py"
    assert specs_of(sales_hookspecs), "no hook specifications in plugins/sales/hookspecs.py"
    assert specs_of(survey_hookspecs), "no hook specifications in plugins/surveys/hookspecs.py"
    assert specs_of(loyalty_hookspecs), "no hook specifications in plugins/loyalty/hookspecs.py"
    assert specs_of(competitor_hookspecs), (
        "no hook specifications in plugins/competitor/hookspecs.py"
    )
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
        f"{name} belongs under a '### {group}' heading, not {documented[name][1]!r}"
        for name, group in sorted(groups.items())
        if name in documented and group.casefold() != (documented[name][1] or "").casefold()
    ]

    assert not misplaced, misplaced


def test_every_hook_heading_sits_in_the_hook_reference_once() -> None:
    hooks, misplaced = parse_hook_headings(DOCS.read_text(encoding="utf-8"))
    names = [hook.name for hook in hooks]

    assert not misplaced, f"hook headings must be '#### ' headings: {misplaced}"
    assert len(names) == len(set(names)), f"hooks documented twice: {sorted(names)}"
    outside = [hook.name for hook in hooks if hook.section != HOOK_REFERENCE]
    assert not outside, f"hook headings outside '## {HOOK_REFERENCE}': {outside}"


def kind_problems(hook: DocumentedHook, function: Callable[..., Any]) -> list[str]:
    """How the hook's ``**Kind:**`` sentence contradicts its specification."""
    match = _KIND.search(hook.body)
    if match is None:
        return [f"{hook.name}: no '**Kind:** ...' sentence"]
    kind = match["kind"]
    options = getattr(function, SPEC_MARKER)
    awaited = "Awaitable" in str(inspect.signature(function).return_annotation)
    problems = [
        f"{hook.name}: {option} is {bool(options[option])} but the kind says {kind!r}"
        for option in ("firstresult", "historic")
        if bool(options[option]) != (f"`{option}`" in kind)
    ]
    if awaited and ("not awaited" in kind or "call_in_turn" not in kind):
        problems.append(f"{hook.name}: awaited in turn (`call_in_turn`), not {kind!r}")
    if not awaited and "not awaited" not in kind:
        problems.append(f"{hook.name}: its results are not awaited, not {kind!r}")
    return problems


def test_every_hook_says_what_kind_of_hook_it_is() -> None:
    specs = {
        **core_hookspecs(),
        **specs_of(ticket_hookspecs),
        **specs_of(sales_hookspecs),
        **specs_of(survey_hookspecs),
        **specs_of(loyalty_hookspecs),
        **specs_of(competitor_hookspecs),
    }
    problems = [
        problem
        for hook in guide_hooks()
        if hook.name in specs
        for problem in kind_problems(hook, specs[hook.name])
    ]

    assert not problems, "\n".join(problems)


def test_the_kind_check_reads_specifications() -> None:
    def hook(kind: str, name: str = "crm_identity") -> DocumentedHook:
        return DocumentedHook(name, "", HOOK_REFERENCE, None, f"**Kind:** {kind}. More.")

    assert kind_problems(hook("`firstresult`, not awaited"), hookspecs.crm_identity) == []
    assert kind_problems(hook("not awaited"), hookspecs.crm_identity)
    assert kind_problems(hook("`historic`, not awaited"), hookspecs.crm_add_hookspecs) == []
    assert kind_problems(hook("awaited (`call_in_turn`)"), hookspecs.crm_startup) == []
    assert kind_problems(hook("not awaited (`call_in_turn`)"), hookspecs.crm_startup)
    assert kind_problems(hook("awaited"), hookspecs.crm_migrations)
    assert kind_problems(DocumentedHook("crm_x", "", None, None, "no kind"), hookspecs.crm_startup)


def test_the_heading_parser_skips_code_and_flags_wrong_levels() -> None:
    text = (
        "## Hook reference\n### Database\n#### `crm_a(x: int) -> None`\n\n**Kind:** it.\n"
        "```python\n#### `crm_b() -> None`\n```\n### `crm_c() -> None`\n"
    )
    hooks, misplaced = parse_hook_headings(text)

    assert [(h.name, h.signature, h.section, h.group) for h in hooks] == [
        ("crm_a", "crm_a(x: int) -> None", "Hook reference", "Database")
    ]
    assert hooks[0].body.startswith("**Kind:** it.")
    assert misplaced == ["### `crm_c() -> None`"]


def test_signature_format() -> None:
    def crm_example(size: int = 3, *names: str, **extra: object) -> list[str] | None:
        return None

    assert documented_signature(hookspecs.crm_startup) == (
        "crm_startup(settings: Settings, db: Database) -> Awaitable[None] | None"
    )
    assert documented_signature(crm_example) == (
        "crm_example(size: int = 3, *names: str, **extra: object) -> list[str] | None"
    )
