"""How the tree's numbers are written, once, for ``tree.md``, ``report.md`` and the picture.

Every number goes through :func:`num` (4 significant digits), so :func:`report_numbers`
(in :mod:`.report`) can list exactly the values a file may contain and a test can check
each printed number against the tree.
"""

from __future__ import annotations

from caramba.processes.development.tree.model import Cost, MetricSummary, Node


def num(value: float) -> str:
    """A number as every tree file prints it: whole numbers in full (``12000``), others to 4 significant digits."""
    value = float(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.4g}"


def half_width(summary: MetricSummary) -> float | None:
    """Half the 95% CI's width (the ``±`` printed after a mean), None without a CI."""
    return None if summary.ci_low is None else (summary.ci_high - summary.ci_low) / 2


def runs(run_ids: list[str]) -> str:
    """Run ids as printed after a number, as code: ``runs `a`, `b`, `c```."""
    return "runs " + ", ".join(f"`{r}`" for r in run_ids) if run_ids else "no runs"


def metric_text(summary: MetricSummary, with_runs: bool = True) -> str:
    """``3.1 ± 0.2484 (95% CI 2.852 to 3.348, n=3; runs a, b, c)``; a single seed has no CI."""
    half = half_width(summary)
    tail = f"; {runs(summary.run_ids)}" if with_runs else ""
    if half is None:
        return f"{num(summary.mean)} (n=1, no CI{tail})"
    return f"{num(summary.mean)} ± {num(half)} (95% CI {num(summary.ci_low)} to {num(summary.ci_high)}, n={summary.n}{tail})"


def metric_short(summary: MetricSummary) -> str:
    """``3.1±0.2484`` for a drawing's label."""
    half = half_width(summary)
    return num(summary.mean) if half is None else f"{num(summary.mean)}±{num(half)}"


def cost_text(cost: Cost) -> str:
    """A node's cost: training steps, GPU-hours, LLM dollars and tokens (zeros left out)."""
    parts = [f"{num(cost.steps)} steps" if cost.steps else "",
             f"{num(cost.gpu_hours)} GPU-h" if cost.gpu_hours else "",
             f"${num(cost.llm_usd)} LLM" if cost.llm_usd else "",
             f"{num(cost.llm_tokens)} LLM tokens" if cost.llm_tokens else ""]
    return ", ".join(p for p in parts if p) or "none"


def status_text(node: Node) -> str:
    """The status, with its reason (quoted) when it has one."""
    return node.status.value + (f": {quoted(node.reason)}" if node.reason else "")


def quoted(text: str) -> str:
    """Free text someone wrote (a hypothesis, a validator's message, an analysis) in “curly quotes”, one line.

    Numbers inside quotes are what a persona or tool said, not values computed from the
    tree; the report's number check skips them (curly quotes inside are straightened).
    """
    return "“" + " ".join(text.replace("“", '"').replace("”", '"').split()) + "”"


def cell(text: str) -> str:
    """Text made safe for one Markdown table cell (pipes escaped, one line)."""
    return " ".join(text.split()).replace("|", "\\|")
