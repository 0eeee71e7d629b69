"""Fixtures of the paper-build tests: one real 2-arm × 3-seed CPU comparison and one good paper built from it.

``build_workspace`` is a workspace where ``caramba run cmp.yml`` trained mha and gqa,
three seeds each, on Python's own source bytes (``tests/bench/comparisons.py``); it is
made once per test session (the test modules share it through the session's base
folder). ``good_paper`` is a paper folder whose sections use only macros, references and
a known citation, built once with ``build_paper``; the negative tests copy it and check
that a failed build leaves its ``paper.pdf`` byte for byte.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from caramba.processes.paper_write.build import BuildReport, ResultSet, Source, build_paper, collect_results

BIB = """@article{ainslie2023gqa,
  title={GQA: Training Generalized Multi-Query Transformer Models from Multi-Head Checkpoints},
  author={Ainslie, Joshua and Lee-Thorp, James and de Jong, Michiel and Zemlyanskiy, Yury and Sanghai, Sumit},
  journal={arXiv preprint arXiv:2305.13245},
  year={2023}
}

@inproceedings{vaswani2017attention,
  title={Attention is All you Need},
  author={Vaswani, Ashish and Shazeer, Noam and Parmar, Niki and Uszkoreit, Jakob and Jones, Llion},
  booktitle={Advances in Neural Information Processing Systems},
  pages={5998--6008},
  year={2017}
}
"""

SECTIONS = {
    "title": "Grouped-query attention on a byte-level model",
    "abstract": ("We compare multi-head attention (MHA) with grouped-query attention (GQA) on a tiny byte-level model.\n"
                 "GQA reaches a held-out perplexity of \\res{gqa-ppl} against \\res{mha-ppl} for MHA; the difference,\n"
                 "\\cmp{gqa-vs-mha-ppl}, is not significant, while its KV cache is \\res{gqa-over-mha-kv-bytes-fp16-b-1-l-1024}\n"
                 "times the size of MHA's."),
    "introduction": ("Attention \\citep{vaswani2017attention} keeps keys and values for every head; grouped-query\n"
                     "attention shares them across query heads \\citep{ainslie2023gqa}. We ask what that costs at a\n"
                     "very small scale, with \\res{n-seeds} seeds per arm."),
    "method": ("Both arms are the same one-layer transformer; only the attention differs (Table~\\ref{tab:setup}).\n"
               "Attention is $\\mathrm{softmax}(QK^\\top/\\sqrt{d})V$, reported with 95\\% intervals."),
    "results": ("Table~\\ref{tab:compare-mha} and Figure~\\ref{fig:final-metrics} show the final metrics.\n"
                "The perplexity of GQA is not significantly different from MHA's (\\cmp{gqa-vs-mha-ppl}).\n"
                "GQA's KV cache at the longest context is smaller than MHA's (\\cmp{gqa-vs-mha-kv-bytes-fp16-b-1-l-1024}).\n"
                "Figure~\\ref{fig:curves} shows the losses during training."),
    "limitations": ("With \\res{n-seeds} seeds per arm and models this small, the results say little about larger\n"
                    "models; Section~\\ref{sec:setup} states the scope of the evidence."),
}


def write_sections(folder: Path, sections: dict[str, str] | None = None) -> Path:
    """Write the writer's section files into ``folder/sections`` (the good ones unless given)."""
    (folder / "sections").mkdir(parents=True, exist_ok=True)
    for name, text in (sections or SECTIONS).items():
        (folder / "sections" / f"{name}.tex").write_text(text + "\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def build_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The trained 2-arm × 3-seed workspace (module docstring), with ``refs.bib``."""
    from tests.bench.comparisons import make_comparison

    root = tmp_path_factory.getbasetemp() / "paper_build_ws"
    if not (root / ".caramba" / "compare" / "cmp" / "comparison.json").is_file():
        torch.set_num_threads(1)
        shutil.rmtree(root, ignore_errors=True)
        make_comparison(root, ["mha", "gqa"], [1, 2, 3])
        (root / "refs.bib").write_text(BIB, encoding="utf-8")
    return root


@pytest.fixture(scope="session")
def results(build_workspace: Path) -> ResultSet:
    """The result set of ``cmp.yml``."""
    return collect_results(Source.from_manifest(build_workspace / "cmp.yml"), build_workspace)


@dataclass
class Built:
    """The good paper: its folder, the build's report and the PDF's bytes."""

    folder: Path
    report: BuildReport
    pdf_bytes: bytes


@pytest.fixture(scope="session")
def good_paper(build_workspace: Path, results: ResultSet) -> Built:
    """A paper written with macros only, built once (module docstring)."""
    folder = write_sections(build_workspace / "paper")
    report = build_paper(folder, results, bib=build_workspace / "refs.bib")
    return Built(folder, report, report.pdf.read_bytes())


@pytest.fixture
def paper_copy(good_paper: Built, tmp_path: Path) -> Path:
    """A copy of the good paper's folder (with its good paper.pdf) to break."""
    return Path(shutil.copytree(good_paper.folder, tmp_path / "paper"))
