"""requirements.lock: every dependency of pyproject.toml pinned, and the environment installed from it.

scripts/bootstrap.sh installs with the lock as pip constraints; these tests fail when a
dependency is added to pyproject.toml without regenerating the lock (``scripts/lock``),
when a pin no longer satisfies pyproject's bound, or when the installed environment is
not the locked one.
"""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)$")


def locked() -> dict[str, str]:
    """The lock's pins: canonical name → exact version (every non-comment line must be ``name==version``)."""
    pins: dict[str, str] = {}
    for number, line in enumerate((ROOT / "requirements.lock").read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        match = PIN.match(line)
        assert match, f"requirements.lock:{number}: {line!r} is not name==version"
        name = canonicalize_name(match.group(1))
        assert name not in pins, f"requirements.lock:{number}: {name} pinned twice"
        pins[name] = match.group(2)
    return pins


def declared() -> list[Requirement]:
    """pyproject.toml's dependencies and its [dev] extra."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]]


def test_the_lock_pins_every_dependency_within_its_bounds() -> None:
    pins = locked()
    for requirement in declared():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement} (pyproject.toml) is not in requirements.lock: run scripts/lock"
        assert requirement.specifier.contains(Version(pins[name]), prereleases=True), (
            f"requirements.lock pins {name}=={pins[name]}, outside pyproject's {requirement}: run scripts/lock")


def test_the_environment_is_the_locked_one() -> None:
    pins = locked()
    for requirement in declared():
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        name = canonicalize_name(requirement.name)
        try:
            installed = version(requirement.name)
        except PackageNotFoundError:
            raise AssertionError(f"{requirement.name} is not installed: run scripts/bootstrap.sh") from None
        assert Version(installed) == Version(pins[name]), (
            f"{name} {installed} is installed but requirements.lock pins {pins[name]}: run scripts/bootstrap.sh")

