"""Documentation that states facts of the code is checked against the code.

``docs/security.md`` lists the permissions of core and of the built-in tickets plugin, the
grants of the built-in roles from each, and every audit action they write; ``README.md``
lists every setting, the tickets plugin's included. These tests fail when the code and the
documents drift apart.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from pydantic_settings import BaseSettings

from core.catalog import BUILTIN_ROLES, Catalog, catalog_for
from core.config import ENV_PREFIX, Settings
from core.extension import Scope
from core.identity.demo import DEMO_PASSWORD, demo_users
from plugins import competitor, loyalty, sales, surveys, tickets
from plugins.competitor.settings import CompetitorSettings
from plugins.sales.settings import SalesSettings
from plugins.surveys.settings import SurveySettings
from plugins.tickets.settings import TicketSettings
from schema.modules import build_plugin_manager

ROOT = Path(__file__).resolve().parent.parent
SECURITY = ROOT / "docs" / "security.md"
README = ROOT / "README.md"
CORE_SOURCES = [ROOT / "core", ROOT / "schema"]
TICKETS_SOURCES = [ROOT / "plugins" / "tickets"]
PLUGINS = {
    "tickets": tickets.plugin,
    "sales": sales.plugin,
    "surveys": surveys.plugin,
    "loyalty": loyalty.plugin,
    "competitor": competitor.plugin,
}
PLUGIN_SETTINGS: dict[str, type[BaseSettings]] = {
    "tickets": TicketSettings,
    "sales": SalesSettings,
    "surveys": SurveySettings,
    "competitor": CompetitorSettings,
}
PERMISSION_COUNTS = {"tickets": 5, "sales": 5, "surveys": 2, "loyalty": 4, "competitor": 3}
NO_GRANT = "—"


def plugin_catalog(name: str) -> Catalog:
    """The permission catalogue with the built-in plugin ``name`` enabled."""
    pm = build_plugin_manager([name], load_entrypoints=False, extra_plugins={name: PLUGINS[name]})
    return catalog_for(pm)


def table_rows(text: str, first_header: str) -> tuple[list[str], list[list[str]]]:
    """The header and body cells of the Markdown table whose first column is ``first_header``."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells[0] == first_header:
            body = []
            for row in lines[index + 2 :]:
                if not row.startswith("|"):
                    break
                body.append([cell.strip() for cell in row.strip().strip("|").split("|")])
            return cells, body
    raise AssertionError(f"no table with a {first_header!r} column")


def unquoted(cell: str) -> str:
    return cell.strip("`")


def test_table_parser_reads_a_table() -> None:
    text = "intro\n\n| a | b |\n| --- | --- |\n| `x` | 1 |\n| y | 2 |\n\nafter | not a row\n"

    assert table_rows(text, "a") == (["a", "b"], [["`x`", "1"], ["y", "2"]])


def test_security_lists_cores_permissions_with_their_module() -> None:
    catalog = catalog_for(build_plugin_manager([], load_entrypoints=False))
    _, rows = table_rows(SECURITY.read_text(encoding="utf-8"), "permission")
    documented = {unquoted(name): (module, meaning) for name, module, meaning in rows}

    declared = {
        p.name: (p.module, p.description)
        for p in catalog.permissions.values()
        if p.module == "core"
    }
    assert documented == declared


def grants_table(text: str) -> tuple[list[str], dict[str, dict[str, Scope]], set[str]]:
    """The first grants table of ``text``: its roles, the grants by role, the permissions."""
    header, rows = table_rows(text, "permission")
    documented: dict[str, dict[str, Scope]] = {role: {} for role in header[1:]}
    for name, *scopes in rows:
        for role, scope in zip(header[1:], scopes, strict=True):
            if scope != NO_GRANT:
                documented[role][unquoted(name)] = Scope(scope)
    return header[1:], documented, {unquoted(row[0]) for row in rows}


def test_security_role_table_matches_the_built_in_grants() -> None:
    catalog = catalog_for(build_plugin_manager([], load_entrypoints=False))
    tables = SECURITY.read_text(encoding="utf-8").split("## Roles", 1)[1]
    roles, documented, permissions = grants_table(tables)

    assert roles == [role.key for role in BUILTIN_ROLES]
    assert permissions == set(catalog.permissions)
    for role in roles:
        assert documented[role] == catalog.default_grants(role), role


@pytest.mark.parametrize("plugin", sorted(PLUGINS))
def test_security_lists_each_built_in_plugins_permissions_with_their_module(plugin: str) -> None:
    heading = f"### The {plugin} plugin\n"
    section = SECURITY.read_text(encoding="utf-8").split(heading, 1)[1]
    _, rows = table_rows(section, "permission")
    documented = {unquoted(name): (module, meaning) for name, module, meaning in rows}

    declared = {
        p.name: (p.module, p.description)
        for p in plugin_catalog(plugin).permissions.values()
        if p.module == plugin
    }
    assert len(declared) == PERMISSION_COUNTS[plugin]
    assert documented == declared


@pytest.mark.parametrize("plugin", sorted(PLUGINS))
def test_security_grant_table_of_each_built_in_plugin_matches_its_grants(plugin: str) -> None:
    catalog = plugin_catalog(plugin)
    heading = f"### Grants of the {plugin} plugin\n"
    section = SECURITY.read_text(encoding="utf-8").split(heading, 1)[1]
    roles, documented, permissions = grants_table(section)
    plugin_permissions = {
        name for name, permission in catalog.permissions.items() if permission.module == plugin
    }

    assert roles == [role.key for role in BUILTIN_ROLES]
    assert permissions == plugin_permissions
    for role in roles:
        granted = {
            name: scope
            for name, scope in catalog.default_grants(role).items()
            if name in plugin_permissions
        }
        assert documented[role] == granted, role


def _strings(node: ast.AST) -> set[str]:
    """String literals in ``node``, leaving out the pieces of f-strings."""
    pieces = {
        id(part)
        for child in ast.walk(node)
        if isinstance(child, ast.JoinedStr)
        for part in ast.walk(child)
    }
    return {
        child.value
        for child in ast.walk(node)
        if isinstance(child, ast.Constant)
        and isinstance(child.value, str)
        and id(child) not in pieces
    }


def audit_action_patterns_in(path: Path) -> set[str]:
    """Regular expressions for the actions ``audit.record(...)`` gets as an f-string.

    ``f"ticket.{kind.lower()}"`` becomes ``ticket\\..+``: the docs must list an action
    that fits it; which ones exactly only a reader of the code can tell.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    patterns: set[str] = set()
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "record"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in {"audit", "audit_log"}
            and len(node.args) > 2
            and isinstance(node.args[2], ast.JoinedStr)
        ):
            continue
        parts = [
            re.escape(str(part.value)) if isinstance(part, ast.Constant) else ".+"
            for part in node.args[2].values
        ]
        patterns.add("".join(parts))
    return patterns


def audit_actions_in(path: Path) -> set[str]:
    """Action names passed to ``audit.record(...)`` in one source file.

    A literal counts, and so do the string literals a variable passed instead is assigned.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assigned: dict[str, set[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    assigned.setdefault(target.id, set()).update(_strings(node.value))
    actions: set[str] = set()
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "record"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in {"audit", "audit_log"}
        ):
            continue
        argument = node.args[2] if len(node.args) > 2 else None
        for keyword in node.keywords:
            if keyword.arg == "action":
                argument = keyword.value
        assert argument is not None, f"{path}:{node.lineno}: audit.record without an action"
        if isinstance(argument, ast.Name):
            actions |= assigned.get(argument.id, set())
        else:
            actions |= _strings(argument)
    return actions


def test_audit_action_finder() -> None:
    found = audit_actions_in(ROOT / "core" / "identity" / "auth.py")

    assert {"login.succeeded", "login.failed", "login.refused", "session.revoked"} <= found


def sources(directories: list[Path]) -> list[Path]:
    return [
        path
        for directory in directories
        for path in sorted(directory.rglob("*.py"))
        if not path.name.startswith("test_")
    ]


def test_security_lists_every_audit_action_core_writes() -> None:
    text = SECURITY.read_text(encoding="utf-8")
    actions: set[str] = set()
    for path in sources(CORE_SOURCES):
        actions |= audit_actions_in(path)

    assert len(actions) > 10
    missing = sorted(action for action in actions if f"`{action}`" not in text)
    assert not missing, f"docs/security.md does not list these audit actions: {missing}"


def test_security_lists_every_audit_action_the_sales_plugin_writes() -> None:
    text = SECURITY.read_text(encoding="utf-8")
    actions: set[str] = set()
    patterns: set[str] = set()
    for path in sources([ROOT / "plugins" / "sales"]):
        actions |= audit_actions_in(path)
        patterns |= audit_action_patterns_in(path)

    assert {"sales.order.placed", "sales.opportunity.moved", "sales.stage.created"} <= actions
    missing = sorted(action for action in actions if f"`{action}`" not in text)
    assert not missing, f"docs/security.md does not list these audit actions: {missing}"
    # Contracts and order steps write ``sales.<record>.<verb>`` through an f-string: each
    # verb is listed.
    assert patterns == {r"sales\.contract\..+", r"sales\.order\..+"}
    verbs = {
        "contract": {"created", "updated", "activated", "terminated", "renewed", "expired"},
        "order": {"placed", "paid", "cancelled", "refunded"},
    }
    verbs["contract"].add("auto_renewed")
    for record, expected in verbs.items():
        fitting = set(re.findall(rf"`sales\.{record}\.([a-z_]+)`", text))
        assert fitting == expected, record


def test_security_lists_every_audit_action_the_surveys_plugin_writes() -> None:
    text = SECURITY.read_text(encoding="utf-8")
    actions: set[str] = set()
    patterns: set[str] = set()
    for path in sources([ROOT / "plugins" / "surveys"]):
        actions |= audit_actions_in(path)
        patterns |= audit_action_patterns_in(path)

    assert {"surveys.survey.sent", "survey_response.submitted"} <= actions
    missing = sorted(action for action in actions if f"`{action}`" not in text)
    assert not missing, f"docs/security.md does not list these audit actions: {missing}"
    # Templates, schedules and actions write ``surveys.<record>.<verb>`` through an f-string.
    assert patterns == {r"surveys\.template\..+", r"surveys\.schedule\..+", r"surveys\.action\..+"}
    verbs = {
        "template": {"created", "updated", "activated", "deactivated"},
        "schedule": {"created", "updated", "deleted", "ran"},
        "action": {"created", "updated", "status_changed", "deleted"},
    }
    for record, expected in verbs.items():
        fitting = set(re.findall(rf"`surveys\.{record}\.([a-z_]+)`", text))
        assert fitting == expected, record


def test_security_lists_every_audit_action_the_tickets_plugin_writes() -> None:
    text = SECURITY.read_text(encoding="utf-8")
    documented = set(re.findall(r"`([a-z_]+\.[a-z_]+)`", text))
    actions: set[str] = set()
    patterns: set[str] = set()
    for path in sources(TICKETS_SOURCES):
        actions |= audit_actions_in(path)
        patterns |= audit_action_patterns_in(path)

    assert {"ticket.opened", "ticket.status_changed", "ticket_sla.updated"} <= actions
    missing = sorted(action for action in actions if action not in documented)
    assert not missing, f"docs/security.md does not list these audit actions: {missing}"
    # Assignment writes ``ticket.assigned`` or ``ticket.transferred`` through an f-string.
    assert patterns == {r"ticket\..+"}
    fitting = {action for action in documented if re.fullmatch(r"ticket\..+", action)}
    assert {"ticket.assigned", "ticket.transferred"} <= fitting


def test_security_lists_every_audit_action_the_competitor_plugin_writes() -> None:
    text = SECURITY.read_text(encoding="utf-8")
    actions: set[str] = set()
    patterns: set[str] = set()
    for path in sources([ROOT / "plugins" / "competitor"]):
        actions |= audit_actions_in(path)
        patterns |= audit_action_patterns_in(path)

    assert {"competitor.encounter.recorded", "competitor.customer_link.added"} <= actions
    missing = sorted(action for action in actions if f"`{action}`" not in text)
    assert not missing, f"docs/security.md does not list these audit actions: {missing}"
    # Profiles, products, shares and intel write ``competitor.<verb>`` through an f-string.
    assert patterns == {
        r"competitor\..+",
        r"competitor\.product\..+",
        r"competitor\.price\..+",
        r"competitor\.market_share\..+",
        r"competitor\.intel\..+",
    }
    fitting = set(re.findall(r"`competitor\.([a-z_.]+)`", text))
    assert {
        "created",
        "updated",
        "channels.set",
        "campaign.added",
        "campaign.updated",
        "campaign.removed",
        "product.created",
        "product.updated",
        "product.deleted",
        "price.recorded",
        "price.deleted",
        "market_share.recorded",
        "market_share.updated",
        "market_share.deleted",
        "intel.logged",
        "intel.updated",
        "intel.deleted",
    } <= fitting


def test_readme_lists_every_setting() -> None:
    _, rows = table_rows(README.read_text(encoding="utf-8"), "variable")
    documented = {unquoted(row[0]) for row in rows}

    settings = {ENV_PREFIX + name.upper() for name in Settings.model_fields}
    assert documented == settings


@pytest.mark.parametrize("plugin", sorted(PLUGIN_SETTINGS))
def test_readme_lists_every_setting_of_each_built_in_plugin_with_its_default(plugin: str) -> None:
    _, rows = table_rows(README.read_text(encoding="utf-8"), f"{plugin} plugin variable")
    documented = {unquoted(row[0]): row[1] for row in rows}
    settings = PLUGIN_SETTINGS[plugin]

    prefix = str(settings.model_config.get("env_prefix", ""))
    assert prefix == f"CRM_{plugin.upper()}_"
    assert documented == {
        prefix + name.upper(): str(field.default) for name, field in settings.model_fields.items()
    }


def test_security_names_settings_that_exist() -> None:
    named = set(re.findall(r"`(CRM_[A-Z_]+)`", SECURITY.read_text(encoding="utf-8")))
    settings = {ENV_PREFIX + name.upper() for name in Settings.model_fields}

    assert named
    assert named <= settings


def test_readme_and_api_guide_show_the_real_demo_logins() -> None:
    readme = README.read_text(encoding="utf-8")
    api_guide = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")

    assert DEMO_PASSWORD in readme
    assert DEMO_PASSWORD in api_guide
    for user in demo_users(50):  # the size `make run` uses
        assert f"│ {user.email} " in readme, user.email
        assert user.role in readme
