"""The numbers ``report.md`` may print, each named and computed from the tree (and the session's costs).

The tree's values come from the run store (the loop fills ``metrics`` from the runs'
metrics files), so a test that checks every printed number against :func:`report_numbers`
checks the report against the run store. Names read ``n3.val_loss.mean``,
``n0>n3.improvement``, ``cost.persona.architect.usd``, ``count.pruned``.
"""

from __future__ import annotations

from typing import Any

from caramba.processes.development.tree.fmt import half_width, num, runs
from caramba.processes.development.tree.model import NodeStatus
from caramba.processes.development.tree.search import compare_nodes
from caramba.processes.development.tree.tree import Tree

FATES = {"proposed": None, "rejected at validation": NodeStatus.invalid, "over budget": NodeStatus.over_budget,
         "pruned at pilot": NodeStatus.pruned, "run in full": NodeStatus.done, "failed": NodeStatus.failed}


def counts(tree: Tree) -> dict[str, int]:
    """How many variants (the root aside) were proposed, and how many met each fate."""
    variants = [n for n in tree.nodes.values() if n.parent is not None]
    return {name: len(variants) if status is None else sum(n.status == status for n in variants)
            for name, status in FATES.items()}


def evidence_line(tree: Tree, a_id: str, b_id: str) -> str:
    """``improvement 0.29 (95% CI …, Welch p = …; significant) — a: 3.1 (runs …), b: 2.81 (runs …)``."""
    v = compare_nodes(tree, a_id, b_id)
    metric = tree.goal.metric
    a, b = tree.nodes[a_id].metrics[metric], tree.nodes[b_id].metrics[metric]
    sides = f"`{a_id}` {num(a.mean)} ({runs(a.run_ids)}), `{b_id}` {num(b.mean)} ({runs(b.run_ids)})"
    if v["ci_low"] is None:
        return f"improvement {num(v['improvement'])}, untested (fewer than 2 seeds) — {sides}"
    p = f", Welch p = {num(v['p'])}" if v["p"] is not None else ", exact (no seed variance)"
    verdict = "significant at 95%" if v["significant"] else "not significant at 95%"
    return f"improvement {num(v['improvement'])} (95% CI {num(v['ci_low'])} to {num(v['ci_high'])}{p}; {verdict}) — {sides}"


def report_numbers(tree: Tree, costs: dict[str, Any] | None = None) -> dict[str, float]:
    """Every number the report (and ``tree.md``) may print, by name (module docstring)."""
    goal, out = tree.goal, {}
    out["goal.seeds"] = float(goal.seeds)
    if goal.target is not None:
        out["goal.target"] = goal.target
    for node in tree.ordered():
        for name, s in node.metrics.items():
            key = f"{node.id}.{name}"
            out.update({f"{key}.mean": s.mean, f"{key}.n": float(s.n)})
            if s.ci_low is not None:
                out.update({f"{key}.ci_low": s.ci_low, f"{key}.ci_high": s.ci_high, f"{key}.half": half_width(s)})
        c = node.cost
        out.update({f"{node.id}.cost.steps": float(c.steps), f"{node.id}.cost.gpu_hours": c.gpu_hours,
                    f"{node.id}.cost.llm_usd": c.llm_usd, f"{node.id}.cost.llm_tokens": float(c.llm_tokens)})
    done = {n.id for n in tree.done_nodes()}
    pairs = [(n.parent, n.id) for n in tree.ordered() if n.parent in done and n.id in done]
    best = tree.best()
    if best is not None and tree.root in done:
        pairs.append((tree.root, best.id))
    for a, b in pairs:
        v = compare_nodes(tree, a, b)
        out[f"{a}>{b}.improvement"] = v["improvement"]
        for field in ("ci_low", "ci_high", "p"):
            if v[field] is not None:
                out[f"{a}>{b}.{field}"] = v[field]
    for name, value in counts(tree).items():
        out[f"count.{name}"] = float(value)
    costs = costs or {}
    personas = costs.get("personas", {})
    for name, spent in personas.items():
        out[f"cost.persona.{name}.usd"] = float(spent.get("usd", 0.0))
        out[f"cost.persona.{name}.tokens"] = float(spent.get("tokens", 0))
    out["cost.total.usd"] = float(sum(p.get("usd", 0.0) for p in personas.values()))
    out["cost.total.tokens"] = float(sum(p.get("tokens", 0) for p in personas.values()))
    compute = costs.get("compute", {})
    out["cost.compute.steps"] = float(compute.get("steps", 0))
    out["cost.compute.gpu_hours"] = float(compute.get("gpu_hours", 0.0))
    return out
