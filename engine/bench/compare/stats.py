"""Statistics of a comparison: per-arm summaries and Welch's t-test between arms.

Seeds are replicates of an arm. For the n values x₁…xₙ of one metric in one arm:

    mean  x̄ = Σxᵢ / n,     sd  s = √(Σ(xᵢ − x̄)² / (n − 1))     (sample sd, ddof 1)
    95% CI = x̄ ± t₀.₉₇₅,ₙ₋₁ · s / √n                            (Student t; none for n < 2)

Between arms A (baseline) and B the difference is d = x̄_B − x̄_A, tested with **Welch's
t-test** (unequal variances, no pooling):

    se = √(s_A²/n_A + s_B²/n_B),   t = d / se
    df = se⁴ / ((s_A²/n_A)²/(n_A − 1) + (s_B²/n_B)²/(n_B − 1))      (Welch–Satterthwaite)
    p  = 2 · P(T_df > |t|),        95% CI of d = d ± t₀.₉₇₅,df · se

A difference is *significant at 95%* when p < 0.05. Two arms whose seeds all give the
same value (e.g. measured KV-cache bytes, which do not depend on the seed) have se = 0:
the difference is then exact, reported with test ``exact`` and no p-value. With fewer
than two seeds in either arm there is no test (``test = "none"``), never a guess.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import stats as _stats

LEVEL = 0.95
TESTS = ("welch", "exact", "none")


@dataclass(frozen=True)
class Summary:
    """One metric of one arm: n, mean, sample sd and the 95% CI of the mean (None for n < 2)."""

    n: int
    mean: float
    sd: float | None
    ci_low: float | None
    ci_high: float | None

    def to_json(self) -> dict[str, Any]:
        """The summary as a JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True)
class Difference:
    """B − A for one metric: the difference, its 95% CI, the test and its verdict."""

    diff: float
    ratio: float | None
    ci_low: float | None
    ci_high: float | None
    t: float | None
    df: float | None
    p: float | None
    test: str
    significant: bool | None

    @property
    def verdict(self) -> str:
        """``significant at 95%``, ``not significant at 95%``, ``exact (no seed variance)`` or ``untested (n < 2)``."""
        if self.test == "none":
            return "untested (n < 2)"
        if self.test == "exact":
            return "exact (no seed variance)" if self.significant else "identical"
        return "significant at 95%" if self.significant else "not significant at 95%"

    def to_json(self) -> dict[str, Any]:
        """The difference as a JSON-ready dict, verdict included."""
        return {**asdict(self), "verdict": self.verdict}


def summarize(values: list[float]) -> Summary:
    """n, mean, sd and 95% CI of one arm's values (module docstring)."""
    if not values:
        raise ValueError("an arm needs at least one value to summarise")
    x = np.asarray(values, dtype=np.float64)
    n, mean = len(x), float(x.mean())
    if n < 2:
        return Summary(n, mean, None, None, None)
    sd = float(x.std(ddof=1))
    half = float(_stats.t.ppf(0.5 + LEVEL / 2, n - 1)) * sd / math.sqrt(n)
    return Summary(n, mean, sd, mean - half, mean + half)


def welch(a: list[float], b: list[float]) -> Difference:
    """Welch's t-test of B − A with its 95% CI (module docstring); A is the baseline."""
    sa, sb = summarize(a), summarize(b)
    diff = sb.mean - sa.mean
    ratio = sb.mean / sa.mean if sa.mean != 0 else None
    if sa.sd is None or sb.sd is None:
        return Difference(diff, ratio, None, None, None, None, None, "none", None)
    va, vb = sa.sd ** 2 / sa.n, sb.sd ** 2 / sb.n
    se = math.sqrt(va + vb)
    if se == 0.0:
        return Difference(diff, ratio, diff, diff, None, None, None, "exact", diff != 0.0)
    df = (va + vb) ** 2 / ((va ** 2 / (sa.n - 1) if va else 0.0) + (vb ** 2 / (sb.n - 1) if vb else 0.0))
    t = diff / se
    p = float(2.0 * _stats.t.sf(abs(t), df))
    half = float(_stats.t.ppf(0.5 + LEVEL / 2, df)) * se
    return Difference(diff, ratio, diff - half, diff + half, t, df, p, "welch", p < 1.0 - LEVEL)
