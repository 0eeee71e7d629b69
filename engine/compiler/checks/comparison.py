"""``comparison:``: arms name experiment targets, the baseline is an arm, the primary metric exists.

The primary metric must be one every arm reports: ``train_loss``/``val_loss``, or
``<benchmark id>.<metric>`` where each arm's target has that benchmark and the metric is
one its type measures (``BENCHMARK_METRICS``). Checked here so that a typo fails at
validation, not after every arm has trained.
"""

from __future__ import annotations

from caramba.engine.compiler.checks import Issue
from caramba.engine.manifest import Manifest
from caramba.engine.manifest.comparison import BENCHMARK_METRICS, RUN_METRICS


def check_comparison(manifest: Manifest) -> list[Issue]:
    """Every problem of the manifest's ``comparison:`` block (empty when there is none)."""
    spec = manifest.comparison
    if spec is None:
        return []
    experiments = {t.name: t for t in manifest.experiments()}
    issues: list[Issue] = []
    for index, arm in enumerate(spec.arms):
        if arm not in experiments:
            issues.append(Issue(("comparison", "arms", index), f"arm {arm!r} is not an experiment target",
                                f"use target names: {', '.join(experiments) or '(none)'}"))
        elif spec.arms.index(arm) != index:
            issues.append(Issue(("comparison", "arms", index), f"arm {arm!r} is listed twice", "list each target once"))
    if spec.baseline is not None and spec.baseline not in spec.arms:
        issues.append(Issue(("comparison", "baseline"), f"baseline {spec.baseline!r} is not one of the arms",
                            f"choose one of: {', '.join(spec.arms)}"))
    issues += _primary(spec.primary, [experiments[a] for a in spec.arms if a in experiments])
    return issues


def _primary(metric: str, targets: list) -> list[Issue]:
    path = ("comparison", "primary")
    if metric in RUN_METRICS:
        return []
    bench_id, _, rest = metric.partition(".")
    base = rest.split("@", 1)[0].split("[", 1)[0]
    if not rest:
        return [Issue(path, f"primary metric {metric!r} is neither a training metric nor <benchmark id>.<metric>",
                      f"use one of {', '.join(RUN_METRICS)} or e.g. perplexity.ppl")]
    for target in targets:
        bench = next((b for b in target.benchmarks if b.id == bench_id), None)
        if bench is None:
            return [Issue(path, f"arm {target.name!r} has no benchmark {bench_id!r} for primary metric {metric!r}",
                          f"add it to the arm's benchmarks, or pick one of: {', '.join(b.id for b in target.benchmarks) or '(none)'}")]
        allowed = BENCHMARK_METRICS.get(bench.config.type, ())
        if base not in allowed:
            return [Issue(path, f"a {bench.config.type} benchmark reports no {base!r}",
                          f"use {bench_id}.<one of {', '.join(allowed)}>")]
    return []
