"""The deterministic paper build: results from the run store, checked prose, a PDF that traces to its runs.

Interface changes against the brief: none (additions only: ``Source.of``, ``collect_results(…, out=)``,
``build_paper(…, allow=)``, ``check_*(…, base=)`` to name files relative to the paper folder,
``check_pdf_text(…, aux=, bib=)``, ``check_sources``, ``MissingTool``, ``SourceError``, ``SECTIONS``).

For consumers (the writer's prompt should say so): sections hold prose with ``\\res``, ``\\cmp``,
``\\ref``, ``\\cite…`` and formatting; definitions, ``\\input``, file access and packages are
refused (kind ``command``); ``%`` after a number must be ``\\%``; the template writes the
``\\section`` lines. Every issue is ``file:line: what — how to fix``.

Use::

    from caramba.processes.paper_write.build import Source, build_paper, collect_results

    results = collect_results(Source.from_manifest("cmp.yml"), workspace)   # or from_runs([...]) / from_session(dir)
    # the writer writes paper/sections/{title,abstract,introduction,method,results,limitations}.tex,
    # using \\res{gqa-ppl}, \\cmp{gqa-vs-mha-ppl}, \\ref{tab:compare-mha}, \\ref{fig:curves}, \\cite{key}
    report = build_paper(Path("paper"), results, bib=Path("refs.bib"))    # PaperBuildError(issues) if anything is off

Modules, one responsibility each:

* ``source`` / ``session`` — what the results come from (manifest, run ids, development session);
* ``collect`` — :func:`collect_results`: the engine's comparison analysis, tables, figures;
  ``facts`` — setup facts of each run; ``quantities`` — every key (its docstring lists them);
  ``keys`` — slugs; ``formatting`` — rounding; ``model`` — the data classes;
* ``results_tex`` — :func:`write_results_tex` (results.tex, floats.tex, provenance.json),
  ``setup_tex``, ``appendix_tex`` — the generated sections;
* ``literals`` — what a number is; ``texscan`` — reading LaTeX prose;
* ``provenance_check`` — :func:`check_provenance` (its docstring is the allow-list);
  ``claims`` — :func:`check_claims`; ``citations`` — :func:`check_citations`;
  ``pdf_text`` — :func:`check_pdf_text` (its docstring says how figures and structure numbers count);
* ``template`` — :func:`default_template` and the sections the writer writes;
  ``compile`` — :func:`compile_pdf`; ``tools`` — pdflatex/bibtex/pdftotext with their Debian packages;
* ``paper`` — :func:`build_paper`, :class:`BuildReport`; ``issues`` — :class:`BuildIssue`, :class:`PaperBuildError`.
"""

from caramba.processes.paper_write.build.citations import check_citations
from caramba.processes.paper_write.build.claims import check_claims
from caramba.processes.paper_write.build.collect import collect_results
from caramba.processes.paper_write.build.compile import compile_pdf
from caramba.processes.paper_write.build.issues import BuildIssue, MissingTool, PaperBuildError
from caramba.processes.paper_write.build.model import ComparisonClaim, FigureFile, Quantity, ResultSet, RunFacts, TableFile
from caramba.processes.paper_write.build.paper import BuildReport, build_paper, check_sources
from caramba.processes.paper_write.build.pdf_text import check_pdf_text
from caramba.processes.paper_write.build.provenance_check import check_provenance
from caramba.processes.paper_write.build.results_tex import write_results_tex
from caramba.processes.paper_write.build.source import Source, SourceError
from caramba.processes.paper_write.build.template import SECTIONS, default_template

__all__ = ["SECTIONS", "BuildIssue", "BuildReport", "ComparisonClaim", "FigureFile", "MissingTool", "PaperBuildError",
           "Quantity", "ResultSet", "RunFacts", "Source", "SourceError", "TableFile", "build_paper", "check_citations",
           "check_claims", "check_pdf_text", "check_provenance", "check_sources", "collect_results", "compile_pdf",
           "default_template", "write_results_tex"]
