"""Check a tree against the run store: every value it holds is the value its run recorded.

The tree is where ``report.md`` and ``tree.md`` take their numbers from
(:func:`~.report_numbers.report_numbers`); this module closes the loop from the tree to
the runs. For every node with metrics, each per-seed value must equal what the run store
reads for that run id, which must have succeeded (:func:`caramba.engine.bench.compare.metrics.read_run`, the same
reader comparisons use: the last ``val_loss`` evaluation, the perplexity artifact, …), and
the stored mean and CI must be what :func:`~caramba.engine.bench.compare.stats.summarize`
gives for those values. So ``unexplained_numbers(report) == []`` together with
``store_mismatches(tree, workspace) == []`` means every number in the report comes from
the run store.
"""

from __future__ import annotations

import math
from pathlib import Path

from caramba.engine.bench.compare.stats import summarize
from caramba.processes.development.tree.tree import Tree


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15)


def store_mismatches(tree: Tree, workspace: Path) -> list[str]:
    """Each disagreement between the tree's metric values and the run store of ``workspace`` (empty: none)."""
    from caramba.engine.bench.compare.metrics import read_run
    from caramba.engine.store.record import STATUS_FILE, RunRecord
    from caramba.engine.store.runs import RunStore

    store, problems = RunStore(Path(workspace)), []
    for node in tree.ordered():
        for metric, summary in node.metrics.items():
            for run_id, value in zip(summary.run_ids, summary.values):
                run_dir = store.run_dir(run_id)
                if not (run_dir / STATUS_FILE).is_file():
                    problems.append(f"{node.id}.{metric}: run {run_id} is not in the run store at {store.root}")
                    continue
                status = RunRecord.load(run_dir).status
                if status != "succeeded":
                    problems.append(f"{node.id}.{metric}: run {run_id} is {status}, not succeeded")
                    continue
                stored = read_run(run_dir).values.get(metric)
                if not _same(stored, value):
                    problems.append(f"{node.id}.{metric}: the tree says {value!r} for run {run_id}, the run store {stored!r}")
            again = summarize(summary.values)
            for field in ("n", "mean", "sd", "ci_low", "ci_high"):
                if not _same(getattr(again, field), getattr(summary, field)):
                    problems.append(f"{node.id}.{metric}.{field} is {getattr(summary, field)!r}, but its values give "
                                    f"{getattr(again, field)!r}")
    return problems
