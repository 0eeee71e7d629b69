"""Parsing: positions, ${var} substitution, --set overrides, extends, seed expansion."""

from __future__ import annotations

from pathlib import Path

import pytest

from caramba.engine.compiler import ManifestInvalid, check, compile_manifest
from caramba.engine.compiler.extends import merge
from caramba.engine.compiler.source import load

PRESET = Path(__file__).resolve().parents[2] / "presets" / "complete_example.yml"


def test_positions_are_kept() -> None:
    doc = load("a:\n  b:\n    - x: 1\n    - y: 2\n", "f.yml")
    assert doc.positions[("a", "b", 1, "y")].line == 4
    assert doc.positions[("a", "b", 1, "y")].column == 7
    assert doc.position(("a", "b", 1, "y", "deeper")).line == 4


def test_exact_variable_keeps_type_and_interpolation_makes_text() -> None:
    text = PRESET.read_text().replace("notes: Demonstrates all manifest features", "notes: width ${d_model} and ${block_size}")
    text = text.replace("  batch_size: 8", "  batch_size: 8\n  seeds: [1, 2]\n  alias: ${d_model}")
    compiled = compile_manifest(text.replace("seed: 42", "seed: ${seeds}"))
    assert compiled.manifest.notes == "width 64 and 64"
    assert compiled.resolved["vars"]["alias"] == 64 and isinstance(compiled.resolved["vars"]["alias"], int)
    assert [r.id for r in compiled.manifest.targets[0].runs] == ["train-s1", "train-s2"]
    assert [r.seed for r in compiled.manifest.targets[0].runs] == [1, 2]


def test_escaped_dollar_is_literal() -> None:
    text = PRESET.read_text().replace("notes: Demonstrates all manifest features", "notes: costs $${d_model}")
    assert compile_manifest(text).manifest.notes == "costs ${d_model}"


def test_cycle_is_reported_with_the_chain() -> None:
    text = PRESET.read_text().replace("  d_ff: 256", "  d_ff: ${a}\n  a: ${b}\n  b: ${d_ff}")
    report = check(text)
    assert not report.ok
    assert any("cycle" in e.message and "→" in e.message for e in report.errors)


def test_set_overrides_are_yaml_typed() -> None:
    compiled = compile_manifest(PRESET, ["vars.d_model=128", "targets[0].runs[0].train.lr=1e-3", "name=renamed"])
    model = compiled.resolved["targets"][0]["system"]["config"]["model"]
    assert model["embedder"]["d_model"] == 128
    assert compiled.manifest.targets[0].runs[0].train.lr == pytest.approx(1e-3)
    assert compiled.manifest.name == "renamed"


def test_set_error_names_the_override() -> None:
    with pytest.raises(ManifestInvalid) as exc:
        compile_manifest(PRESET, ["targets[3].name=x"])
    assert "targets[3].name" in exc.value.errors[0].message and exc.value.errors[0].file == "--set"


def test_extends_a_preset_and_merges_by_name(tmp_path: Path) -> None:
    child = tmp_path / "child.yml"
    child.write_text(
        "extends: complete_example\n"
        "name: child\n"
        "vars: {d_model: 32, n_heads: 2}\n"
        "targets:\n"
        "  - name: full_pipeline\n"
        "    runs:\n"
        "      - id: train\n"
        "        steps: 7\n"
    )
    compiled = compile_manifest(child)
    target = compiled.manifest.targets[0]
    assert compiled.manifest.name == "child"
    assert target.runs[0].steps == 7 and target.runs[0].train.lr == pytest.approx(3e-4)
    assert compiled.resolved["targets"][0]["system"]["config"]["model"]["embedder"]["d_model"] == 32


def test_extends_errors_point_at_the_right_file(tmp_path: Path) -> None:
    child = tmp_path / "child.yml"
    child.write_text("extends: complete_example\ntargets:\n  - name: full_pipeline\n    runs:\n      - id: train\n        steps: -1\n")
    report = check(child)
    (error,) = report.errors
    assert error.file == str(child) and error.line == 6 and error.path == "targets[0].runs[0].steps"


def test_extends_unknown_preset_suggests() -> None:
    report = check("extends: complete_exampel\n")
    assert "complete_example" in report.errors[0].hint


def test_extends_cycle(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text("extends: ./b.yml\n")
    (tmp_path / "b.yml").write_text("extends: ./a.yml\n")
    report = check(tmp_path / "a.yml")
    assert "cycle" in report.errors[0].message


def test_merge_rules() -> None:
    base = {"a": {"x": 1, "y": 2}, "l": [1, 2], "runs": [{"id": "r", "steps": 1}, {"id": "s", "steps": 2}]}
    over = {"a": {"y": 3}, "l": [9], "runs": [{"id": "s", "steps": 5}, {"id": "t", "steps": 6}]}
    assert merge(base, over) == {"a": {"x": 1, "y": 3}, "l": [9],
                                 "runs": [{"id": "r", "steps": 1}, {"id": "s", "steps": 5}, {"id": "t", "steps": 6}]}


def test_apples_to_apples_rejects_different_budgets() -> None:
    text = PRESET.read_text().replace("version: 2", "version: 2\napples_to_apples: true")
    text = text.replace("    runs:\n", "    runs:\n      - id: other\n        seed: 1\n        steps: 10\n        train: {batch_size: 8, block_size: 64, lr: 0.001, device: cpu}\n")
    report = check(text)
    assert not report.ok
    assert any(e.stage == "comparability" and "token budget" in e.message for e in report.errors)
    assert check(PRESET.read_text().replace("version: 2", "version: 2\napples_to_apples: true")).ok


def test_graph_system_widths_are_checked() -> None:
    text = PRESET.read_text()
    start = text.index("    system:\n")
    end = text.index("    objective:")
    graph = (
        "    system:\n"
        "      ref: system.graph\n"
        "      config:\n"
        "        input_widths: {inputs: 4}\n"
        "        topology:\n"
        "          type: GraphTopology\n"
        "          layers:\n"
        "            - {id: proj, in: inputs, out: h, type: LinearLayer, d_in: 5, d_out: 8}\n"
        "            - {id: act, in: h, out: h2, op: ReLU, config: {}}\n"
    )
    report = check(text[:start] + graph + text[end:])
    assert any(e.stage == "dimensions" and e.path.endswith("d_in") and "4" in e.message for e in report.errors), report.errors
