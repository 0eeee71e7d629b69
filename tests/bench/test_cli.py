"""``caramba generate`` and ``caramba compare`` on real runs trained by ``caramba run`` (CPU, one step)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from caramba.cli.app import app
from tests.bench.conftest import manifest_text

BENCH = """
- id: perplexity
  config: {type: perplexity, block_size: 32, num_batches: 1}
- id: memory
  config: {type: memory, sequence_lengths: [32], quantization_modes: [fp16, q8], cache: {block_size: 16}}
"""


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("ws")
    np.save(folder / "tokens.npy", (np.arange(3000) * 7 % 97).astype(np.uint16))
    for name, attention in (("base", "gqa"), ("dba", "decoupled")):
        text = manifest_text(attention, benchmarks="\n" + textwrap.indent(BENCH, "      "))
        (folder / f"{name}.yml").write_text(text.replace("name: tiny\n", f"name: {name}\n"))
    return folder


def invoke(workspace: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> str:
    monkeypatch.chdir(workspace)
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_generate_and_compare(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    invoke(workspace, monkeypatch, "run", "base.yml")
    invoke(workspace, monkeypatch, "run", "dba.yml")
    ids = sorted(p.name for p in (workspace / ".caramba" / "runs").iterdir())
    assert len(ids) == 2
    out = json.loads(invoke(workspace, monkeypatch, "generate", ids[0], "--ids", "1,2,3", "-n", "5", "--cache", "q8",
                            "--block-size", "16", "--format", "json"))
    assert len(out["ids"]) == 5 and out["cache"] == "q8/b16" and out["step"] == 1
    speed = out["throughput"]
    assert speed["path"].startswith("static, eager steps") and speed["tokens_per_s"] > 0
    assert 0 < speed["bandwidth_fraction"] < 1 and speed["bytes_per_token"] > 0
    greedy = [json.loads(invoke(workspace, monkeypatch, "generate", ids[1], "--ids", "5,6", "-n", "6", "--cache", cache,
                                "--format", "json"))["ids"] for cache in ("fp32", "none")]
    assert greedy[0] == greedy[1], "greedy decode with a cache equals recomputation"
    invoke(workspace, monkeypatch, "compare", *ids, "--out", "cmp")
    report = json.loads((workspace / "cmp" / "report.json").read_text())
    assert [p["run_id"] for p in report["provenance"]] == ids and report["status"] == "succeeded"
    memory = (workspace / "cmp" / "memory.csv").read_text()
    assert all(run_id in memory for run_id in ids)
    assert (workspace / "cmp" / "memory.tex").is_file() and (workspace / "cmp" / "arms.csv").is_file()
    assert all((workspace / "cmp" / f"{stem}.{ext}").is_file() for stem in ("memory_vs_context", "final_metrics")
               for ext in ("png", "pdf"))


def test_generate_reports_unknown_runs(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(workspace)
    result = CliRunner().invoke(app, ["generate", "nope", "--ids", "1"])
    assert result.exit_code == 2 and "no run 'nope'" in result.output
