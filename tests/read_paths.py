"""A pytest plugin: the whole suite runs with ``CRM_READ_PATH=compare``.

Every query document a test sends (in process, or to a server the test starts, which
inherits the setting) is answered by the reference executor and by the compiled read path,
and the two answers must be the same (:mod:`core.read_compare`). A disagreement is
answered as an error, so the test that met it fails; the session fails too if any was
recorded in this process. The summary says how many documents were compared and why the
others were not planned.
"""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("CRM_READ_PATH", "compare")

from core import read_compare as compare  # after the setting, for the suite's settings


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if compare.DISAGREEMENTS and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    counts = compare.COMPARED
    if not counts and not compare.DISAGREEMENTS:
        return
    write = terminalreporter.write_line
    refused = sum(n for reason, n in counts.items() if reason != "compared")
    write(
        f"read paths: {counts['compared']} query documents answered alike by both paths; "
        f"{refused} not planned"
    )
    for reason, n in counts.most_common(10):
        if reason != "compared":
            write(f"  {n:6d}  {reason}")
    for disagreement in compare.DISAGREEMENTS[:5]:
        write(f"DISAGREEMENT: {disagreement}", red=True)
