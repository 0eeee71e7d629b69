"""The checks on the writer's LaTeX, one rule at a time, on the results of a real comparison.

What the prose may type (the allow-list of ``provenance_check``), what counts as a
comparative claim and when the record supports it (``claims``), how citations are
matched (``citations``), and the error a missing program gives (``tools``). No LaTeX
runs here; ``test_build.py`` compiles.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from caramba.processes.paper_write.build import (
    MissingTool, ResultSet, check_citations, check_claims, check_provenance, compile_pdf)
from tests.processes.paper_write.build_fixtures import build_workspace, results  # noqa: F401  (fixtures)


def _tex(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sections" / "results.tex"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _typed(tmp_path: Path, results: ResultSet, text: str, allow: set[str] | None = None) -> list[str]:
    return [i.message.split("'")[1] for i in check_provenance([_tex(tmp_path, text)], results, allow) if i.kind == "number"]


def test_prose_may_not_type_numbers_but_structure_and_formulas_may(tmp_path: Path, results: ResultSet) -> None:
    allowed = ("% a comment may say 17.2\n"
               "Intervals are 95\\% intervals; GPT-2 and fp16 are names; the 2nd arm; Table~\\ref{tab:setup}.\n"
               "\\begin{figure}[t]\\includegraphics[width=0.5\\linewidth]{figures/curves.pdf}\\vspace{3pt}\\end{figure}\n"
               "$x_1 + x^{2} = \\frac{1}{2}$, \\citep[p.~3]{ainslie2023gqa}, \\res{gqa-ppl}, \\cmp{gqa-vs-mha-ppl}.\n")
    assert _typed(tmp_path, results, allowed) == []
    assert _typed(tmp_path, results, "It is 3x faster, uses 16GB, 1,024 tokens, $7$ heads and 12 steps (95 runs).\n") \
        == ["3x", "16GB", "1,024", "7", "12", "95"]
    assert _typed(tmp_path, results, "Published in 2017.\n", allow={"2017"}) == []


def test_a_typed_number_names_the_nearest_recorded_quantity(tmp_path: Path, results: ResultSet) -> None:
    steps = results.quantities["steps"]
    (issue,) = check_provenance([_tex(tmp_path, f"Intro.\n\nWe trained for {int(steps.exact)} steps.\n")], results)
    assert (issue.file.endswith("results.tex"), issue.line, issue.kind) == (True, 3, "number")
    (section,) = check_provenance([_tex(tmp_path, "As Section 3 shows.\n")], results)
    assert section.message == "typed number '3' is not traced to a run" and "Section~\\ref{" in section.hint
    assert re.match(rf"use \\res\{{([a-z]+-)?steps\}} \({steps.text}\) — the nearest recorded value", issue.hint), issue.hint


def test_unknown_keys_are_reported_with_the_closest(tmp_path: Path, results: ResultSet) -> None:
    issues = check_provenance([_tex(tmp_path, "A \\res{gqa-pll} and \\res{gqa-vs-mha-ppl-x} and \\cmp{gqa-ppl}.\n")], results)
    assert [i.kind for i in issues] == ["key", "key", "key"]
    assert "gqa-ppl" in issues[0].hint
    assert "use \\res{gqa-ppl}" in issues[2].hint


def test_sections_may_not_define_macros_or_touch_files(tmp_path: Path, results: ResultSet) -> None:
    text = "Fine \\textbf{bold}.\n\\renewcommand{\\res}[1]{x}\n\\input{/etc/hostname} and \\immediate\\write18{ls}\n"
    issues = [i for i in check_provenance([_tex(tmp_path, text)], results) if i.kind == "command"]
    assert [(i.line, i.message.split()[0]) for i in issues] == [(2, "\\renewcommand"), (3, "\\input"),
                                                              (3, "\\immediate"), (3, "\\write")]
    (percent,) = check_provenance([_tex(tmp_path, "Fine.\nIt shrinks by \\res{gqa-vs-mha-ppl-pct}% (\\cmp{gqa-vs-mha-ppl}).\n")],
                                  results)
    assert (percent.line, percent.kind, percent.hint) == (2, "latex", "write \\% for a percent sign")


def _claims(tmp_path: Path, results: ResultSet, text: str) -> list[str]:
    return [i.message for i in check_claims([_tex(tmp_path, text)], results)]


def test_claims_must_cite_a_comparison_and_agree_with_its_ci(tmp_path: Path, results: ResultSet) -> None:
    kv = "gqa-vs-mha-kv-bytes-fp16-b-1-l-1024"
    assert not results.comparisons[kv].ci_includes_zero and results.comparisons["gqa-vs-mha-ppl"].ci_includes_zero
    assert _claims(tmp_path, results, f"GQA reduces the KV cache (\\cmp{{{kv}}}).\n") == []
    assert _claims(tmp_path, results, "The perplexities are not significantly different (\\cmp{gqa-vs-mha-ppl}).\n") == []
    assert _claims(tmp_path, results, "Its cache is smaller, but perplexity is similar (\\cmp{gqa-vs-mha-ppl}); "
                                      f"GQA's cache is smaller than MHA's (\\cmp{{{kv}}}).\n") == []
    assert _claims(tmp_path, results, "Grouped-query attention reduces perplexity \\citep{ainslie2023gqa}.\n") == []
    assert _claims(tmp_path, results, "Larger models would tell more; we used \\res{n-seeds} seeds.\n") == []
    assert _claims(tmp_path, results, "\\label{sec:better-than-before}We describe it (Table~\\ref{tab:higher-than}).\n") == []
    assert _claims(tmp_path, results, f"GQA shrinks the KV cache by \\res{{{kv}-pct}}\\%.\n") == []
    pct = results.quantities[f"{kv}-pct"]
    assert pct.unit == "%" and pct.exact == pytest.approx(100 * (results.quantities[kv.replace("-vs-", "-over-")].exact - 1))
    (missing,) = _claims(tmp_path, results, "GQA outperforms MHA on perplexity.\n")
    assert "comparative claim ('outperforms') without a comparison" in missing
    (adjective,) = _claims(tmp_path, results, "GQA has lower perplexity (\\res{gqa-ppl} vs \\res{mha-ppl}).\n")
    assert "('lower') without a comparison" in adjective
    (overlap,) = _claims(tmp_path, results, "GQA improves perplexity (\\res{gqa-vs-mha-ppl}).\n")
    assert "includes 0" in overlap
    (denied,) = _claims(tmp_path, results, f"The KV caches show no significant difference (\\cmp{{{kv}}}).\n")
    assert "excludes 0: the runs show a difference" in denied


def test_citations_are_checked_against_the_bib(tmp_path: Path, build_workspace: Path) -> None:
    tex = _tex(tmp_path, "As shown \\citep[see][]{vaswani2017attention, ainslie2023gqa}.\n% \\cite{commented}\n"
                         "And \\citet{vaswani2017atention}.\n")
    (issue,) = check_citations([tex], build_workspace / "refs.bib")
    assert (issue.line, issue.kind) == (3, "citation") and "vaswani2017attention" in issue.hint
    no_bib = check_citations([tex], None)
    assert len(no_bib) == 3 and "no bibliography was given" in no_bib[0].hint


def test_a_missing_program_names_its_debian_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(MissingTool, match="texlive-latex-base"):
        compile_pdf(tmp_path)
    from caramba.processes.paper_write.build.tools import require

    with pytest.raises(MissingTool, match="poppler-utils"):
        require("pdftotext")
