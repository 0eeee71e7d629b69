"""Decide which files a sync must parse: added and changed ones, by content hash.

A file whose size and modification time match the index is taken as unchanged without
reading it (as git does); otherwise its content hash decides, so a file that was merely
touched is not re-parsed (only its recorded size/mtime are refreshed).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from caramba.codegraph.parse import digest

#: An indexed file: (hash, size, mtime_ns, module, error).
FileRecord = tuple[str, int, int, str, str]


@dataclass(slots=True)
class Plan:
    """The work of one sync."""

    parse: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    #: Unchanged files whose size/mtime changed: their refreshed index records.
    restat: dict[str, FileRecord] = field(default_factory=dict)

    @property
    def changed(self) -> list[str]:
        """Every path whose nodes are replaced: parsed ones and deleted ones."""
        return [*self.parse, *self.deleted]


def make_plan(root: Path, paths: list[str], indexed: dict[str, FileRecord]) -> Plan:
    """Compare the repository's ``paths`` with the ``indexed`` records."""
    plan = Plan()
    present = set(paths)
    plan.deleted = sorted(path for path in indexed if path not in present)
    for path in paths:
        record = indexed.get(path)
        if record is None:
            plan.parse.append(path)
            continue
        full = os.path.join(root, path)
        try:
            info = os.stat(full)
        except OSError:
            plan.parse.append(path)  # vanished since listing: parsing reports it
            continue
        if info.st_size == record[1] and info.st_mtime_ns == record[2]:
            plan.unchanged.append(path)
            continue
        with open(full, "rb") as handle:
            content_hash = digest(handle.read())
        if content_hash == record[0]:
            plan.unchanged.append(path)
            plan.restat[path] = (record[0], info.st_size, info.st_mtime_ns, record[3], record[4])
        else:
            plan.parse.append(path)
    return plan
