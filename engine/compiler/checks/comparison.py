"""``comparison:``: arms name experiment targets (or ``target/run``), the baseline is an arm, the primary metric exists.

The primary metric must be one every arm reports: ``train_loss``/``val_loss``, or
``<benchmark id>.<metric>`` where each arm's target has that benchmark and the metric is
one its type measures (``BENCHMARK_METRICS``). Checked here so that a typo fails at
validation, not after every arm has trained.
"""

from __future__ import annotations

from caramba.engine.compiler.checks import Issue
from caramba.engine.manifest import Manifest
from caramba.engine.manifest.comparison import BENCHMARK_METRICS, RUN_METRICS, arm_parts


def check_comparison(manifest: Manifest) -> list[Issue]:
    """Every problem of the manifest's ``comparison:`` block (empty when there is none)."""
    spec = manifest.comparison
    if spec is None:
        return []
    experiments = {t.name: t for t in manifest.experiments()}
    issues: list[Issue] = []
    for index, arm in enumerate(spec.arms):
        name, run = arm_parts(arm)
        if name not in experiments:
            issues.append(Issue(("comparison", "arms", index), f"arm {arm!r} is not an experiment target",
                                f"use target names: {', '.join(experiments) or '(none)'} (or target/run)"))
        elif run is not None and run not in {r.id for r in experiments[name].runs}:
            issues.append(Issue(("comparison", "arms", index), f"target {name!r} has no run {run!r}",
                                f"use one of: {', '.join(f'{name}/{r.id}' for r in experiments[name].runs)}"))
        elif spec.arms.index(arm) != index:
            issues.append(Issue(("comparison", "arms", index), f"arm {arm!r} is listed twice", "list each target once"))
    if spec.baseline is not None and spec.baseline not in spec.arms:
        issues.append(Issue(("comparison", "baseline"), f"baseline {spec.baseline!r} is not one of the arms",
                            f"choose one of: {', '.join(spec.arms)}"))
    issues += _primary(spec.primary, [experiments[arm_parts(a)[0]] for a in spec.arms if arm_parts(a)[0] in experiments])
    return issues


def _primary(metric: str, targets: list) -> list[Issue]:
    path = ("comparison", "primary")
    if metric in RUN_METRICS:
        distilled = next((t.name for t in targets if t.trainer.ref == "trainer.upcycle"), None)
        if distilled is not None:
            return [Issue(path, f"arm {distilled!r} trains with trainer.upcycle, whose {metric} is the distillation objective "
                          "(block MSE, KL + CE), not next-token CE like the other arms'",
                          "compare a perplexity benchmark every arm runs, e.g. primary: perplexity.ppl")]
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
