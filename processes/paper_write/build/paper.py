"""``build_paper``: the one entry of a paper build — generate, check, compile, check again, keep the good PDF.

1. write the generated files (``write_results_tex``: results.tex, setup.tex, floats.tex,
   appendix.tex, tables/, figures/, manifests/, provenance.json), ``refs.bib`` (a copy of
   ``bib``) and ``paper.tex`` from the template;
2. check the writer's ``sections/*.tex`` — every section of :data:`~.template.SECTIONS`
   present, then numbers (:func:`check_provenance`), claims (:func:`check_claims`) and
   citations (:func:`check_citations`); any issue raises :class:`PaperBuildError` with all
   of them, **before** LaTeX runs;
3. compile in a scratch copy (:mod:`.compile`); a LaTeX/bibtex failure raises;
4. check the scratch PDF's text against ``provenance.json`` (:func:`check_pdf_text`); an
   untraced number raises;
5. only then replace ``paper.pdf`` (atomically). On every failure the previous good
   ``paper.pdf`` is left as it was.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from caramba.engine.store.atomic import write_bytes, write_text
from caramba.processes.paper_write.build.citations import check_citations
from caramba.processes.paper_write.build.claims import check_claims
from caramba.processes.paper_write.build.compile import compile_in, install
from caramba.processes.paper_write.build.issues import BuildIssue, PaperBuildError
from caramba.processes.paper_write.build.model import ResultSet
from caramba.processes.paper_write.build.pdf_text import check_pdf_text
from caramba.processes.paper_write.build.provenance_check import check_provenance
from caramba.processes.paper_write.build.results_tex import write_results_tex
from caramba.processes.paper_write.build.template import SECTIONS, default_template, render


@dataclass
class BuildReport:
    """A successful build: the PDF, its pages, ``provenance.json``; ``issues`` is empty (failures raise)."""

    pdf: Path
    pages: int
    provenance: Path
    issues: list[BuildIssue] = field(default_factory=list)


def writer_files(paper_dir: Path) -> list[Path]:
    """The model-written files: every ``sections/*.tex`` (the generated files live beside ``sections/``)."""
    return sorted((paper_dir / "sections").glob("*.tex"))


def _missing_sections(paper_dir: Path) -> list[BuildIssue]:
    return [BuildIssue(f"sections/{name}.tex", 0, "input", f"the {name} section is missing",
                       f"the writer writes sections/{name}.tex (its body, without the \\section line)")
            for name in SECTIONS if not (paper_dir / "sections" / f"{name}.tex").is_file()]


def check_sources(paper_dir: Path, results: ResultSet, bib: Path | None, allow: set[str] | None = None) -> list[BuildIssue]:
    """Every issue of the writer's files (step 2 of the module docstring), without compiling."""
    files = writer_files(paper_dir)
    return (_missing_sections(paper_dir) + check_provenance(files, results, allow, base=paper_dir)
            + check_claims(files, results, base=paper_dir) + check_citations(files, bib, base=paper_dir))


def build_paper(paper_dir: Path, results: ResultSet, bib: Path | None = None, template: Path | None = None,
                allow: set[str] | None = None) -> BuildReport:
    """Build ``paper_dir/paper.pdf`` from the writer's sections and ``results`` (module docstring)."""
    paper_dir = Path(paper_dir)
    paper_dir.mkdir(parents=True, exist_ok=True)
    write_results_tex(results, paper_dir)
    if bib is not None:
        if not Path(bib).is_file():
            raise PaperBuildError([BuildIssue(str(bib), 0, "input", "the bibliography file does not exist",
                                              "pass an existing .bib file")])
        write_bytes(paper_dir / "refs.bib", Path(bib).read_bytes())
    try:
        write_text(paper_dir / "paper.tex", render(template or default_template(), bib is not None))
    except ValueError as exc:
        raise PaperBuildError([BuildIssue(str(template), 0, "input", str(exc), "")]) from None
    issues = check_sources(paper_dir, results, paper_dir / "refs.bib" if bib is not None else None, allow)
    if issues:
        raise PaperBuildError(issues, "the paper's sources fail the checks; paper.pdf was not replaced")
    provenance = paper_dir / "provenance.json"
    with tempfile.TemporaryDirectory(prefix="caramba-paper-") as tmp:
        compiled = compile_in(paper_dir, Path(tmp) / "paper")
        (Path(tmp) / "paper" / "build").mkdir(exist_ok=True)
        write_text(Path(tmp) / "paper" / "build" / "paper.aux", compiled.aux)
        pdf_issues = check_pdf_text(compiled.pdf, json.loads(provenance.read_text(encoding="utf-8")))
        if pdf_issues:
            raise PaperBuildError(pdf_issues, "the PDF shows numbers that trace to no run; paper.pdf was not replaced")
        pdf = install(compiled, paper_dir)
    return BuildReport(pdf, compiled.pages, provenance)
