"""The arms of a development session: its ``tree.json`` read as plain JSON.

A session folder (``caramba develop``) holds ``tree.json``, written by
:class:`caramba.processes.development.tree.Tree`. The paper uses from it only:

* ``goal``: ``question``, ``metric`` (the primary metric), ``direction`` (``min``/``max``);
* ``root``: the id of the starting manifest's node — the **baseline arm**;
* ``nodes[id]``: ``status`` (only ``done`` nodes and the root are arms), ``run_ids``
  (the node's seeds, in the run store), ``manifest`` (its YAML, relative to the
  session), ``hypothesis``, ``diff`` (``[{path, old, new, kind}]``: what the variant
  changed against its parent).

Each arm is named after its node (``n0``, ``n3``); its note says what it is (the root's
manifest, or the node's hypothesis and changes), so the paper can describe the arms
without inventing anything. Reading the JSON (rather than importing the tree's models)
keeps the paper build independent of the development process's code; a missing or
malformed file is a :class:`~caramba.processes.paper_write.build.source.SourceError`
that says what is wrong.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from caramba.engine.bench.compare import Arm, ComparisonInputError
from caramba.engine.store import RunStore
from caramba.processes.paper_write.build.source import Resolved, SourceError


@dataclass(frozen=True)
class SessionSpec:
    """What a manifest's ``comparison:`` block would say, taken from the session's goal."""

    question: str
    primary: str
    direction: str
    reference: str


def load_tree(folder: Path) -> dict[str, Any]:
    """``folder/tree.json`` as a dict, checked for the fields the paper uses (module docstring)."""
    path = folder / "tree.json"
    if not folder.is_dir():
        raise SourceError(f"{folder}: no such session folder; give the folder `caramba develop` wrote")
    if not path.is_file():
        raise SourceError(f"{path}: no tree.json in this folder — it is not a development session (or the session "
                          "has not planned its first node yet); give a session folder, a manifest or run ids")
    try:
        tree = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise SourceError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    for field in ("goal", "root", "nodes"):
        if field not in tree:
            raise SourceError(f"{path}: no {field!r} field; not an experiment tree written by caramba develop")
    if tree["root"] not in tree["nodes"]:
        raise SourceError(f"{path}: root {tree['root']!r} is not one of its nodes ({', '.join(tree['nodes']) or 'none'})")
    return tree


def _note(node: dict[str, Any], root: bool) -> str:
    if root:
        return f"the starting manifest ({node.get('manifest', '?')})"
    changes = "; ".join(f"{c['path']}: {c.get('old')!r} → {c.get('new')!r}" for c in node.get("diff", []))
    hypothesis = (node.get("hypothesis") or "").strip()
    return " — ".join(p for p in (hypothesis, f"changes against {node.get('parent')}: {changes}" if changes else "") if p)


def session_arms(folder: Path, store: RunStore) -> Resolved:
    """The root and every done node of the session's tree as arms (module docstring)."""
    tree = load_tree(folder)
    nodes = tree["nodes"]
    chosen = [tree["root"]] + [k for k, n in nodes.items() if n.get("status") == "done" and k != tree["root"]]
    if len(chosen) < 2:
        raise SourceError(f"{folder / 'tree.json'}: no node besides the root {tree['root']} is done; a paper compares "
                          "the root with at least one finished variant — let the session run further")
    arms, notes, files = [], {}, {}
    for key in chosen:
        node = nodes[key]
        if not node.get("run_ids"):
            raise SourceError(f"{folder / 'tree.json'}: node {key} has no run_ids; it has not run its seeds")
        records = [store.get(r) for r in node["run_ids"]]
        unfinished = [f"{r.id} ({r.status})" for r in records if r.status != "succeeded"]
        if unfinished:
            raise ComparisonInputError(f"node {key}: runs not finished: {', '.join(unfinished)}")
        arms.append(Arm(key, tuple(records)))
        notes[key] = _note(node, key == tree["root"])
        if node.get("manifest") and node.get("manifest_hash"):
            files[node["manifest_hash"]] = folder / node["manifest"]
    goal = tree["goal"]
    direction = "maximize" if goal.get("direction") == "max" else "minimize"
    spec = SessionSpec(goal.get("question", ""), goal.get("metric", ""), direction, tree["root"])
    commands = [f"caramba run {folder / nodes[k]['manifest']}" for k in chosen if nodes[k].get("manifest")]
    commands.append(f"caramba compare {' '.join(r.id for a in arms for r in a.runs)}")
    return Resolved(arms, spec, spec.question, notes, files, commands)
