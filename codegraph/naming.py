"""Names derived from paths: dotted module names, relative imports and graph names.

Module names depend only on a file's path (and the repository's package prefix), never on
which other files exist, so an incremental sync can name a file without looking at the
rest of the repository:

* ``pkg/a.py`` → ``pkg.a``; ``pkg/__init__.py`` → ``pkg``.
* When the repository root is itself a package (it has an ``__init__.py``, as caramba
  does) every name gets the package's name as a prefix: ``codegraph/parse.py`` →
  ``caramba.codegraph.parse``. The name is the one ``pyproject.toml`` maps onto the root
  (``[tool.setuptools] package-dir = {"caramba" = "."}``), else the directory's name.
"""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


class NamingError(ValueError):
    """The repository's package name cannot be determined; the message says why."""


def package_prefix(root: Path) -> str:
    """Return the dotted prefix for modules under ``root`` ('' unless it is a package)."""
    if not (root / "__init__.py").is_file():
        return ""
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        try:
            config = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            raise NamingError(f"{pyproject} is not valid TOML ({error}); fix it so the package name can be read") from error
        mapping = config.get("tool", {}).get("setuptools", {}).get("package-dir", {})
        for name, directory in mapping.items():
            if directory in (".", "") and name:
                return str(name)
    return root.resolve().name


def module_name(path: str, prefix: str) -> str:
    """Return the dotted module name of the repository-relative ``path`` (POSIX form)."""
    stem = path[:-3] if path.endswith(".py") else path
    parts = [part for part in stem.split("/") if part]
    if parts and parts[-1] == "__init__":
        parts.pop()
    if prefix:
        parts.insert(0, prefix)
    return ".".join(parts)


def is_package(path: str) -> bool:
    """Return True when ``path`` is a package's ``__init__.py``."""
    return path == "__init__.py" or path.endswith("/__init__.py")


def absolute_import(module: str, package: bool, level: int, target: str | None) -> str | None:
    """Resolve ``from <level dots><target> import …`` inside ``module`` to an absolute name.

    ``package`` says whether ``module`` is a package (its own ``__init__.py``), in which
    case one dot means the module itself. Returns None when the dots climb above the top
    package, which Python would reject too.
    """
    if level == 0:
        return target
    parts = module.split(".") if module else []
    if not package:
        parts = parts[:-1]
    climb = level - 1
    if climb > len(parts):
        return None
    base = parts[: len(parts) - climb]
    if target:
        base = [*base, target]
    return ".".join(base) if base else None


def sanitise(name: str) -> str:
    """Return ``name`` with every run of characters outside [A-Za-z0-9_-] replaced by '_'."""
    cleaned = _UNSAFE.sub("_", name).strip("_")
    return cleaned or "repo"


def git_output(root: Path, *args: str, timeout: float = 10) -> bytes | None:
    """Run ``git -C root ARGS`` and return its output; None without git, outside a work
    tree, or when the command fails (the callers then fall back to non-git answers)."""
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, timeout=timeout, check=False)
    except FileNotFoundError:
        return None
    return done.stdout if done.returncode == 0 else None


def git_branch(root: Path) -> str | None:
    """Return the current git branch of ``root``; None outside git or on a detached HEAD."""
    output = git_output(root, "symbolic-ref", "--quiet", "--short", "HEAD")
    branch = output.decode("utf-8", errors="replace").strip() if output is not None else ""
    return branch or None


def default_graph_name(root: Path) -> str:
    """Return the default graph name for a repository: ``<dir>`` or ``<dir>-<branch>``.

    One graph per repository and branch, so switching branches never mixes two code bases.
    Outside git, or on a detached HEAD, the directory name alone is used.
    """
    resolved = root.resolve()
    branch = git_branch(resolved)
    if branch is None:
        return sanitise(resolved.name)
    return sanitise(f"{resolved.name}-{branch}")
