"""The import contracts cover the whole tree: a new kernel module or plugin test cannot slip
past them by being left out of ``[tool.importlinter]``."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOMAINS = {"core.identity", "core.customers"}
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


def test_only_plugin_tests_are_exempt_from_the_public_api_rule() -> None:
    ignored = _contracts()["plugins-public-api"].get("ignore_imports", [])
    tests = {
        ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for path in (ROOT / "plugins").glob("*/test_*.py")
    }

    assert {line.split(" -> ")[0] for line in ignored} == tests
