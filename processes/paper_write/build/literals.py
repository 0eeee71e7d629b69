"""Numeric literals in text: what counts as a number, for the prose check and the PDF check alike.

A *number* is a run of digits, optionally grouped by thousands (``11,968``), with an
optional decimal part and exponent, standing on its own: not glued to a letter or digit
before it (``s1``, ``fp16``, ``L2`` are names), not the tail of a hyphenated name
(``GPT-2``, ``Llama-3``), not part of a dotted version or identifier (``3.12.1``,
``0a9baa59``, a hash). Letters right after it make it a number with a unit (``16GB``,
``3x``) — still a number — unless they run into more digits (an identifier) or are an
ordinal suffix (``1st``, ``2nd``: ordinals are words). The sign is not part of a number:
``-2.07`` and ``−2.07`` both show the number ``2.07``.

:func:`numbers_in` returns each number with its *form* (the digits as shown, thousands
separators removed: ``11968``, ``2.80``) — provenance compares forms, so ``2.8`` typed
where the record shows ``2.80`` still traces, while ``17.2`` never passes for ``17.24``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

NUMBER = re.compile(r"""
    (?<![\w.])(?<![A-Za-z]-)                      # not glued to a name, not GPT-2
    (?P<digits>\d{1,3}(?:,\d{3})+(?!\d)|\d+)      # 11,968 or 11968
    (?P<fraction>\.\d+)?(?![.,]\d)                # 2.07, not 3.12.1
    (?P<exponent>[eE][-+]?\d+)?
    (?P<unit>[A-Za-z]+)?(?![\w])                  # 16GB, 3x; not 0a9b (runs into digits)
    """, re.VERBOSE)
ORDINAL = ("st", "nd", "rd", "th")


@dataclass(frozen=True)
class Literal:
    """One number found in a text: its form (``2.07``), the text as written, and where it starts."""

    form: str
    text: str
    start: int
    end: int

    @property
    def value(self) -> float:
        """The number as a float (the sign is not part of a literal)."""
        return float(self.form)


def numbers_in(text: str) -> list[Literal]:
    """Every number in ``text`` (module docstring), in order."""
    out = []
    for m in NUMBER.finditer(text):
        unit = (m.group("unit") or "").lower()
        if unit in ORDINAL:
            continue
        form = m.group("digits").replace(",", "") + (m.group("fraction") or "") + (m.group("exponent") or "")
        out.append(Literal(form, m.group(0), m.start(), m.end()))
    return out


def forms(text: str) -> list[str]:
    """The forms of every number in ``text`` (``["72.08", "0.79"]`` for ``72.08 ± 0.79``)."""
    return [n.form for n in numbers_in(text)]
