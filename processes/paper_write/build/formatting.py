"""How the numbers of a paper are written: one rounding rule, shared by every macro.

* a mean over seeds with its sd: the engine's table rule
  (:func:`caramba.engine.bench.compare.tables.mean_sd`) — the sd to two significant
  digits, the mean to the same decimals (``72.08 \\pm 0.79``), so ``\\res`` and the
  comparison table show the same digits;
* a difference B − A with its 95% CI: decimals from the CI's half-width at two
  significant digits (``-2.07\\ [-6.96, 2.82]``); an exact difference (no seed
  variance) with four significant digits;
* a ratio to three significant digits, a p-value to two (``< 0.001`` below that);
* counts as integers with thousands grouped (``11{,}968``).

Each function returns ``(latex, values)``: the math-mode text and the numbers it shows,
as floats, which the provenance checks compare typed literals against.
"""

from __future__ import annotations

import math

from caramba.engine.bench.compare.tables import mean_sd


def _decimals(width: float) -> int:
    """Decimals that keep two significant digits of ``width``."""
    if width == 0 or not math.isfinite(width):
        return 4
    return min(max(0, 1 - math.floor(math.log10(abs(width)))), 6)


def _num(value: float, decimals: int) -> str:
    text = f"{value:.{decimals}f}"
    return "0" + text[2:] if text.startswith("-0") and float(text) == 0 else text


def general(value: float, digits: int = 4) -> str:
    """``value`` with ``digits`` significant digits, plain notation when it reads well."""
    text = f"{value:.{digits}g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        return rf"{mantissa} \times 10^{{{int(exponent)}}}"
    return text


def metric(mean: float, sd: float | None, scale: float = 1.0) -> tuple[str, tuple[float, ...]]:
    """``72.08 \\pm 0.79`` (or the mean alone when there is no sd)."""
    m, s = mean_sd(mean, sd, scale)
    if not s:
        text = general(mean * scale)
        return text, _values(text)
    return rf"{m} \pm {s}", (float(m), float(s))


def interval(low: float, high: float, like: str) -> tuple[str, tuple[float, ...]]:
    """``[70.12, 74.04]``: a CI with as many decimals as ``like`` (a rounded mean)."""
    decimals = len(like.split(".")[1]) if "." in like else 0
    lo, hi = _num(low, decimals), _num(high, decimals)
    return f"[{lo}, {hi}]", (float(lo), float(hi))


def difference(diff: float, low: float | None, high: float | None, scale: float = 1.0) -> tuple[str, tuple[float, ...]]:
    """``-2.07\\ [-6.96, 2.82]``; the difference alone when there is no CI; exact when the CI has no width."""
    diff = diff * scale
    if low is None or high is None:
        text = general(diff)
        return text, _values(text)
    low, high = low * scale, high * scale
    if low == high:
        text = general(diff)
        return text, _values(text)
    d = _decimals((high - low) / 2)
    texts = [_num(diff, d), _num(low, d), _num(high, d)]
    return rf"{texts[0]}\ [{texts[1]}, {texts[2]}]", tuple(float(t) for t in texts)


def ratio(value: float) -> tuple[str, tuple[float, ...]]:
    """A ratio to three significant digits (``0.972``)."""
    text = f"{value:.3g}"
    return text, (float(text),)


def p_value(p: float) -> tuple[str, tuple[float, ...]]:
    """``0.24``, ``0.0031``, or ``< 0.001``."""
    if p < 0.001:
        return r"< 0.001", (0.001,)
    text = f"{p:.2g}"
    return text, (float(text),)


def count(value: int) -> tuple[str, tuple[float, ...]]:
    """An integer, thousands grouped for LaTeX (``11{,}968``)."""
    return f"{int(value):,}".replace(",", "{,}"), (float(value),)


def _values(text: str) -> tuple[float, ...]:
    if r"\times 10^" in text:
        mantissa, exponent = text.split(r" \times 10^")
        return (float(mantissa) * 10 ** int(exponent.strip("{}")),)
    return (float(text),)
