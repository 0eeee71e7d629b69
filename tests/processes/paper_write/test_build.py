"""The paper build on a real comparison: values equal the run store, a good paper compiles and
traces, and every kind of bad source fails with file:line while the previous good PDF stays.

The runs are real (2 arms × 3 seeds trained on the CPU, ``build_fixtures``); pdflatex,
bibtex and pdftotext are the real programs. The reference statistics are written here by
hand (mean, sample sd, Student t with the tabulated t₀.₉₇₅,₂) and, for Welch's interval,
taken from SciPy's own ``ttest_ind`` — not from caramba's ``stats`` module.
"""

from __future__ import annotations

import csv
import json
import math
import re
import shutil
from pathlib import Path

import pytest
from scipy import stats as scipy_stats

from caramba.processes.paper_write.build import (
    PaperBuildError, ResultSet, Source, SourceError, build_paper, check_pdf_text, collect_results, compile_pdf)
from caramba.processes.paper_write.build.literals import forms
from caramba.processes.paper_write.build.tools import pdf_text
from tests.processes.paper_write.build_fixtures import (  # noqa: F401  (fixtures)
    SECTIONS, Built, build_workspace, good_paper, paper_copy, results, write_sections)

T_975_2 = 4.302652729911275  # Student t, 97.5% quantile, 2 degrees of freedom (3 seeds), from tables


def _defined(folder: Path) -> dict[str, str]:
    """The macros results.tex defines: ``res@key``/``cmp@key`` → their math text."""
    text = (folder / "results.tex").read_text(encoding="utf-8")
    return {m.group(1): m.group(2) for m in re.finditer(r"\\csname caramba@(\w+@[a-z0-9-]+)\\endcsname\{\\ensuremath\{(.*)\}\}$",
                                                         text, re.M)}


def _runs(workspace: Path, target: str) -> list[Path]:
    return sorted((workspace / ".caramba" / "runs").glob(f"{target}-train-s*"))


def _ppl(run: Path) -> float:
    with (run / "artifacts" / "perplexity.csv").open() as handle:
        return float(next(csv.DictReader(handle))["ppl"])


def _val_loss(run: Path) -> float:
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines() if line.strip()]
    return [r["val_loss"] for r in rows if r.get("kind") == "eval"][-1]


def _mean_sd(values: list[float]) -> tuple[float, float]:
    mean = sum(values) / len(values)
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


def _close(shown: str, exact: float) -> None:
    """``shown`` is ``exact`` rounded to the decimals it shows."""
    decimals = len(shown.split(".")[1]) if "." in shown else 0
    assert abs(float(shown) - exact) <= 0.5 * 10 ** -decimals + 1e-12, (shown, exact)


def test_results_tex_values_equal_the_run_store(good_paper: Built, build_workspace: Path) -> None:
    macros = _defined(good_paper.folder)
    for arm in ("mha", "gqa"):
        for key, read in ((f"{arm}-ppl", _ppl), (f"{arm}-val-loss", _val_loss)):
            values = [read(r) for r in _runs(build_workspace, arm)]
            assert len(values) == 3
            mean, sd = _mean_sd(values)
            mean_text, sd_text = macros[f"res@{key}"].split(r" \pm ")
            _close(mean_text, mean)
            _close(sd_text, sd)
            low, high = re.findall(r"-?[\d.]+", macros[f"res@{key}-ci"])
            half = T_975_2 * sd / math.sqrt(3)
            _close(low, mean - half)
            _close(high, mean + half)
    a, b = ([_ppl(r) for r in _runs(build_workspace, t)] for t in ("mha", "gqa"))
    welch = scipy_stats.ttest_ind(b, a, equal_var=False)
    ci = welch.confidence_interval(0.95)
    diff, low, high = re.findall(r"-?[\d.]+", macros["cmp@gqa-vs-mha-ppl"])
    _close(diff, _mean_sd(b)[0] - _mean_sd(a)[0])
    _close(low, ci.low)
    _close(high, ci.high)
    _close(macros["res@gqa-vs-mha-ppl-p"], welch.pvalue)


def test_provenance_maps_each_macro_table_and_figure_to_runs(good_paper: Built, build_workspace: Path) -> None:
    provenance = json.loads((good_paper.folder / "provenance.json").read_text())
    statuses = {p.parent.name: json.loads(p.read_text()) for p in (build_workspace / ".caramba" / "runs").glob("*/status.json")}
    macros = _defined(good_paper.folder)
    assert {m.replace("res@", "\\res{").replace("cmp@", "\\cmp{") + "}" for m in macros} == set(provenance["macros"])
    gqa = provenance["macros"]["\\res{gqa-ppl}"]
    assert sorted(gqa["run_ids"]) == sorted(p.name for p in _runs(build_workspace, "gqa"))
    assert gqa["numbers"] == forms(gqa["text"]) and gqa["text"] == macros["res@gqa-ppl"].replace(r"\pm", "±")
    for entry in provenance["macros"].values():
        assert entry["run_ids"] and all(r in statuses for r in entry["run_ids"])
        assert entry["manifest_hashes"] == sorted({statuses[r]["manifest_digest"] for r in entry["run_ids"]})
    cmp = provenance["macros"]["\\cmp{gqa-vs-mha-ppl}"]
    assert sorted(cmp["run_ids"]) == sorted(statuses) and cmp["ci_includes_zero"] in (True, False)
    for kind in ("tables", "figures"):
        assert provenance[kind]
        for name, entry in provenance[kind].items():
            assert (good_paper.folder / name).is_file() and sorted(entry["run_ids"]) == sorted(statuses)
    assert provenance["tables"]["tables/comparison.tex"]["label"] == "tab:compare-mha"


def _structural(text: str, start: int) -> bool:
    """Written here, independently: a number after Table/Figure/Section, a heading or page number on its own line."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", start)
    line = text[line_start:line_end if line_end >= 0 else len(text)].strip()
    before = text[line_start:start]
    return bool(re.search(r"(Table|Figure|Section)\s*$", before)) or re.fullmatch(r"\d+(\.\d+)?", line) is not None


def test_good_build_compiles_and_every_pdf_number_traces(good_paper: Built) -> None:
    assert good_paper.report.pdf == good_paper.folder / "paper.pdf" and good_paper.report.pages >= 3
    assert good_paper.pdf_bytes.startswith(b"%PDF")
    text = pdf_text(good_paper.report.pdf)
    provenance = json.loads((good_paper.folder / "provenance.json").read_text())
    assert provenance["macros"]["\\res{gqa-ppl}"]["text"] in text
    assert provenance["macros"]["\\cmp{gqa-vs-mha-ppl}"]["text"].replace("-", "−") in text
    traced = set(provenance["constants"])
    for group in ("macros", "tables", "generated"):
        for entry in provenance[group].values():
            traced.update(entry["numbers"])
    for name in provenance["figures"]:
        traced.update(forms(pdf_text(good_paper.folder / name)))
    references = text.index("References")
    appendix = text.index("Reproducibility", references)
    bib = set(forms((good_paper.folder / "refs.bib").read_text()))
    number = r"(?<![\w.])(?<![A-Za-z]-)\d+(?:,\d{3})*(?:\.\d+)?(?![\w]|[.,]\d)"  # not in names, hashes, versions
    untraced = [m.group(0) for m in re.finditer(number, text)
                if m.group(0).replace(",", "") not in traced and not _structural(text, m.start())
                and not (references <= m.start() < appendix and m.group(0) in bib)
                and not (m.group(0) in ("2017", "2023") and "et al" in text[max(0, m.start() - 40):m.start()])]
    assert untraced == [], untraced[:20]
    assert check_pdf_text(good_paper.report.pdf, good_paper.folder / "provenance.json") == []


def _fails(paper: Path, results: ResultSet, bib: Path | None, good: bytes) -> PaperBuildError:
    with pytest.raises(PaperBuildError) as caught:
        build_paper(paper, results, bib=bib)
    assert (paper / "paper.pdf").read_bytes() == good, "a failed build replaced the good PDF"
    return caught.value


def test_a_typed_number_fails_naming_line_and_recorded_value(paper_copy: Path, good_paper: Built,
                                                            results: ResultSet, build_workspace: Path) -> None:
    typed = results.quantities["gqa-ppl"].values[0]
    write_sections(paper_copy, {"results": SECTIONS["results"] + f"\nGQA reaches a perplexity of {typed:.1f} here."})
    error = _fails(paper_copy, results, build_workspace / "refs.bib", good_paper.pdf_bytes)
    line = len(SECTIONS["results"].splitlines()) + 1
    assert [(i.file, i.line, i.kind) for i in error.issues] == [("sections/results.tex", line, "number")]
    assert f"sections/results.tex:{line}: typed number '{typed:.1f}'" in str(error)
    assert f"use \\res{{gqa-ppl}} ({results.quantities['gqa-ppl'].text})" in str(error)


def test_significantly_better_on_an_overlapping_ci_is_flagged(paper_copy: Path, good_paper: Built,
                                                              results: ResultSet, build_workspace: Path) -> None:
    claim = results.comparisons["gqa-vs-mha-ppl"]
    assert claim.ci_includes_zero, "the fixture's perplexity difference is expected to be within noise"
    write_sections(paper_copy, {"results": "GQA is significantly better than MHA (\\cmp{gqa-vs-mha-ppl})."})
    error = _fails(paper_copy, results, build_workspace / "refs.bib", good_paper.pdf_bytes)
    (issue,) = error.issues
    assert (issue.file, issue.line, issue.kind) == ("sections/results.tex", 1, "claim")
    assert "includes 0: say 'no significant difference' or remove the claim" in issue.message
    assert f"[{claim.ci_low:.3g}, {claim.ci_high:.3g}]" in issue.message


def test_an_unknown_citation_key_fails_with_the_closest_key(paper_copy: Path, good_paper: Built,
                                                            results: ResultSet, build_workspace: Path) -> None:
    write_sections(paper_copy, {"introduction": SECTIONS["introduction"] + "\nSee also \\citet{ainslie2032gqa}."})
    error = _fails(paper_copy, results, build_workspace / "refs.bib", good_paper.pdf_bytes)
    (issue,) = error.issues
    assert (issue.file, issue.line, issue.kind) == ("sections/introduction.tex", 4, "citation")
    assert "'ainslie2032gqa'" in issue.message and "ainslie2023gqa" in issue.hint


def test_latex_errors_and_untraced_pdf_numbers_keep_the_good_pdf(paper_copy: Path, good_paper: Built,
                                                                 results: ResultSet, build_workspace: Path) -> None:
    # an unknown key that reaches LaTeX (the checks bypassed): pdflatex stops at its line
    (paper_copy / "sections" / "results.tex").write_text("Fine.\nThe value is \\res{gqa-pll}.\n")
    with pytest.raises(PaperBuildError) as caught:
        compile_pdf(paper_copy)
    assert (paper_copy / "paper.pdf").read_bytes() == good_paper.pdf_bytes
    assert any(i.file.endswith("sections/results.tex") and i.line == 2 and "unknown result key" in i.message
               for i in caught.value.issues), caught.value
    # a reference to no label would print ??: the build fails naming the line that refers to it
    write_sections(paper_copy, {"results": SECTIONS["results"] + "\nSee Table~\\ref{tab:nope}."})
    error = _fails(paper_copy, results, build_workspace / "refs.bib", good_paper.pdf_bytes)
    line = len(SECTIONS["results"].splitlines()) + 1
    assert [(i.file, i.line, i.kind) for i in error.issues] == [("sections/results.tex", line, "latex")]
    assert "undefined reference 'tab:nope'" in error.issues[0].message
    # a number no source types — LaTeX's date — is caught in the PDF's text
    write_sections(paper_copy, {"results": SECTIONS["results"] + "\nWritten \\today."})
    error = _fails(paper_copy, results, build_workspace / "refs.bib", good_paper.pdf_bytes)
    assert error.issues and {i.kind for i in error.issues} == {"pdf-number"}
    from datetime import date

    assert any(f"'{date.today().year}'" in i.message for i in error.issues)


def test_runs_and_session_sources_give_the_same_results(results: ResultSet, build_workspace: Path, tmp_path: Path) -> None:
    from caramba.processes.development.tree import Goal, Node, Tree

    ids = {t: [p.name for p in _runs(build_workspace, t)] for t in ("mha", "gqa")}
    by_runs = collect_results(Source.from_runs(ids["mha"] + ids["gqa"]), build_workspace, tmp_path / "runs")
    assert by_runs.quantities["gqa-ppl"].latex == results.quantities["gqa-ppl"].latex
    assert by_runs.comparisons["gqa-vs-mha-ppl"].text == results.comparisons["gqa-vs-mha-ppl"].text
    tree = Tree(goal=Goal(question="Does GQA cost perplexity?", metric="perplexity.ppl", direction="min"))
    tree.add(Node(manifest="nodes/n0.yml", status="running", run_ids=ids["mha"]))
    tree.add(Node(parent="n0", iteration=1, manifest="nodes/n1.yml", hypothesis="sharing KV heads keeps perplexity"))
    tree.update("n1", status="piloting")
    tree.update("n1", status="running", run_ids=ids["gqa"])
    tree.update("n1", status="done", metrics={"perplexity.ppl": {"values": [1.0], "run_ids": ids["gqa"][:1], "n": 1, "mean": 1.0}})
    tree.save(tmp_path / "session" / "tree.json")
    session = collect_results(Source.from_session(tmp_path / "session"), build_workspace, tmp_path / "s")
    assert session.baseline == "n0" and session.question == "Does GQA cost perplexity?"
    assert session.quantities["n1-ppl"].latex == results.quantities["gqa-ppl"].latex
    assert session.comparisons["n1-vs-n0-ppl"].text == results.comparisons["gqa-vs-mha-ppl"].text
    assert "sharing KV heads keeps perplexity" in session.arm_notes["n1"]
    with pytest.raises(SourceError, match="no tree.json"):
        collect_results(Source.from_session(tmp_path), build_workspace)
    shutil.rmtree(tmp_path / "session")


def test_setup_and_appendix_state_the_record(good_paper: Built, build_workspace: Path) -> None:
    setup = (good_paper.folder / "setup.tex").read_text()
    environment = json.loads(next((build_workspace / ".caramba" / "runs").glob("gqa-*/environment.json")).read_text())
    assert f"PyTorch \\texttt{{{environment['torch']}}}" in setup and f"Python \\texttt{{{environment['python']}}}" in setup
    assert "n\\_heads: 2 $\\to$ 4" in setup and "mode: standard $\\to$ gqa" in setup  # cmp.yml: the arms' one difference
    assert "\\res{n-seeds}" in setup and "\\res{mha-params} (mha)" in setup  # the arms differ in size
    appendix = (good_paper.folder / "appendix.tex").read_text()
    statuses = [json.loads(p.read_text()) for p in (build_workspace / ".caramba" / "runs").glob("*/status.json")]
    assert all(f"\\texttt{{{s['id'].replace('_', '\\_')}}}" in appendix for s in statuses)
    assert "caramba run cmp.yml\ncaramba compare cmp.yml" in appendix
    digest = statuses[0]["manifest_digest"]
    assert (good_paper.folder / "manifests" / f"cmp-{digest[:12]}.yml").read_bytes() == (build_workspace / "cmp.yml").read_bytes()
    assert digest in appendix
