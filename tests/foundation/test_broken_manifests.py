"""Broken manifests: each gives exit code 2, the exact field path and line, no traceback.

Every case mutates the complete-example preset (or replaces it) and states the field
path the error must name and the line it must point at.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from caramba.cli.app import app

BASE = (Path(__file__).resolve().parents[2] / "presets" / "complete_example.yml").read_text()
RUNS = "targets[0].runs[0]"
MODEL = "targets[0].system.config.model"
ATTN = f"{MODEL}.topology.layers[0].layers[0].layers[1]"
MLP = f"{MODEL}.topology.layers[0].layers[1].layers[1]"


def line_of(text: str, needle: str) -> int:
    """1-based line of the first occurrence of ``needle`` in ``text``."""
    return text[: text.index(needle)].count("\n") + 1


def sub(old: str, new: str, count: int = 1) -> str:
    assert old in BASE, old
    return BASE.replace(old, new, count)


# (case id, manifest text, --set overrides, expected path, text whose line the error points at or None)
CASES: list[tuple[str, str, list[str], str, str | None]] = [
    ("unknown top-level key", BASE + "extra_key: 1\n", [], "extra_key", "extra_key: 1"),
    ("typo top-level", sub("entrypoints:", "entrypoint:"), [], "entrypoint", "entrypoint:"),
    ("typo in train", sub("batch_size: ${batch_size}", "batchsize: ${batch_size}"), [], f"{RUNS}.train.batchsize", "batchsize:"),
    ("typo in defaults", sub("val_frac: 0.1", "val_fraction: 0.1"), [], "defaults.data.val_fraction", "val_fraction"),
    ("typo in layer field", sub("d_ff: ${d_ff}", "dff: ${d_ff}"), [], f"{MLP}.dff", "dff:"),
    ("removed key compile_model", sub("dtype: float32", "dtype: float32\n          compile_model: true"), [], f"{RUNS}.train.compile_model", "compile_model"),
    ("unknown layer type", sub("type: SwiGLULayer", "type: SwiGluLayer"), [], f"{MLP}.type", "SwiGluLayer"),
    ("unknown topology type", sub("type: ResidualTopology", "type: ResidualTopo"), [], f"{MODEL}.topology.layers[0].layers[0].type", "ResidualTopo"),
    ("unknown data ref", sub("ref: dataset.tokens", "ref: dataset.token"), [], "targets[0].data.ref", "dataset.token\n"),
    ("unknown system ref", sub("ref: system.language_model", "ref: system.lm"), [], "targets[0].system.ref", "system.lm"),
    ("unknown objective", sub("objective: objective.next_token_ce", "objective: objective.next_token"), [], "targets[0].objective", "objective.next_token\n"),
    ("unknown trainer", sub("trainer: trainer.standard", "trainer: trainer.fancy"), [], "targets[0].trainer", "trainer.fancy"),
    ("unknown task", sub("task: task.language_modeling", "task: task.lm"), [], "targets[0].task", "task.lm"),
    ("unknown target type", sub("  - type: experiment", "  - type: experimnt"), [], "targets[0].type", "experimnt"),
    ("unknown embedder type", sub("type: token", "type: tokens"), [], f"{MODEL}.embedder.type", "type: tokens"),
    ("bad verify type", sub("type: fidelity", "type: fidelty"), [], f"{RUNS}.verify.type", "fidelty"),
    ("bad benchmark type", sub("type: perplexity", "type: perplexty"), [], "targets[0].benchmarks[0].config.type", "perplexty"),
    ("wrong type lr", sub("lr: 0.0003", "lr: fast"), [], f"{RUNS}.train.lr", "lr: fast"),
    ("negative lr", sub("lr: 0.0003", "lr: -0.1"), [], f"{RUNS}.train.lr", "lr: -0.1"),
    ("zero steps", sub("steps: 1000", "steps: 0"), [], f"{RUNS}.steps", "steps: 0"),
    ("zero batch", sub("batch_size: ${batch_size}", "batch_size: 0"), [], f"{RUNS}.train.batch_size", "batch_size: 0"),
    ("repeat zero", sub("repeat: ${n_layers}", "repeat: 0"), [], f"{MODEL}.topology.layers[0].repeat", "repeat: 0"),
    ("unknown dtype", sub("dtype: float32", "dtype: float64"), [], f"{RUNS}.train.dtype", "float64"),
    ("unknown device", sub("device: cpu", "device: tpu"), [], f"{RUNS}.train.device", "device: tpu"),
    ("wrong version", sub("version: 2", "version: 1"), [], "version", "version: 1"),
    ("missing steps", sub("        steps: 1000\n", ""), [], f"{RUNS}.steps", "- id: train"),
    ("missing targets", BASE[: BASE.index("targets:")], [], "targets", None),
    ("missing data path", sub("        path: data.npy\n", ""), [], "targets[0].data.config.path", "config:\n        block_size"),
    ("n_heads does not divide", sub("n_heads: 4", "n_heads: 5"), [], f"{ATTN}.n_heads", "n_heads: ${n_heads}"),
    ("gqa heads do not divide", sub("mode: standard", "mode: gqa\n                        n_kv_heads: 3"), [], f"{ATTN}.n_kv_heads", "n_kv_heads: 3"),
    ("standard with kv heads", sub("mode: standard", "mode: standard\n                        n_kv_heads: 2"), [], f"{ATTN}.n_kv_heads", "n_kv_heads: 2"),
    ("odd rope head dim", sub("d_model: 64", "d_model: 60").replace("${d_model}", "60"), [], f"{ATTN}.n_heads", "n_heads: ${n_heads}"),
    ("d_model mismatch", sub("                      - type: SwiGLULayer\n                        d_model: ${d_model}",
                             "                      - type: SwiGLULayer\n                        d_model: 32"), [], f"{MLP}.d_model", "d_model: 32"),
    ("head d_in mismatch", sub("d_in: ${d_model}", "d_in: 32"), [], f"{MODEL}.topology.layers[2].d_in", "d_in: 32"),
    ("vocab mismatch", sub("d_out: ${vocab_size}", "d_out: 100"), [], f"{MODEL}.topology", None),
    ("undefined variable", sub("d_ff: ${d_ff}", "d_ff: ${dff}"), [], f"{MLP}.d_ff", "${dff}"),
    ("cyclic variables", sub("  d_ff: 256", "  d_ff: ${d_hidden}\n  d_hidden: ${d_ff}"), [], "vars.d_", None),
    ("bad entrypoint", sub("default: full_pipeline", "default: full"), [], "entrypoints.default", "default: full"),
    ("duplicate run ids", sub("    runs:\n", "    runs:\n      - id: train\n        steps: 5\n        train: {batch_size: 1, block_size: 8, lr: 0.1}\n"), [], "targets[0].runs[1].id", None),
    ("duplicate YAML key", sub("name: complete_example", "name: complete_example\nname: again"), [], "name", "name: again"),
    ("block exceeds data", sub("block_size: ${block_size}\n          lr", "block_size: 128\n          lr"), [], f"{RUNS}.train.block_size", "block_size: 128"),
    ("seed list repeats", sub("seed: 42", "seed: [1, 1]"), [], f"{RUNS}.seed", "seed: [1, 1]"),
    ("bad --set path", BASE, ["targets[5].name=x"], "", None),
    ("bad --set syntax", BASE, ["targets[0.name=x"], "", None),
    ("--set into scalar", BASE, ["version.x=1"], "", None),
    ("--set wrong type", BASE, ["targets[0].runs[0].train.lr=abc"], f"{RUNS}.train.lr", None),
    ("YAML syntax error", "version: 2\ntargets: [\n", [], "", None),
    ("tabs", "version: 2\n\tname: x\n", [], "", None),
    ("empty", "", [], "", None),
    ("comments only", "# nothing\n", [], "", None),
    ("top-level list", "- version: 2\n", [], "", None),
    ("scalar document", "42\n", [], "", None),
    ("two documents", "version: 2\n---\nversion: 2\n", [], "", None),
    ("merge key", "base: &b {a: 1}\nother:\n  <<: *b\n", [], "other", None),
]
BINARY = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))
HUGE = "version: 2\nnotes: '" + "x" * (3 * 1024 * 1024) + "'\n"


def _validate(tmp_path: Path, content: str | bytes, sets: list[str]) -> tuple[int, dict, str]:
    path = tmp_path / "m.yml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    args = ["validate", str(path), "--format", "json"] + [a for s in sets for a in ("--set", s)]
    result = CliRunner().invoke(app, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result.exit_code, json.loads(result.stdout), str(path)


def test_at_least_forty_cases() -> None:
    assert len(CASES) + 2 >= 40


@pytest.mark.parametrize(("name", "text", "sets", "path", "needle"), CASES, ids=[c[0] for c in CASES])
def test_broken_manifest(tmp_path: Path, name: str, text: str, sets: list[str], path: str, needle: str | None) -> None:
    code, report, file = _validate(tmp_path, text, sets)
    assert code == 2, report
    assert report["ok"] is False and report["errors"], report
    for error in report["errors"]:
        assert set(error) >= {"path", "line", "column", "message", "hint"}
        assert error["message"] and error["hint"]
    paths = [e["path"] for e in report["errors"]]
    assert any(p.startswith(path) for p in paths), f"{name}: expected path {path!r}, got {paths}"
    if needle is not None:
        error = next(e for e in report["errors"] if e["path"].startswith(path))
        assert error["line"] == line_of(text, needle), f"{name}: {error} (expected line of {needle!r})"
        assert error["file"] == file


@pytest.mark.parametrize("content", [BINARY, HUGE, "\xff\xfe".encode("latin-1")], ids=["binary", "huge", "not-utf8"])
def test_unreadable_inputs(tmp_path: Path, content: str | bytes) -> None:
    code, report, _ = _validate(tmp_path, content, [])
    assert code == 2 and not report["ok"]
    assert report["errors"][0]["hint"]


def test_all_errors_are_collected(tmp_path: Path) -> None:
    text = sub("lr: 0.0003", "lr: -1").replace("steps: 1000", "steps: 0").replace("n_heads: 4", "n_heads: 3")
    code, report, _ = _validate(tmp_path, text, [])
    assert code == 2
    paths = {e["path"] for e in report["errors"]}
    assert {f"{RUNS}.train.lr", f"{RUNS}.steps"} <= paths


def test_missing_file_is_a_clean_error() -> None:
    result = CliRunner().invoke(app, ["validate", "/nonexistent/m.yml"])
    assert result.exit_code == 2
    assert "does not exist" in result.output and "Traceback" not in result.output
