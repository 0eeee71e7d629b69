"""``check_pdf_text``: every number in the PDF's text traces to ``provenance.json`` — after LaTeX, nothing slips.

``pdftotext`` gives the PDF's text, page by page. A number
(:mod:`~caramba.processes.paper_write.build.literals`) in it is accepted when it is:

* **traced**: one of the numbers ``provenance.json`` records — a macro's text, a table's
  cells and caption, a generated file (setup, appendix, the manifests it lists), a
  figure's caption, or a constant (the 95% confidence level);
* **inside a figure**: the figure PDFs are pdftotext'ed too, and their numbers (axis
  ticks, ``n=3`` in legends) are accepted — a figure is traced as a whole, to the runs
  ``provenance.json`` gives it, and its plotted data are in the PNG beside it;
* **structure LaTeX numbered**: a page number alone on its line; a number right after
  *Figure, Table, Section, Appendix, Equation, Eq.* or *page*; a section number opening a
  heading line, as the ``.aux`` table of contents lists it (``1``, ``2.1``); an equation
  number ``(N)`` ending a line when the ``.aux`` knows label N;
* **the bibliography's**: from the *References* heading to the appendix (or the end), a
  number that also appears in ``refs.bib`` (years, volumes, pages); in the text, an
  author-year citation's year — the ``year`` of a ``refs.bib`` entry with one of that
  entry's author surnames in the 80 characters before it (``Ainslie et al., 2023``).

Anything else is an issue naming the page, the number and the line it stands in. The
check works on sets of numbers: a typed number that happens to equal a traced one is
not caught here — that is the prose check's job, on the ``.tex``, before compiling.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from caramba.processes.paper_write.build.issues import BuildIssue
from caramba.processes.paper_write.build.literals import forms, numbers_in
from caramba.processes.paper_write.build.tools import pdf_text

STRUCTURE = re.compile(r"(?:Figure|Fig\.|Table|Section|Sec\.|Appendix|Equation|Eq\.|Algorithm|page|pages|p\.)\s*$")
TOC = re.compile(r"\\numberline \{([0-9.]+)\}")
APPENDIX = re.compile(r"\\numberline \{([A-Z])\}([^}]*)\}")
LABEL = re.compile(r"\\newlabel\{[^}]*\}\{\{([0-9.]+)\}")


def _traced(provenance: dict[str, Any], base: Path) -> set[str]:
    numbers: set[str] = set(provenance.get("constants", {}))
    for entry in provenance.get("macros", {}).values():
        numbers.update(entry.get("numbers", []))
    for entry in provenance.get("tables", {}).values():
        numbers.update(entry.get("numbers", []))
    for entry in provenance.get("generated", {}).values():
        numbers.update(entry.get("numbers", []))
    for name, entry in provenance.get("figures", {}).items():
        numbers.update(entry.get("numbers_in_caption", []))
        figure = base / name
        if figure.is_file():
            numbers.update(forms(pdf_text(figure)))
    return numbers


def cite_years(bib_text: str) -> dict[str, set[str]]:
    """year → the author surnames of the ``refs.bib`` entries of that year."""
    years: dict[str, set[str]] = {}
    for entry in re.split(r"\n\s*@", bib_text):
        year = re.search(r"\byear\s*=\s*[{\"]?\s*(\d{4})", entry, re.I)
        authors = re.search(r"\bauthor\s*=\s*[{\"](.*?)[}\"]\s*,?\s*\n", entry, re.I | re.S)
        if year and authors:
            names = {a.split(",")[0].strip().split()[-1] for a in re.split(r"\s+and\s+", authors.group(1)) if a.strip()}
            years.setdefault(year.group(1), set()).update(re.sub(r"[{}\\'`\"^~]", "", n) for n in names if n)
    return years


def _structure_ok(line: str, start: int, end: int, form: str, page_count: int, toc: set[str], labels: set[str]) -> bool:
    stripped = line.strip()
    if stripped == form and form.isdigit() and 1 <= int(form) <= page_count:
        return True
    if STRUCTURE.search(line[:start]):
        return True
    if line[:start].strip() == "" and form in toc:
        return True
    return line[start - 1:start] == "(" and line[end:end + 1] == ")" and line[end + 1:].strip() == "" and form in labels


def check_pdf_text(pdf: Path, provenance: dict[str, Any] | Path, aux: Path | None = None,
                   bib: Path | None = None) -> list[BuildIssue]:
    """Issues for every number in ``pdf``'s text that traces to nothing (module docstring).

    ``provenance`` is ``provenance.json`` (a dict or its path; figure paths are relative
    to its folder, else the PDF's). ``aux`` defaults to ``build/paper.aux`` next to the
    PDF, ``bib`` to ``refs.bib`` next to it.
    """
    pdf = Path(pdf)
    base = pdf.parent
    if isinstance(provenance, Path):
        base = provenance.parent
        provenance = json.loads(provenance.read_text(encoding="utf-8"))
    aux = aux if aux is not None else base / "build" / "paper.aux"
    aux_text = aux.read_text(errors="replace") if aux.is_file() else ""
    toc, labels = set(TOC.findall(aux_text)), set(LABEL.findall(aux_text))
    appendix = {title.strip() for _, title in APPENDIX.findall(aux_text)}
    appendix |= {f"{letter} {title.strip()}" for letter, title in APPENDIX.findall(aux_text)}
    bib = bib if bib is not None else base / "refs.bib"
    bib_text = bib.read_text(errors="replace") if bib.is_file() else ""
    bib_numbers, years = set(forms(bib_text)), cite_years(bib_text)
    traced = _traced(provenance, base)
    pages = pdf_text(pdf).split("\f")
    issues = []
    in_references = False
    for number, page in enumerate(pages, start=1):
        previous = ""
        for line in page.splitlines():
            if line.strip() == "References":
                in_references = True
            elif in_references and line.strip() in appendix:  # the appendix's first heading ends the bibliography
                in_references = False
            for lit in numbers_in(line):
                if lit.form in traced or (in_references and lit.form in bib_numbers):
                    continue
                before = (previous + " " + line[:lit.start])[-80:]
                if any(name in before for name in years.get(lit.form, ())):
                    continue
                if _structure_ok(line, lit.start, lit.end, lit.form, len(pages), toc, labels):
                    continue
                issues.append(BuildIssue(pdf.name, number, "pdf-number",
                                         f"page {number}: the number {lit.text!r} in {line.strip()[:80]!r} traces to "
                                         "nothing in provenance.json",
                                         "numbers reach the PDF only through \\res/\\cmp, the generated tables, figures "
                                         "and setup; find where the text comes from and use the macro"))
            previous = line
    return issues
