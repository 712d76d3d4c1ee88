"""The supply chain: bounded ranges in pyproject.toml, exact pins in constraints.txt.

A release elsewhere must not turn main red: every dependency is bounded to the series the
suite passes on, and CI installs the exact versions constraints.txt names.
"""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent


def _requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    listed = project["dependencies"] + [
        line for extra in project["optional-dependencies"].values() for line in extra
    ]
    return [Requirement(line) for line in listed]


def _pins() -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        requirement = Requirement(line)
        (specifier,) = requirement.specifier
        assert specifier.operator == "==", f"constraints.txt pins exactly: {line}"
        pins[canonicalize_name(requirement.name)] = Version(specifier.version)
    return pins


@pytest.mark.parametrize("requirement", _requirements(), ids=str)
def test_each_dependency_has_an_upper_bound(requirement: Requirement) -> None:
    assert any(s.operator in {"<", "<=", "=="} for s in requirement.specifier), (
        f"{requirement.name} needs an upper bound (the series the suite passes on)"
    )


@pytest.mark.parametrize("requirement", _requirements(), ids=str)
def test_each_dependency_is_pinned_inside_its_range(requirement: Requirement) -> None:
    pinned = _pins().get(canonicalize_name(requirement.name))
    assert pinned is not None, f"{requirement.name} is missing from constraints.txt"
    assert requirement.specifier.contains(pinned, prereleases=True), (
        f"constraints.txt pins {requirement.name}=={pinned}, outside {requirement.specifier}"
    )


def test_the_installed_versions_are_the_pinned_ones() -> None:
    # `make install` installs with `-c constraints.txt`: what runs is what was pinned
    drift = {
        name: (str(version), metadata.version(name))
        for name, version in _pins().items()
        if _installed(name) and Version(metadata.version(name)) != version
    }
    assert drift == {}


def _installed(name: str) -> bool:
    try:
        metadata.version(name)
    except metadata.PackageNotFoundError:
        return False
    return True
