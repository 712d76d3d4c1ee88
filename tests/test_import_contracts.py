"""The import contracts cover the whole tree: a new kernel module or plugin test cannot slip
past them by being left out of ``[tool.importlinter]``."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOMAINS = {
    "core.identity",
    "core.notifications",
    "core.customers",
    "core.attachments",
    "core.webhooks",
}
PUBLIC_API = "core.plugin_api"


def _contracts() -> dict[str, dict[str, Any]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    return {contract["id"]: contract for contract in config["contracts"]}


def _top_level_core_modules() -> set[str]:
    return {
        f"core.{path.stem}"
        for path in (ROOT / "core").glob("*.py")
        if path.stem != "__init__" and not path.stem.startswith("test_")
    }


def test_every_module_of_core_is_kernel_domain_or_public_api() -> None:
    kernel = set(_contracts()["kernel"]["source_modules"]) - {"core"}
    packages = {
        f"core.{path.name}" for path in (ROOT / "core").iterdir() if (path / "__init__.py").exists()
    }

    assert _top_level_core_modules() - {PUBLIC_API} == kernel
    assert packages == DOMAINS


def test_the_kernel_may_import_no_domain_and_plugins_only_the_public_api() -> None:
    contracts = _contracts()
    kernel = set(contracts["kernel"]["source_modules"]) - {"core"}

    assert set(contracts["kernel"]["forbidden_modules"]) >= DOMAINS | {PUBLIC_API}
    private = set(contracts["plugins-public-api"]["forbidden_modules"])
    assert private == kernel | DOMAINS
    assert PUBLIC_API not in private


def test_no_plugin_module_is_exempt_from_the_public_api_rule() -> None:
    # Plugin tests too reach core through the public API (and the installed test kit).
    assert _contracts()["plugins-public-api"].get("ignore_imports", []) == []


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _strays(path: Path) -> set[str]:
    """Project modules ``path`` imports beyond the public API (and, in a test, the kit)."""
    allowed = {PUBLIC_API, *(["schema.testkit"] if path.name.startswith("test_") else [])}
    return {
        name
        for name in _imported_modules(path) - {"core"}  # ``from core import plugin_api``
        if name.split(".")[0] in {"core", "schema", "plugins", "tests"}
        and not any(name == ok or name.startswith(f"{ok}.") for ok in allowed)
    }


def test_the_example_plugin_reaches_the_crm_only_through_the_public_api(tmp_path: Path) -> None:
    # The example package is not installed here, so import-linter cannot see it: its
    # sources are read instead. Its tests may use the installed test kit too.
    sources = sorted((ROOT / "docs" / "warranty" / "crm_warranty").rglob("*.py"))
    assert len(sources) >= 10, "the example plugin's sources are missing"

    strays = {
        f"{path.relative_to(ROOT)}: {sorted(_strays(path))}" for path in sources if _strays(path)
    }

    assert not strays, sorted(strays)
    reaching_in = tmp_path / "service.py"
    reaching_in.write_text("from core import audit\nfrom schema.testkit import Api\n")
    assert _strays(reaching_in) == {"core.audit", "schema.testkit", "schema.testkit.Api"}
