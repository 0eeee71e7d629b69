"""Reading LaTeX the writer wrote: comments, what is not prose, macro references, sentences.

Every function keeps offsets (masked text has the same length and the same newlines as
the source), so a finding maps back to its line with :func:`line_of`.

What is *not prose* (masked before numbers are looked for):

* comments (``%`` to the end of the line, ``\\%`` is a percent sign);
* the arguments of referencing and structural commands (:data:`MASKED`: ``\\res``,
  ``\\cmp``, ``\\ref``, ``\\cite…``, ``\\label``, ``\\includegraphics``, ``\\input``,
  ``\\begin``/``\\end`` and their column specs, lengths, colours, URLs…);
* any command's optional ``[…]`` argument (``\\\\[2pt]``, ``[width=0.9\\linewidth]``);
* lengths (``3pt``, ``0.5\\linewidth``);
* in math, sub- and superscripts (``x_1``, ``10^{-3}``'s exponent, ``W^{2d}``) — indices
  and powers of formulas, not results.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MASKED = ("res", "cmp", "ref", "eqref", "autoref", "cref", "Cref", "pageref", "nameref", "label", "cite", "citep",
          "citet", "citealp", "citealt", "citeauthor", "citeyear", "citeyearpar", "Citet", "Citep", "nocite", "input",
          "include", "includegraphics", "url", "bibliography", "bibliographystyle", "usepackage", "documentclass",
          "vspace", "hspace", "vskip", "hskip", "setlength", "addtolength", "begin", "end", "hypersetup",
          "graphicspath", "newcommand", "renewcommand", "providecommand", "color", "definecolor", "setcounter",
          "addtocounter", "resizebox", "scalebox", "rule", "multicolumn", "multirow", "cline", "cmidrule", "arraystretch")
FIRST_ONLY = ("href", "textcolor", "colorbox")  # mask the first argument only: the rest is prose
COMMAND = re.compile(r"\\([A-Za-z]+)\*?")
LENGTH = re.compile(r"(?<![\w.])\d*\.?\d+\s*(?:pt|em|ex|cm|mm|in|bp|pc|sp|mu)(?![A-Za-z])"
                    r"|(?<![\w.])\d*\.?\d+\s*\\(?:line|text|column|paper)width|\\hsize")
COMMENT = re.compile(r"(?<!\\)%.*")
MATH = re.compile(r"(?<!\\)\$\$.*?(?<!\\)\$\$|(?<!\\)\$.*?(?<!\\)\$|\\\(.*?\\\)|\\\[.*?\\\]"
                  r"|\\begin\{(equation|align|gather|multline)\*?\}.*?\\end\{\1\*?\}", re.S)
SCRIPT = re.compile(r"[_^](?:\{[^{}]*\}|-?\d+|\\?[A-Za-z])")
REF = re.compile(r"\\(res|cmp)\s*\{([^{}]*)\}")


def line_of(text: str, offset: int) -> int:
    """The 1-based line of ``offset`` in ``text``."""
    return text.count("\n", 0, offset) + 1


def _blank(text: str) -> str:
    return re.sub(r"[^\n]", " ", text)


def strip_comments(text: str) -> str:
    """``text`` with every comment blanked (same length, same lines)."""
    return COMMENT.sub(lambda m: _blank(m.group(0)), text)


def _group_end(text: str, start: int, open_: str, close: str) -> int:
    """The index after the group opened at ``start`` (nesting counted), or ``start`` if none opens there."""
    if start >= len(text) or text[start] != open_:
        return start
    depth = 0
    for i in range(start, len(text)):
        if text[i] == "\\":
            continue
        if text[i] == open_ and (i == 0 or text[i - 1] != "\\"):
            depth += 1
        elif text[i] == close and text[i - 1] != "\\":
            depth -= 1
            if depth == 0:
                return i + 1
    return len(text)


def _skip_space(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t":
        i += 1
    return i


def mask_non_prose(text: str) -> str:
    """``text`` (comments already stripped) with everything that is not prose blanked (module docstring)."""
    chars = list(text)

    def blank(a: int, b: int) -> None:
        for k in range(a, b):
            if chars[k] != "\n":
                chars[k] = " "

    for m in COMMAND.finditer(text):
        name, i = m.group(1), m.end()
        groups = 0
        while True:
            j = _skip_space(text, i)
            if j < len(text) and text[j] == "[":
                end = _group_end(text, j, "[", "]")
                blank(j, end)
                i = end
                continue
            if name in MASKED + FIRST_ONLY and j < len(text) and text[j] == "{" and not (name in FIRST_ONLY and groups):
                end = _group_end(text, j, "{", "}")
                blank(j, end)
                i, groups = end, groups + 1
                continue
            break
    masked = "".join(chars)
    masked = LENGTH.sub(lambda m: _blank(m.group(0)), masked)
    return MATH.sub(lambda m: SCRIPT.sub(lambda s: _blank(s.group(0)), m.group(0)), masked)


def math_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every math span in ``text``."""
    return [(m.start(), m.end()) for m in MATH.finditer(text)]


@dataclass(frozen=True)
class Ref:
    """A ``\\res{key}`` or ``\\cmp{key}`` in a file: which, the key, the line and its offset."""

    command: str
    key: str
    line: int
    start: int


def refs(text: str) -> list[Ref]:
    """Every ``\\res``/``\\cmp`` reference in ``text`` (comments already stripped)."""
    return [Ref(m.group(1), m.group(2).strip(), line_of(text, m.start()), m.start()) for m in REF.finditer(text)]


ABBREVIATIONS = re.compile(r"\b(e\.g|i\.e|et al|cf|vs|Fig|Figs|Eq|Eqs|Sec|Tab|approx|resp|etc)\.", re.I)
BOUNDARY = re.compile(r"(?<=[.!?])[\s~]+(?=[A-Z\\(``])|\n\s*\n")


def sentences(text: str) -> list[tuple[int, int, str]]:
    """(line, start offset, text) of each sentence of ``text`` (comments stripped; paragraphs end sentences)."""
    protected = ABBREVIATIONS.sub(lambda m: m.group(0).replace(".", "\0"), text)
    out, start = [], 0
    for m in BOUNDARY.finditer(protected):
        out.append((start, m.start()))
        start = m.end()
    out.append((start, len(text)))
    result = []
    for a, b in out:
        chunk = text[a:b]
        stripped = chunk.lstrip()
        if stripped.strip():
            offset = a + len(chunk) - len(stripped)
            result.append((line_of(text, offset), offset, stripped.rstrip()))
    return result
