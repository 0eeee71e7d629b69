"""What the paper is written from: the results of the runs, and the build that checks it.

:class:`PaperRecord` is made once per session start, before any model call
(:meth:`PaperRecord.prepare`): it checks the inputs, collects the results of the source
from the run store (``build.collect_results``: one ``\\res`` macro per quantity, one
``\\cmp`` per comparison, tables, figures, setup facts, each traced to run ids and
manifest hashes) and writes ``results.tex``, ``provenance.json``, ``tables/``,
``figures/``, ``floats.tex``, ``setup.tex`` and ``appendix.tex`` into the paper folder.
An unusable source (no such runs, runs not finished, a manifest without its runs) or a
template that cannot hold the results is a :class:`PaperInputError`.

It then answers the process: the writer's context (:mod:`.context`), the cheap checks of
one section (:meth:`check_section`), a whole build (:meth:`build`: the sections, then
``build.build_paper``, which renders ``paper.tex`` from the template, checks every number
in the sources and in the PDF's text, the claims and the citations, and compiles), and
the PDF's text for the reviewer.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from caramba.processes.paper_write import build
from caramba.processes.paper_write.build.template import render
from caramba.processes.paper_write.config import PaperConfig, PaperInputError
from caramba.processes.paper_write.context import differing_types, run_targets, writer_context
from caramba.processes.paper_write.sections import write_sections


@dataclass
class PaperRecord:
    """The results behind one paper and the paths of its inputs (see the module docstring)."""

    workspace: Path
    folder: Path
    results: Any  # build.ResultSet
    bib: Path | None
    template: Path | None
    notes: str = ""
    code: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def prepare(cls, config: PaperConfig, workspace: Path, folder: Path) -> "PaperRecord":
        """Check the inputs, collect the results and write the generated files (no model call)."""
        config.check_files()
        for tool in ("pdflatex", "bibtex", "pdftotext"):
            if shutil.which(tool) is None:
                raise PaperInputError(f"{tool} is not installed", "install TeX Live (pdflatex, bibtex) and poppler-utils "
                                                                 "(pdftotext); docs/agents.md lists the packages")
        template = Path(config.template) if config.template else None
        if template is not None:
            try:
                render(template, config.bib is not None)
            except ValueError as error:
                raise PaperInputError(f"--template {template}: {error}", "start from build/templates/paper.tex") from None
        source: Any = list(config.source) if config.source_kind == "runs" else Path(config.source[0])
        try:
            results = build.collect_results(source, workspace)
        except build.SourceError as error:
            raise PaperInputError(f"cannot write a paper from {', '.join(config.source)}: {error}",
                                  "give a finished comparison (caramba run M.yml), its runs, or a development session"
                                  ) from None
        folder.mkdir(parents=True, exist_ok=True)
        build.write_results_tex(results, folder)
        notes = Path(config.notes).read_text(encoding="utf-8") if config.notes else ""
        return cls(workspace, folder, results, Path(config.bib) if config.bib else None, template, notes)

    # ── what the turns are given ────────────────────────────────────────────────────────
    def context(self) -> str:
        """The writer's facts (macros, comparisons, tables, figures, manifests, code, notes, citation keys)."""
        return writer_context(self.results, self.workspace, self.notes, self.bib, self.code)

    def differing_classes(self) -> list[str]:
        """The manifest ``type`` names of the blocks where an arm differs from the baseline."""
        arms = list(run_targets(self.results, self.workspace).values())
        found: list[str] = []
        for other in arms[1:]:
            found += [t for t in differing_types(arms[0], other) if t not in found]
        return found

    def comparison_keys(self) -> list[str]:
        """The keys of the ``\\cmp`` comparisons (places a review weakness may point at)."""
        return list(self.results.comparisons)

    def pdf_text(self, folder: Path) -> str:
        """The text of ``paper.pdf`` as a reader gets it (pdftotext), or a note when there is none."""
        pdf = folder / "paper.pdf"
        if not pdf.is_file():
            return "(no PDF was built)"
        done = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, timeout=60)
        return done.stdout if done.returncode == 0 else f"(pdftotext failed: {done.stderr.strip()})"

    # ── checks and builds ───────────────────────────────────────────────────────────────
    def check_section(self, path: Path) -> list[dict[str, Any]]:
        """The cheap checks of one section file: numbers, claims, citations (issues as dicts)."""
        base = self.folder
        issues = [*build.check_provenance([path], self.results, base=base),
                  *build.check_claims([path], self.results, base=base), *build.check_citations([path], self.bib, base=base)]
        return [asdict(issue) for issue in issues]

    def build(self, folder: Path, sections: dict[str, str]) -> dict[str, Any]:
        """Write the sections, then build the paper: ``{ok, issues, pages}`` (the previous PDF kept on failure)."""
        write_sections(folder, sections)
        try:
            report = build.build_paper(folder, self.results, bib=self.bib, template=self.template)
        except build.PaperBuildError as error:
            return {"ok": False, "issues": [asdict(issue) for issue in error.issues]}
        return {"ok": True, "issues": [], "pages": getattr(report, "pages", None)}
