"""What used to fail only after training now fails at `caramba validate`: exit 2, the field
path, the line, a hint, no traceback.

Each case is a manifest (a mutation of a preset) validated in a real workspace folder (the
current directory) that holds a valid `data.npy` of byte tokens, plus whatever the case
adds to the workspace (a larger vocabulary, a symlink, an empty teacher folder …).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
from typer.testing import CliRunner

from caramba.cli.app import app

PRESETS = Path(__file__).resolve().parents[2] / "presets"
BASE = (PRESETS / "complete_example.yml").read_text()
MLP = (PRESETS / "mlp_classifier.yml").read_text()
COPY = (PRESETS / "standard_transformer.yml").read_text()
T0, RUN = "targets[0]", "targets[0].runs[0]"
MODEL = "targets[0].system.config.model"


def sub(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def tokens(ws: Path, name: str, ids: np.ndarray) -> None:
    np.save(ws / name, ids)


LATENCY = ("        models: [student]\n", "        models: [student]\n      - id: latency\n        config:\n"
           "          type: latency\n          prompt_lengths: [8]\n          generation_lengths: [4]\n"
           "          cache: {kind: q8, block_size: 5}\n")
PROCESS = ("entrypoints:\n", "  - type: process\n    name: think\n    process: {type: brainstorm, topic: x, output_dir: ../../escape}\n"
           "entrypoints:\n")
EVAL = ("        verify:\n          type: fidelity\n          batches: 5\n          max_delta_nll: 0.1\n",
        "        verify:\n          type: eval\n          tokenizer: {type: llama}\n          cases:\n"
        "            - {id: a, prompt: 'x', answer: 'y', kind: exact_match}\n")
Setup = Callable[[Path], None]


def _none(ws: Path) -> None:
    return None


# (case id, manifest text, --set overrides, workspace set-up, expected field path prefix, text whose line is named)
CASES: list[tuple[str, str, list[str], Setup, str, str | None]] = [
    ("token ids beyond the vocabulary", BASE, [], lambda ws: tokens(ws, "data.npy", np.arange(20_000, dtype=np.uint16) % 1000),
     f"{T0}.data.config.path", "path: data.npy"),
    ("synthetic vocabulary beyond the model", sub(COPY, 'vocab_size: "${vocab_size}", block_size', "vocab_size: 4096, block_size"), [], _none,
     f"{T0}.data.config.vocab_size", "vocab_size: 4096, block_size"),
    ("classification objective on token data", sub(BASE, "objective: objective.next_token_ce", "objective: objective.classification_ce"),
     [], _none, f"{T0}.objective", "objective: objective.classification_ce"),
    ("classification task on token data", sub(sub(BASE, "task: task.language_modeling", "task: task.classification"),
                                              "objective: objective.next_token_ce", "objective: objective.classification_ce"),
     [], _none, f"{T0}.task", "task: task.classification"),
    ("language modelling on vectors", sub(MLP, "task: task.classification", "task: task.language_modeling"), [], _none,
     f"{T0}.objective", "objective: objective.classification_ce"),
    ("mse on class labels", sub(MLP, "objective: objective.classification_ce", "objective: objective.mse"), [], _none,
     f"{T0}.objective", "objective: objective.mse"),
    ("vector width differs from the network", sub(MLP, "d_in: 16, n_classes: 4, noise", "d_in: 12, n_classes: 4, noise"), [], _none,
     f"{MODEL}.d_in", "          d_in: 16\n"),
    ("class count differs from the network", sub(MLP, "d_in: 16, n_classes: 4, noise", "d_in: 16, n_classes: 5, noise"), [], _none,
     f"{MODEL}.n_classes", "n_classes: 4\n"),
    ("missing data file", sub(BASE, "path: data.npy", "path: nothing.npy"), [], _none, f"{T0}.data.config.path", "path: nothing.npy"),
    ("missing benchmark dataset", sub(BASE, "dataset: data.npy", "dataset: held_out.npy"), [], _none,
     f"{T0}.benchmarks[0].config.dataset", "dataset: held_out.npy"),
    ("data path outside the workspace", sub(BASE, "path: data.npy", "path: ../outside.npy"),
     [], lambda ws: tokens(ws.parent, "outside.npy", np.zeros(5000, dtype=np.uint16)), f"{T0}.data.config.path", "path: ../outside.npy"),
    ("~ is not expanded", sub(BASE, "path: data.npy", "path: ~/data.npy"), [], _none, f"{T0}.data.config.path", "path: ~/data.npy"),
    ("symlink out of the workspace", sub(BASE, "path: data.npy", "path: link.npy"), [],
     lambda ws: (tokens(ws.parent, "real.npy", np.zeros(5000, dtype=np.uint16)), os.symlink(ws.parent / "real.npy", ws / "link.npy")),
     f"{T0}.data.config.path", "path: link.npy"),
    ("token file too short", BASE, [], lambda ws: tokens(ws, "data.npy", np.zeros(40, dtype=np.uint16)), f"{T0}.data.config.path", "path: data.npy"),
    ("token file of two dimensions", BASE, [], lambda ws: tokens(ws, "data.npy", np.zeros((100, 100), dtype=np.uint16)),
     f"{T0}.data.config.path", "path: data.npy"),
    ("missing tokenizer file", sub(BASE, "tokenizer: byte", "tokenizer: tok/tokenizer.json"), [], _none,
     "defaults.data.tokenizer", "tokenizer: tok/tokenizer.json"),
    ("eval tokenizer that needs files", sub(BASE, *EVAL), [], _none, f"{RUN}.verify.tokenizer.type", "type: llama"),
    ("missing teacher", sub(BASE, "dtype: float32\n", "dtype: float32\n          teacher_ckpt: teacher\n"), [], _none,
     f"{RUN}.train.teacher_ckpt", "teacher_ckpt: teacher"),
    ("teacher folder without a checkpoint", sub(BASE, "dtype: float32\n", "dtype: float32\n          teacher_ckpt: teacher\n"), [],
     lambda ws: (ws / "teacher").mkdir(), f"{RUN}.train.teacher_ckpt", "teacher_ckpt: teacher"),
    ("cache block does not cut the head width", sub(BASE, *LATENCY), [], _none, f"{T0}.benchmarks[1].config.cache.block_size", None),
    ("q4 cache with odd blocks", sub(BASE, *LATENCY).replace("{kind: q8, block_size: 5}", "{kind: q4, block_size: 1}"), [], _none,
     f"{T0}.benchmarks[1].config", None),
    ("sequence beyond learned positions", sub(COPY, "embedder: {type: token,", "embedder: {type: token, positions: learned, max_seq_len: 16,"),
     [], _none, f"{RUN}.train.block_size", None),
    ("early stopping without evaluations", sub(BASE, "dtype: float32\n", "dtype: float32\n          early_stopping: {patience: 2}\n"), [],
     _none, f"{RUN}.train.early_stopping", "early_stopping: {patience: 2}"),
    ("save_best names no evaluated metric", sub(BASE, "    save_every: 200\n", "    save_every: 200\n    save_best: val_los\n"), [], _none,
     "defaults.runtime.save_best", "save_best: val_los"),
    ("best checkpoint of a run that keeps none", sub(BASE, "    runs:\n      - id: train\n", "    runs:\n      - id: pre\n        steps: 5\n"
     "        train: {batch_size: 8, block_size: 64, lr: 0.001, device: cpu}\n      - id: train\n"
     "        init_from: {run: pre, checkpoint: best}\n"), [], _none, "targets[0].runs[1].init_from.checkpoint", "init_from: {run: pre"),
    ("two targets, no default entrypoint", sub(sub(BASE, *PROCESS), "entrypoints:\n  default: full_pipeline\n", "").replace(
        "output_dir: ../../escape", "output_dir: notes"), [], _none, "targets", "targets:"),
    ("process output folder climbs out", sub(BASE, *PROCESS), [], _none, "targets[1].process.output_dir", "process: {type"),
    ("persona named by a path", sub(BASE, *PROCESS).replace("process: {type", "team: {writer: ../../etc/x}\n    process: {type").replace(
        "output_dir: ../../escape", "output_dir: notes"), [], _none, "targets[1].team.writer", "team: {writer"),
    ("repeat beyond the limit", sub(BASE, "repeat: ${n_layers}", "repeat: 1000000000000000000"), [], _none,
     f"{MODEL}.topology.layers[0].repeat", "repeat: 1000000000000000000"),
    ("verify batches beyond the limit", sub(BASE, "batches: 5", "batches: 9223372036854775807"), [], _none,
     f"{RUN}.verify.batches", "batches: 9223372036854775807"),
    ("steps beyond the limit", sub(BASE, "steps: 1000", "steps: 1000000000000"), [], _none, f"{RUN}.steps", "steps: 1000000000000"),
    ("width beyond the limit", BASE, ["vars.d_ff=100000000"], _none, f"{MODEL}.topology.layers[0].layers[1].layers[1].d_ff", None),
    ("activation memory beyond the limit", BASE, ["vars.batch_size=60000", "vars.block_size=60000", "targets[0].data.config.block_size=60000"],
     lambda ws: tokens(ws, "data.npy", np.zeros(200_000, dtype=np.uint16)), f"{RUN}.train", None),
    ("workspace limit lowered in caramba.yml", BASE, [], lambda ws: (ws / "caramba.yml").write_text("limits: {max_steps: 100}\n"),
     f"{RUN}.steps", "steps: 1000"),
    ("an integer of 5000 digits", sub(BASE, "seed: 42", "seed: " + "9" * 5000), [], _none, f"{RUN}.seed", "seed: 999"),
    ("a width of 1e30", BASE, ["vars.d_model=1.0e+30"], _none, f"{MODEL}", None),
    ("a --set value nested 5000 deep", BASE, ["vars.d_model=" + "[" * 5000 + "]" * 5000], _none, "", None),
]


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A workspace (the current directory) with a valid data.npy of byte tokens."""
    root = tmp_path / "ws"
    root.mkdir()
    tokens(root, "data.npy", np.random.default_rng(0).integers(0, 256, size=20_000).astype(np.uint16))
    monkeypatch.chdir(root)
    return root


def validate(ws: Path, text: str, sets: list[str]) -> tuple[int, dict, str]:
    path = ws / "m.yml"
    path.write_text(text)
    result = CliRunner().invoke(app, ["validate", str(path), "--format", "json", *[a for s in sets for a in ("--set", s)]])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    return result.exit_code, json.loads(result.stdout), str(path)


def test_the_presets_base_is_valid_in_the_workspace(ws: Path) -> None:
    for text in (BASE, MLP, COPY):
        code, report, _ = validate(ws, text, [])
        assert code == 0, report


def test_at_least_twenty_new_cases() -> None:
    assert len(CASES) >= 20


@pytest.mark.parametrize(("name", "text", "sets", "setup", "path", "needle"), CASES, ids=[c[0] for c in CASES])
def test_rejected_at_validation(ws: Path, name: str, text: str, sets: list[str], setup: Setup, path: str, needle: str | None) -> None:
    setup(ws)
    code, report, file = validate(ws, text, sets)
    assert code == 2 and not report["ok"], report
    for error in report["errors"]:
        assert error["message"] and error["hint"], error
        assert error["line"] is not None or error["file"] == "--set", error
    matching = [e for e in report["errors"] if e["path"].startswith(path)]
    assert matching, f"{name}: expected a path starting {path!r}, got {[e['path'] for e in report['errors']]}"
    if needle is not None:
        expected = text[: text.index(needle)].count("\n") + 1
        assert matching[0]["line"] == expected and matching[0]["file"] == file, (matching[0], expected)


def test_the_vocabulary_scan_is_cached_and_follows_the_file(ws: Path) -> None:
    code, _, _ = validate(ws, BASE, [])
    cache = ws / ".caramba" / "cache" / "token_bounds.json"
    assert code == 0 and list(json.loads(cache.read_text()).values()) == [256]
    tokens(ws, "data.npy", np.arange(20_000, dtype=np.uint16) % 300)  # the file changes: scanned again
    code, report, _ = validate(ws, BASE, [])
    assert code == 2 and "token ids up to 299" in report["errors"][0]["message"]
