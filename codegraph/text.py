"""Canonical property text: one spelling of odd characters for every way of writing.

A full sync loads the graph with FalkorDB's binary bulk format, an incremental one with
Cypher; both must store the same string for the same source. The two disagree on control
characters (Cypher keeps ``\\u0001`` as six characters of text, the bulk format stores the
byte) and a lone surrogate (``"\\ud800"`` in a docstring) cannot be sent as UTF-8 at all.
So every string taken from source code goes through ``clean`` once, in the parse worker:
C0 control characters other than tab, newline and carriage return become the text
``\\u00XX`` and lone surrogates become ``?``; everything else is kept as written.
"""

from __future__ import annotations

import re

_ODD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


def _spell(match: re.Match[str]) -> str:
    char = match.group()
    return "?" if "\ud800" <= char <= "\udfff" else f"\\u{ord(char):04x}"


def has_odd(value: str) -> bool:
    """Whether ``value`` holds anything ``clean`` would change."""
    return _ODD.search(value) is not None


def clean(value: str) -> str:
    """Return ``value`` with control characters spelled out and lone surrogates replaced."""
    if _ODD.search(value) is None:
        return value
    return _ODD.sub(_spell, value)


def clean_props(props: dict[str, object]) -> None:
    """Clean every string (and every string in a list) of ``props`` in place."""
    for name, value in props.items():
        if type(value) is str:
            if _ODD.search(value) is not None:
                props[name] = _ODD.sub(_spell, value)
        elif type(value) is list and value and type(value[0]) is str:
            props[name] = [clean(item) for item in value]


def clean_refs(refs: list[tuple]) -> list[tuple]:
    """Return ``refs`` (``facts.RefTuple``) with their written names cleaned."""
    return [ref if _ODD.search(ref[4]) is None else (*ref[:4], clean(ref[4]), *ref[5:]) for ref in refs]
