"""``check_provenance``: no number in the writer's prose that does not come from ``results.tex``.

Every numeric literal (:mod:`~caramba.processes.paper_write.build.literals`) left in the
prose after the non-prose parts are masked (:mod:`~caramba.processes.paper_write.build.texscan`)
is an issue with its file, line, the literal and the nearest recorded value as the fix
(``use \\res{gqa-ppl} (72.08 ± 0.79)``). Section, figure, table and equation numbers
are LaTeX's: write ``\\ref{…}`` (a number typed after *Table, Figure, Section…* gets that
hint instead); years belong to citations (``\\citet``), not prose.

**Allow-list** (the only literals prose may type):

* the confidence level written as ``95\\%`` — every interval of the paper is a 95% interval
  (``caramba.engine.bench.compare.stats.LEVEL``);
* in math, the constants 0, 1 and 2 and every sub-/superscript (``x_1``, ``\\sqrt{2}``,
  ``d^{-1/2}``): the shape of a formula, not a result;
* ordinals (``1st``, ``2nd``) and numbers inside names (``GPT-2``, ``fp16``, ``L2``);
* what the caller passes in ``allow`` (each a literal's form, e.g. ``{"2017"}``).

An unknown ``\\res{…}`` or ``\\cmp{…}`` key is reported here too (kind ``key``), with the
closest keys, before LaTeX would stop on it. So is any command that could smuggle text
past these checks (kind ``command``, :data:`FORBIDDEN`): defining or redefining macros
(``\\renewcommand{\\res}…``), reading or writing files, changing catcodes, ``\\csname``.
"""

from __future__ import annotations

import re
from pathlib import Path

from caramba.engine.bench.compare.stats import LEVEL
from caramba.processes.paper_write.build.issues import BuildIssue
from caramba.processes.paper_write.build.literals import numbers_in
from caramba.processes.paper_write.build.model import ResultSet, unknown_key
from caramba.processes.paper_write.build.texscan import line_of, mask_non_prose, math_spans, refs, strip_comments

CI_LEVEL = f"{LEVEL * 100:g}"
MATH_CONSTANTS = ("0", "1", "2")
FORBIDDEN = re.compile(r"\\(def|edef|gdef|xdef|let|newcommand|renewcommand|providecommand|DeclareRobustCommand|"
                       r"input|include|InputIfFileExists|openin|openout|read|write|immediate|catcode|csname|"
                       r"expandafter|makeatletter|usepackage|special|pdfliteral|directlua)(?![A-Za-z])")
PERCENT = re.compile(r"(?<=\d)%|(?<=\})%(?=[ \t]*[^\s%])")  # "75%", "\res{x}% smaller"; not a line-end "}%"
STRUCTURE = re.compile(r"\b(Table|Tab\.|Figure|Fig\.|Section|Sec\.|Appendix|Equation|Eq\.)[~\s]*$")


def display(path: Path, base: Path | None) -> str:
    """``path`` relative to ``base`` when it is inside it (how issues name files)."""
    if base is not None:
        try:
            return str(Path(path).resolve().relative_to(Path(base).resolve()))
        except ValueError:
            pass
    return str(path)


def nearest(results: ResultSet, value: float) -> str:
    """The fix hint for a typed ``value``: the recorded quantity or comparison closest to it."""
    best: tuple[float, str] | None = None
    candidates = [(rf"\res{{{q.key}}}", q.text, q.values) for q in results.quantities.values()]
    candidates += [(rf"\cmp{{{c.key}}}", c.text, c.values) for c in results.comparisons.values()]
    for macro, text, values in candidates:
        for v in values:
            distance = abs(abs(v) - abs(value)) / max(abs(value), 1e-12)
            if best is None or distance < best[0]:
                best = (distance, f"use {macro} ({text})")
    if best is None:
        return "numbers in prose must come from results.tex; this result set has none — write it in words or remove it"
    return best[1] + " — the nearest recorded value; numbers in prose come only from results.tex"


def _allowed(form: str, masked: str, end: int, in_math: bool, allow: set[str]) -> bool:
    if form in allow:
        return True
    if form == CI_LEVEL and masked[end:end + 2] == "\\%":
        return True
    return in_math and form in MATH_CONSTANTS


def check_keys(name: str, text: str, results: ResultSet) -> list[BuildIssue]:
    """An issue for every ``\\res``/``\\cmp`` key ``results`` does not define."""
    issues = []
    for ref in refs(text):
        known = results.quantities if ref.command == "res" else results.comparisons
        if ref.key not in known:
            other = results.comparisons if ref.command == "res" else results.quantities
            hint = (f"{ref.key!r} is a {'comparison: use \\cmp' if ref.command == 'res' else 'quantity: use \\res'}"
                    f"{{{ref.key}}}" if ref.key in other else unknown_key(ref.key, list(known)).split("; ", 1)[-1])
            issues.append(BuildIssue(name, ref.line, "key", f"\\{ref.command}{{{ref.key}}}: results.tex has no such "
                                     f"{'quantity' if ref.command == 'res' else 'comparison'}", hint))
    return issues


def check_provenance(tex_files: list[Path], results: ResultSet, allow: set[str] | None = None,
                     base: Path | None = None) -> list[BuildIssue]:
    """Issues for every typed number and unknown key in ``tex_files`` (module docstring)."""
    allow = set(allow or ())
    issues: list[BuildIssue] = []
    for path in tex_files:
        name = display(path, base)
        raw = Path(path).read_text(encoding="utf-8")
        issues += [BuildIssue(name, line_of(raw, m.start()), "latex", "an unescaped % after a number starts a LaTeX "
                              "comment: the rest of the line would vanish from the PDF", "write \\% for a percent sign")
                   for m in PERCENT.finditer(raw)]
        text = strip_comments(raw)
        issues += check_keys(name, text, results)
        issues += [BuildIssue(name, line_of(text, m.start()), "command", f"\\{m.group(1)} is not allowed in a section",
                              "sections hold prose, \\res/\\cmp/\\ref/\\cite and formatting; definitions, file "
                              "access and package loading belong to the template") for m in FORBIDDEN.finditer(text)]
        masked = mask_non_prose(text)
        spans = math_spans(text)
        for lit in numbers_in(masked):
            in_math = any(a <= lit.start < b for a, b in spans)
            if _allowed(lit.form, masked, lit.end, in_math, allow):
                continue
            structural = STRUCTURE.search(masked[max(0, lit.start - 14):lit.start])
            hint = (f"let LaTeX number it: {structural.group(1)}~\\ref{{…}} with the float's or section's label "
                    "(tab:compare-…, fig:…, sec:…)" if structural else nearest(results, lit.value))
            issues.append(BuildIssue(name, line_of(text, lit.start), "number",
                                     f"typed number {lit.text!r} is not traced to a run", hint))
    return issues
