"""Find the Python files of a repository.

Inside a git work tree the answer is git's: tracked files plus untracked ones that are not
ignored (``git ls-files --cached --others --exclude-standard``), minus files deleted from
the work tree. Elsewhere the tree is walked, honouring every ``.gitignore`` on the way
(each one applies to its own directory and below, as in git) and skipping ``.git``.
Paths come back repository-relative, POSIX-style and sorted.

A symlinked ``.py`` file whose target lies outside the repository is left out: syncing a
folder never reads files elsewhere on the machine through a link planted in it. Links
that stay inside are indexed.
"""

from __future__ import annotations

import os
from pathlib import Path

import pathspec

from caramba.codegraph.naming import git_output


def python_files(root: Path) -> list[str]:
    """Return the sorted repository-relative paths of the ``.py`` files under ``root``."""
    listed = _git_files(root)
    if listed is None:
        return sorted(path for path in _walk(root) if _confined(root, path))
    base = str(root)
    # git lists files deleted from the work tree until the deletion is staged
    return sorted(path for path in listed
                  if path.endswith(".py") and os.path.isfile(os.path.join(base, path)) and _confined(root, path))


def _confined(root: Path, path: str) -> bool:
    """True when ``root/path``, links followed, is still inside ``root``."""
    real_root = os.path.realpath(root)
    target = os.path.realpath(os.path.join(root, path))
    return target == real_root or target.startswith(real_root + os.sep)


def _git_files(root: Path) -> list[str] | None:
    """Return git's file list for ``root``, or None when ``root`` is not in a work tree."""
    output = git_output(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", "*.py",
                        timeout=60)
    if output is None:
        return None
    names = output.decode("utf-8", errors="surrogateescape").split("\0")
    return list(dict.fromkeys(name for name in names if name))


def _walk(root: Path) -> list[str]:
    """Walk ``root`` and return the files no ``.gitignore`` excludes."""
    found: list[str] = []
    specs: list[tuple[str, pathspec.PathSpec]] = []
    for directory, dirnames, filenames in os.walk(root):
        relative = os.path.relpath(directory, root)
        relative = "" if relative == "." else relative.replace(os.sep, "/")
        specs = [(base, spec) for base, spec in specs if _inside(relative, base)]
        if ".gitignore" in filenames:
            with open(os.path.join(directory, ".gitignore"), encoding="utf-8", errors="replace") as handle:
                specs.append((relative, pathspec.GitIgnoreSpec.from_lines(handle.read().splitlines())))
        kept_dirs = []
        for name in sorted(dirnames):
            path = f"{relative}/{name}" if relative else name
            if name != ".git" and not _ignored(specs, path + "/"):
                kept_dirs.append(name)
        dirnames[:] = kept_dirs
        for name in filenames:
            if not name.endswith(".py"):
                continue
            path = f"{relative}/{name}" if relative else name
            if not _ignored(specs, path):
                found.append(path)
    return found


def _inside(relative: str, base: str) -> bool:
    return not base or relative == base or relative.startswith(base + "/")


def _ignored(specs: list[tuple[str, pathspec.PathSpec]], path: str) -> bool:
    """Apply the ``.gitignore`` files in order; a later (deeper) one may re-include."""
    ignored = False
    for base, spec in specs:
        local = path[len(base) + 1 :] if base else path
        include = spec.check_file(local).include
        if include is not None:
            ignored = include
    return ignored
