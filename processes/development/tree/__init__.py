"""The experiment tree of a development session: its records, search policy, files and memory.

Interface changes: none so far (the names below are the contract the development loop codes against).

* :mod:`.model` — ``Goal``, ``NodeStatus``, ``Change``, ``MetricSummary``, ``Cost``, ``Node``
* :mod:`.tree` — ``Tree`` (add / get / update with the life-cycle rules, best, save / load)
* :mod:`.diff` — ``diff_manifests`` and ``describe``: what a variant changed against its parent
* :mod:`.search` — ``compare_nodes``, ``next_to_expand``, ``stop_reason`` (best-first, Welch CIs)
* :mod:`.markdown`, :mod:`.picture` — ``tree.md`` and the drawing of the search (PNG + PDF)
* :mod:`.report` — ``report.md`` and ``report_numbers`` (every number it prints, from the tree)
* :mod:`.memory` — ``remember_node``, ``tried_before``, ``is_repeat``: what earlier sessions tried

Files are small, one responsibility each; imports point down to the engine's statistics
(:mod:`caramba.engine.bench.compare.stats`), atomic writes, the figure style and memory.
"""

from caramba.processes.development.tree.diff import describe, diff_manifests
from caramba.processes.development.tree.model import Change, Cost, Goal, MetricSummary, Node, NodeStatus
from caramba.processes.development.tree.tree import Tree, TreeError

__all__ = ["Change", "Cost", "Goal", "MetricSummary", "Node", "NodeStatus", "Tree", "TreeError", "describe",
           "diff_manifests"]
