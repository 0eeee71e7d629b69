"""The experiment tree of a development session: its records, search policy, files and memory.

Interface changes: none so far (the names below are the contract the development loop codes against).
Additions: ``TreeError`` (every refusal), ``apply_changes`` (the inverse of ``diff_manifests``),
``versus_parent`` and ``is_refuted`` (search), ``write_report(..., stopped=reason)``,
``unexplained_numbers`` (the report's number check), ``store_mismatches`` (the tree against the run store).

* :mod:`.model` — ``Goal``, ``NodeStatus``, ``Change``, ``MetricSummary``, ``Cost``, ``Node``
* :mod:`.tree` — ``Tree`` (add / get / update with the life-cycle rules, best, save / load)
* :mod:`.diff` — ``diff_manifests``, ``describe``, ``apply_changes``: what a variant changes
* :mod:`.search` — ``compare_nodes``, ``next_to_expand``, ``stop_reason`` (best-first, Welch CIs)
* :mod:`.markdown`, :mod:`.picture` (with :mod:`.layout`) — ``tree.md`` and the drawing (PNG + PDF)
* :mod:`.report` (with :mod:`.report_numbers`) — ``report.md``; every number it prints, from the tree
* :mod:`.provenance` — ``store_mismatches``: every tree value is its run's value in the run store
* :mod:`.memory` — ``remember_node``, ``tried_before``, ``is_repeat``: what earlier sessions tried

The picture (matplotlib) and memory functions are imported on first use, so importing the
package stays light. Imports point down to the engine's statistics, atomic writes, the
figure style and the knowledge memory.
"""

from typing import Any

from caramba.processes.development.tree.diff import apply_changes, describe, diff_manifests
from caramba.processes.development.tree.markdown import write_tree_md
from caramba.processes.development.tree.model import Change, Cost, Goal, MetricSummary, Node, NodeStatus
from caramba.processes.development.tree.provenance import store_mismatches
from caramba.processes.development.tree.report import report_numbers, unexplained_numbers, write_report
from caramba.processes.development.tree.search import (
    compare_nodes, is_refuted, next_to_expand, stop_reason, versus_parent)
from caramba.processes.development.tree.tree import Tree, TreeError

_LAZY = {"write_picture": "picture", "remember_node": "memory", "tried_before": "memory", "is_repeat": "memory"}

__all__ = ["Change", "Cost", "Goal", "MetricSummary", "Node", "NodeStatus", "Tree", "TreeError", "apply_changes",
           "compare_nodes", "describe", "diff_manifests", "is_refuted", "next_to_expand", "report_numbers",
           "stop_reason", "store_mismatches", "unexplained_numbers", "versus_parent", "write_report", "write_tree_md", *_LAZY]


def __getattr__(name: str) -> Any:
    """Import the picture and memory functions when first asked for (module docstring)."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"caramba.processes.development.tree.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
