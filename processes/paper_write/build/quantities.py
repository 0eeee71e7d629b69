"""The quantities and comparisons of a result set, from the engine's own analysis (``Comparison``).

Keys (``keys.py``), for arms A (the baseline) and B, and each metric ``m`` of the comparison:

==============================  ==========  ==================================================
key                              kind        shows
==============================  ==========  ==================================================
``<arm>-<m>``                    metric      mean ± sd over the arm's seeds (``72.08 \\pm 0.79``)
``<arm>-<m>-mean``               metric      the mean alone, rounded the same way
``<arm>-<m>-ci``                 metric      the 95% CI of the mean (``[70.12, 74.04]``)
``<b>-vs-<a>-<m>``               difference  B − A with its 95% CI; also a ``\\cmp`` claim
``<b>-vs-<a>-<m>-p``             difference  Welch's p-value of B − A
``<b>-over-<a>-<m>``             ratio       B / A of the means
``<b>-vs-<a>-<m>-pct``           ratio       100 · (B / A − 1), the relative change in percent
``n-arms``, ``n-runs``           count       arms and runs in the result set
``<arm>-n`` (``n-seeds``)        count       seeds of an arm (of every arm, when they agree)
``<arm>-steps`` (``steps``)      setup       optimiser steps of the arm's runs
``<arm>-params`` (``params``)    setup       trained parameters (from the checkpoint)
``<arm>-train-tokens``           setup       steps × batch × block
``<arm>-batch-size``, ``-block-size``, ``-lr``  setup  the training settings
==============================  ==========  ==================================================

A setup fact is given for an arm only when all its seeds agree on it (else the record
has no one value to state); the unprefixed form exists when every run of every arm
agrees. Byte metrics are shown in MiB (the
comparison's own display unit).
"""

from __future__ import annotations

from caramba.engine.bench.compare.analysis import Comparison
from caramba.engine.bench.compare.headline import display_name, display_unit
from caramba.processes.paper_write.build import formatting as fmt
from caramba.processes.paper_write.build.keys import metric_key, pair_key, slug
from caramba.processes.paper_write.build.model import ComparisonClaim, Quantity, QuantityKind, RunFacts


class _Builder:
    """Collects quantities, refusing a key twice (two names slugging alike would silently shadow)."""

    def __init__(self, hashes: dict[str, str]) -> None:
        self.quantities: dict[str, Quantity] = {}
        self.hashes = hashes

    def add(self, key: str, text: tuple[str, tuple[float, ...]], unit: str, runs: list[str], kind: QuantityKind,
            description: str, exact: float | None) -> None:
        if key in self.quantities:
            raise ValueError(f"two results slug to the key {key!r}; rename an arm so their names differ in letters or digits")
        hashes = tuple(sorted({self.hashes[r] for r in runs}))
        self.quantities[key] = Quantity(key, text[0], text[1], unit, tuple(runs), hashes, kind, description, exact)


def metric_quantities(c: Comparison, b: _Builder) -> None:
    """``<arm>-<m>``, ``-mean`` and ``-ci`` for every arm and metric."""
    for arm in c.arms:
        for m in c.metrics:
            s = arm.summaries.get(m)
            if s is None:
                continue
            unit, scale = display_unit(m)
            runs = [r.run_id for r in arm.runs if m in r.values]
            key, what = metric_key(arm.name, m), f"{display_name(m)} of {arm.name}"
            shown = fmt.metric(s.mean, s.sd, scale)
            b.add(key, shown, unit, runs, "metric", f"{what}: mean ± sd over {s.n} seeds", s.mean * scale)
            mean_text = shown[0].split(r" \pm ")[0]
            b.add(f"{key}-mean", (mean_text, (float(shown[1][0]),)), unit, runs, "metric", f"{what}: mean of {s.n} seeds",
                  s.mean * scale)
            if s.ci_low is not None and s.ci_high is not None and s.ci_low != s.ci_high:
                b.add(f"{key}-ci", fmt.interval(s.ci_low * scale, s.ci_high * scale, mean_text), unit, runs, "metric",
                      f"{what}: 95% CI of the mean", None)


def pair_quantities(c: Comparison, b: _Builder) -> dict[str, ComparisonClaim]:
    """Differences, p-values and ratios of every pair; the differences also as claims."""
    claims: dict[str, ComparisonClaim] = {}
    for pair in c.pairs:
        d = pair.difference
        unit, scale = display_unit(pair.metric)
        runs = c.arm(pair.a).run_ids + c.arm(pair.b).run_ids
        key, what = pair_key(pair.a, pair.b, pair.metric), f"{display_name(pair.metric)}: {pair.b} − {pair.a}"
        shown = fmt.difference(d.diff, d.ci_low, d.ci_high, scale)
        b.add(key, shown, unit, runs, "difference", f"{what} with its 95% CI ({d.verdict})", d.diff * scale)
        if d.p is not None:
            b.add(f"{key}-p", fmt.p_value(d.p), "", runs, "difference", f"{what}: Welch's p-value", d.p)
        if d.ratio is not None:
            b.add(pair_key(pair.a, pair.b, pair.metric).replace("-vs-", "-over-", 1), fmt.ratio(d.ratio), "", runs, "ratio",
                  f"{display_name(pair.metric)}: {pair.b} / {pair.a}", d.ratio)
            b.add(f"{key}-pct", fmt.ratio(100.0 * (d.ratio - 1.0)), "%", runs, "ratio",
                  f"{display_name(pair.metric)}: relative change of {pair.b} against {pair.a}, in percent",
                  100.0 * (d.ratio - 1.0))
        claims[key] = ComparisonClaim(
            key, (pair.a, pair.b), pair.metric, d.diff * scale, None if d.ci_low is None else d.ci_low * scale,
            None if d.ci_high is None else d.ci_high * scale, d.p, d.significant, tuple(runs),
            b.quantities[key].manifest_hashes, d.test, shown[0], shown[1], unit)
    return claims


def setup_quantities(facts: list[RunFacts], arms: dict[str, list[str]], b: _Builder) -> None:
    """Counts and setup facts (module docstring)."""
    every = [f.run_id for f in facts]
    b.add("n-arms", fmt.count(len(arms)), "arms", every, "count", "arms compared", len(arms))
    b.add("n-runs", fmt.count(len(every)), "runs", every, "count", "runs in total", len(every))
    seeds = {len(runs) for runs in arms.values()}
    if len(seeds) == 1:
        n = seeds.pop()
        b.add("n-seeds", fmt.count(n), "seeds", every, "count", "seeds per arm", n)
    by_id = {f.run_id: f for f in facts}
    fields = (("steps", "steps", "optimiser steps"), ("params", "parameters", "trained parameters"),
              ("train-tokens", "train_tokens", "training tokens (steps × batch × block)"),
              ("batch-size", "batch_size", "batch size"), ("block-size", "block_size", "block size (tokens)"),
              ("lr", "lr", "peak learning rate"))
    for suffix, attr, what in fields:
        per_arm = {}
        for arm, runs in arms.items():
            values = {getattr(by_id[r], attr) for r in runs}
            if len(values) == 1 and None not in values:
                per_arm[arm] = values.pop()
                b.add(f"{slug(arm)}-{suffix}", _setup_text(per_arm[arm]),
                      "", runs, "setup", f"{what} of {arm}", float(per_arm[arm]))
        if len(per_arm) == len(arms) and len(set(per_arm.values())) == 1:
            value = next(iter(per_arm.values()))
            b.add(suffix, _setup_text(value), "", every, "setup", f"{what} (every run)", float(value))


def _setup_text(value: int | float) -> tuple[str, tuple[float, ...]]:
    if isinstance(value, int) or float(value).is_integer() and abs(value) >= 1:
        return fmt.count(int(value))
    return fmt.general(float(value), 3), (float(value),)


def quantities_of(c: Comparison, facts: list[RunFacts]) -> tuple[dict[str, Quantity], dict[str, ComparisonClaim]]:
    """Every quantity and claim of the comparison ``c`` and the runs' ``facts`` (module docstring)."""
    b = _Builder({f.run_id: f.manifest_hash for f in facts})
    metric_quantities(c, b)
    claims = pair_quantities(c, b)
    setup_quantities(facts, {a.name: a.run_ids for a in c.arms}, b)
    return b.quantities, claims
