"""The hook-coverage check (tests.hook_coverage) sees calls, not names, and can fail."""

from __future__ import annotations

from pathlib import Path

import pytest

from core import hookimpl
from schema.modules import build_plugin_manager
from tests import hook_coverage
from tests.support import HookSet

ROOT = Path(__file__).resolve().parent.parent

A_SUITE = """
from schema.modules import build_plugin_manager


def test_calls_one_hook() -> None:
    build_plugin_manager([], load_entrypoints=False).hook.crm_permissions()


def test_only_names_another() -> None:
    assert "crm_ticket_resolved"
"""


def test_every_declared_hook_is_known() -> None:
    declared = hook_coverage.declared_hooks()

    assert {"crm_startup", "crm_customer_merge", "crm_ticket_resolved"} <= declared
    assert declared >= hook_coverage.EXEMPT, "EXEMPT names hooks that do not exist"


def test_a_call_is_recorded_only_when_an_implementation_receives_it() -> None:
    hook_coverage.CALLED.discard("crm_permissions")
    hook_coverage.CALLED.discard("crm_role_grants")
    plugin = HookSet(crm_permissions=hookimpl(lambda: []))
    pm = build_plugin_manager(["p"], load_entrypoints=False, extra_plugins={"p": plugin})

    pm.hook.crm_permissions()

    assert "crm_permissions" in hook_coverage.CALLED
    assert "crm_role_grants" not in hook_coverage.CALLED  # not called (yet), not recorded


def run_suite(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    pytester.makeini("[pytest]\ntestpaths = suite\n")
    pytester.makeconftest('pytest_plugins = ["tests.hook_coverage"]\n')
    suite = pytester.path / "suite"
    suite.mkdir(exist_ok=True)
    (suite / "test_suite.py").write_text(A_SUITE)
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)


def test_a_whole_suite_that_leaves_a_hook_uncalled_fails_naming_it(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", str(ROOT))

    whole = run_suite(pytester)
    partial = run_suite(pytester, "-k", "calls_one_hook")

    assert whole.ret == pytest.ExitCode.TESTS_FAILED
    whole.stdout.fnmatch_lines(["*hooks no test calls*crm_ticket_resolved*"])
    assert "crm_permissions," not in whole.stdout.str()  # called: not listed
    assert partial.ret == pytest.ExitCode.OK  # a partial run is not judged
