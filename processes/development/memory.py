"""The session's link to the knowledge memory: what was tried before, what this session learned.

Thin wrappers over the tree package's memory functions
(:mod:`caramba.processes.development.tree.memory`) that open the workspace's memory
only when it is switched on (``memory.record_sessions`` in ``caramba.yml``). Planning reads
:func:`tried` (earlier nodes on the same goal, so refuted variants are not proposed again);
each analysed node is written with :func:`remember`. A memory that cannot be reached is
reported on stderr and never stops the loop (the same rule as every session's memory write).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from caramba.processes.development.tree import Goal, Node, Tree

TRIED_K = 8


def _enabled(workspace: Path) -> bool:
    from caramba.workspace.config import load_workspace

    return load_workspace(workspace).memory.record_sessions


def tried(workspace: Path, goal: Goal) -> list[dict[str, Any]]:
    """Earlier nodes on ``goal`` from memory (empty when memory is off or unreachable)."""
    if not _enabled(workspace):
        return []
    from caramba.codegraph.database import DatabaseError
    from caramba.memory.errors import MemoryUnavailable
    from caramba.processes.development.tree.memory import tried_before

    from caramba.memory.api import Memory

    try:
        return tried_before(Memory(workspace), goal, TRIED_K)
    except (MemoryUnavailable, DatabaseError, OSError) as error:
        print(f"memory: earlier attempts could not be read ({error})", file=sys.stderr)
        return []


def remember(workspace: Path, tree: Tree, nodes: list[Node], folder: Path) -> None:
    """Write each analysed node (hypothesis, outcome, analysis) to memory."""
    if not _enabled(workspace):
        return
    from caramba.codegraph.database import DatabaseError
    from caramba.memory.errors import MemoryUnavailable
    from caramba.processes.development.tree.memory import remember_node

    from caramba.memory.api import Memory

    memory = Memory(workspace)
    for node in nodes:
        try:
            remember_node(memory, tree, node, f"development/{folder.name}")
        except (MemoryUnavailable, DatabaseError, OSError) as error:
            print(f"memory: node {node.id} was not recorded ({error})", file=sys.stderr)
            return
