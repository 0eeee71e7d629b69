"""Deciding: when the loop stops, how it reports its end, and whether an analysis is grounded.

:func:`stop_now` asks the tree's stop rules
(:func:`~caramba.processes.development.tree.search.stop_reason`: target met, compute or LLM
budget spent, iterations, patience, nothing left) with what is left of each budget, after
the wall-time budget (ignored in a replay, which must end as the recorded session did).
:func:`grounded` flags numbers in the analyst's text that were not among the measured
results it was given: every number a session reports comes from a run.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from caramba.processes.development.tree import Tree
from caramba.processes.development.tree.search import stop_reason

if TYPE_CHECKING:
    from caramba.processes.development.process import Development

NUMBER = re.compile(r"(?<![\w.])-?\d+\.\d{2,}")


def stop_now(host: Development) -> str | None:
    """Why the session should stop before its next iteration, or None (module docstring)."""
    c, data = host.config, host.session.state.data
    if c.wall_s is not None and host.session.options.replay is None and host.wall_s() >= c.wall_s:
        return f"wall-time budget of {c.wall_s:g} s spent"
    return stop_reason(host.tree, iterations_done=int(data.get("iterations", 0)), max_iterations=c.iterations,
                       patience=c.patience, compute_left_steps=steps_left(host), llm_budget_left=llm_left(host))


def steps_left(host: Development) -> int | None:
    """Training steps left: the step budget, or the GPU-hours left in steps of the starting manifest."""
    c = host.config
    if c.compute_steps is not None:
        return host.ledger.left_steps()
    if c.compute_gpu_hours is None:
        return None
    left = c.compute_gpu_hours - host.ledger.spent().gpu_hours
    per_step = host.start.tokens_per_step * host.start.flops_per_token / c.gpu_flops / 3600
    return int(left / per_step) if per_step > 0 else None


def llm_left(host: Development) -> float | None:
    """What is left of the LLM budget, in its unit (USD or tokens); None without one."""
    budget, total = host.session.meter.budget, host.session.meter.total
    if budget.usd is not None:
        return budget.usd - total.cost_usd
    if budget.tokens is not None:
        return float(budget.tokens - total.prompt_tokens - total.completion_tokens)
    return None


def ending(tree: Tree, reason: str) -> str:
    """The session's closing message: the stop reason and the best node with its run ids."""
    best = tree.best()
    if best is None:
        return f"completed: {reason}; no node finished"
    s = best.metrics[tree.goal.metric]
    return (f"completed: {reason}; best {best.id} {tree.goal.metric} {s.mean:.4f} "
            f"(runs {', '.join(s.run_ids)}), {len(tree.nodes)} nodes")


def grounded(text: str, facts: str) -> str:
    """``text`` with a note naming each number (two or more decimals) that the facts the
    analyst was given do not contain: a number must come from a run, never from the model."""
    known = set(NUMBER.findall(facts))
    unknown = [n for n in dict.fromkeys(NUMBER.findall(text)) if n not in known]
    if not unknown:
        return text
    return f"{text}\n\n(unverified: {', '.join(unknown)} not among the measured results given to the analyst)"
