"""Result keys: the slugs ``\\res{…}`` and ``\\cmp{…}`` take (``gqa-ppl``, ``gqa-vs-mha-ppl``, ``n-seeds``).

A key is lower-case letters, digits and single hyphens. A metric's slug drops the
benchmark id when it is the benchmark's default (``perplexity.ppl`` → ``ppl``,
``memory.kv_bytes@fp16,B=1,L=1024`` → ``kv-bytes-fp16-b-1-l-1024``) and keeps it otherwise
(``wiki.ppl`` → ``wiki-ppl``); an arm's slug is its name slugged (``cmp:mha`` → ``cmp-mha``).
"""

from __future__ import annotations

import re

#: Benchmark ids that are left out of metric slugs (the ids the presets and examples use).
DEFAULT_BENCHMARKS = ("perplexity", "memory", "latency")
KEY = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def slug(text: str) -> str:
    """``Which attention? (v2)`` → ``which-attention-v2``."""
    return "-".join(re.findall(r"[a-z0-9]+", text.lower()))


def metric_slug(metric: str) -> str:
    """The slug of a comparison metric name (module docstring)."""
    name, _, point = metric.partition("@")
    bench, _, base = name.rpartition(".")
    parts = [] if bench in ("", *DEFAULT_BENCHMARKS) else [bench]
    return slug(" ".join([*parts, base, point]))


def metric_key(arm: str, metric: str) -> str:
    """``gqa-ppl``: one arm's value of one metric."""
    return f"{slug(arm)}-{metric_slug(metric)}"


def pair_key(a: str, b: str, metric: str) -> str:
    """``gqa-vs-mha-ppl``: the difference B − A (A the baseline) on one metric."""
    return f"{slug(b)}-vs-{slug(a)}-{metric_slug(metric)}"
