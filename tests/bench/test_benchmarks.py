"""The seed's benchmark blocks run as written (sizes scaled) on the CPU, and write every artifact.

Also: a failing benchmark is reported and leaves the other artifacts in place; the PNGs
are valid and carry exactly the numbers of the CSVs; the LaTeX tables compile.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest
import torch

from caramba.engine.bench import run_benchmarks
from caramba.engine.bench.artifacts.plots import read_png_data
from caramba.engine.bench.artifacts.tables import read_csv
from caramba.engine.compiler.compile import compile_manifest
from caramba.engine.data.tokens import TokenDataset
from caramba.engine.model.build import build_system
from tests.bench.conftest import manifest_text

# manifest-reference.md § Benchmarks, with only the sizes scaled down
SEED_BLOCKS = """
- id: perplexity
  config:
    type: perplexity
    dataset: tokens.npy
    block_size: 64
    batch_size: 1
    num_batches: 4
  models: [teacher, student]
  repeats: 1

- id: latency
  config:
    type: latency
    prompt_lengths: [8, 32]
    generation_lengths: [4, 8]
    batch_sizes: [1]
    warmup_runs: 1
    timed_runs: 2
    use_cache: true
    cache_kind: fp16
  models: [teacher, student]

- id: memory
  config:
    type: memory
    sequence_lengths: [64, 128]
    batch_sizes: [1]
    measure_peak: true
    measure_kvcache: true
    quantization_modes: [fp16, q8, q4]
  models: [teacher, student]
"""
FAILING = """
- id: broken_perplexity
  config: {type: perplexity, dataset: missing.npy, block_size: 16}
"""


def run(tmp_path: Path, token_file: Path, blocks: str) -> tuple[list[str], Path]:
    text = manifest_text("standard", teacher=True, benchmarks="\n" + textwrap.indent(textwrap.dedent(blocks), "      "))
    (tmp_path / "m.yml").write_text(text)
    compiled = compile_manifest(str(tmp_path / "m.yml"))
    target = compiled.manifest.experiments()[0]
    dataset = TokenDataset(path=token_file.name, block_size=32, seed=0, val_frac=0.25, base_dir=tmp_path)
    torch.manual_seed(0)
    models = {name: build_system(target.system.ref, target.system.config) for name in ("student", "teacher")}
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "metrics.jsonl").write_text(
        "".join(json.dumps({"kind": "train", "step": s, "loss": 4.0 / s}) + "\n" for s in range(1, 6)))
    failed = run_benchmarks(target, models, dataset, tmp_path / "run", "tiny-train-0123abcd", compiled.digest, "cpu")
    return failed, tmp_path / "run" / "artifacts"


@pytest.fixture(scope="module")
def seed_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], Path]:
    import numpy as np

    folder = tmp_path_factory.mktemp("seed")
    np.save(folder / "tokens.npy", ((np.arange(4000) * 7 % 97)).astype(np.uint16))
    torch.set_num_threads(1)
    return run(folder, folder / "tokens.npy", SEED_BLOCKS + FAILING)


def test_seed_blocks_write_every_artifact(seed_run: tuple[list[str], Path]) -> None:
    failed, out = seed_run
    names = {p.name for p in out.iterdir()}
    assert {"perplexity.csv", "latency.csv", "memory.csv", "report.json", "report.md", "perplexity.tex", "latency.tex",
            "memory.tex", "latency_vs_context.png", "tokens_per_s_vs_context.png", "memory_scaling.png",
            "perplexity_comparison.png", "training_curves.png"} <= names
    latency = read_csv(out / "latency.csv")
    assert len(latency) == 2 * 2 * 2 and {r["model"] for r in latency} == {"teacher", "student"}
    assert all(r["prefill_ms"] > 0 and r["tokens_per_s"] > 0 and r["decode_ms_per_token_p90"] > 0 for r in latency)
    perplexity = read_csv(out / "perplexity.csv")
    assert all(r["tokens"] == 4 * 64 and r["ppl"] > 1 for r in perplexity)
    memory = read_csv(out / "memory.csv")
    assert len(memory) == 2 * 2 * 3 and all(r["peak_method"] == "rss_sampled_1ms" for r in memory)
    assert all(r["kv_vs_fp16"] < 1 / 1.85 for r in memory if r["kind"] == "q8")
    assert all(r["tensor_bytes"] == r["weight_bytes"] + r["kv_bytes"] for r in memory), "capacity = length: no spare"


def test_a_failing_benchmark_is_reported_and_the_others_are_kept(seed_run: tuple[list[str], Path]) -> None:
    failed, out = seed_run
    assert failed == ["broken_perplexity"]
    report = json.loads((out / "report.json").read_text())
    assert report["status"] == "failed" and report["failures"][0]["benchmark"] == "broken_perplexity"
    assert "missing.npy" in report["failures"][0]["error"]
    assert "broken_perplexity" in (out / "report.md").read_text()
    assert {r["benchmark"] for r in read_csv(out / "perplexity.csv")} == {"perplexity"}


def test_every_file_records_the_run_and_manifest(seed_run: tuple[list[str], Path]) -> None:
    _, out = seed_run
    report = json.loads((out / "report.json").read_text())
    run_id, digest = report["run_id"], report["manifest_digest"]
    assert run_id == "tiny-train-0123abcd" and len(digest) == 64
    for path in out.iterdir():
        if path.suffix == ".png":
            assert read_png_data(path)["runs"] == [{"run_id": run_id, "manifest_digest": digest}]
        elif path.suffix == ".pdf":
            assert f"run {run_id}, manifest sha256 {digest}".encode() in path.read_bytes(), path.name
        else:
            text = path.read_text()
            assert run_id in text and digest in text, path.name
    assert all(r["run_id"] == run_id and r["manifest_digest"] == digest for r in read_csv(out / "memory.csv"))


def test_pngs_plot_the_data_of_the_csvs(seed_run: tuple[list[str], Path]) -> None:
    _, out = seed_run
    latency = read_csv(out / "latency.csv")
    plotted = read_png_data(out / "latency_vs_context.png")["data"]["decode_ms_per_token"]
    for label, s in plotted.items():
        model, cache = label.split(" · ")[:2]
        gen = int(label.split("gen_len=")[1])
        rows = sorted((r for r in latency if r["model"] == model and r["cache"] == cache and r["gen_len"] == gen),
                      key=lambda r: r["prompt_len"])
        assert s["x"] == [r["prompt_len"] for r in rows] and s["y"] == pytest.approx([r["decode_ms_per_token"] for r in rows])
    bars = read_png_data(out / "perplexity_comparison.png")["data"]["ppl"]
    assert bars["y"] == pytest.approx([r["ppl"] for r in read_csv(out / "perplexity.csv")])
    kv = read_png_data(out / "memory_scaling.png")["data"]["kv_mib"]
    assert sum(len(s["y"]) for s in kv.values()) == len(read_csv(out / "memory.csv"))
    curves = read_png_data(out / "training_curves.png")["data"]["curves"]
    assert curves["train/loss"]["y"] == pytest.approx([4.0 / s for s in range(1, 6)])


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed (CI installs texlive-latex-recommended)")
def test_latex_tables_compile(seed_run: tuple[list[str], Path], tmp_path: Path) -> None:
    _, out = seed_run
    inputs = "\n".join(rf"\input{{{(out / n).as_posix()}}}" for n in ("perplexity.tex", "latency.tex", "memory.tex"))
    (tmp_path / "doc.tex").write_text(
        "\\documentclass{article}\n\\usepackage{booktabs}\n\\begin{document}\n" + inputs + "\n\\end{document}\n")
    result = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:]
    assert (tmp_path / "doc.pdf").stat().st_size > 1000
