"""The CLI as a user runs it: console script, python -m, presets, init, schema."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from caramba.cli.app import app

runner = CliRunner()


def test_python_dash_m_and_help() -> None:
    result = subprocess.run([sys.executable, "-m", "caramba", "--help"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0
    for command in ("validate", "run", "presets", "init", "schema"):
        assert command in result.stdout


def test_validate_invalid_file_exits_2_without_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("version: 2\ndefaults: {}\ntargets: []\n")
    result = subprocess.run([sys.executable, "-m", "caramba", "validate", str(bad)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "Traceback" not in result.stdout + result.stderr
    assert "targets" in result.stdout


def test_presets_lists_descriptions() -> None:
    result = runner.invoke(app, ["presets", "--format", "json"])
    assert result.exit_code == 0
    rows = {row["name"]: row["description"] for row in json.loads(result.stdout)}
    assert "complete_example" in rows and rows["complete_example"]


def test_init_writes_a_valid_copy_and_refuses_to_overwrite(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # the workspace; validation checks its data file
    out = tmp_path / "mine.yml"
    assert runner.invoke(app, ["init", "--template", "complete_example", "--out", str(out)]).exit_code == 0
    missing = runner.invoke(app, ["validate", str(out)])
    assert missing.exit_code == 2 and "caramba data prepare" in missing.output
    np.save(tmp_path / "data.npy", (np.arange(5000) % 256).astype(np.uint16))
    assert runner.invoke(app, ["validate", str(out)]).exit_code == 0
    again = runner.invoke(app, ["init", "--template", "complete_example", "--out", str(out)])
    assert again.exit_code == 2 and "already exists" in again.output
    unknown = runner.invoke(app, ["init", "--template", "nope"])
    assert unknown.exit_code == 2 and "complete_example" in unknown.output


def test_schema_is_a_json_schema_with_registered_types() -> None:
    result = runner.invoke(app, ["schema"])
    schema = json.loads(result.stdout)
    text = json.dumps(schema)
    assert schema["title"].startswith("caramba manifest")
    for name in ("AttentionLayer", "SwiGLULayer", "dataset.tokens", "apples_to_apples"):
        assert name in text
    layers = json.loads(runner.invoke(app, ["schema", "--component", "layer"]).stdout)
    assert "AttentionLayer" in layers and layers["AttentionLayer"]["summary"]


def test_run_with_unknown_target_is_a_clean_error(data_workspace: Path) -> None:
    result = runner.invoke(app, ["run", "complete_example", "--dry-run", "--target", "nope"])
    assert result.exit_code == 2 and "full_pipeline" in result.output


def test_validate_fast_path_prints_what_the_typer_command_prints(data_workspace: Path) -> None:
    """`caramba validate` skips Typer (cli/checklist.py) yet answers exactly like the Typer command."""
    bad = data_workspace / "bad.yml"
    bad.write_text((Path(__file__).resolve().parents[2] / "presets" / "complete_example.yml").read_text().replace("lr: 0.0003", "lr: -1"))
    for args in (["complete_example"], [str(bad)], [str(bad), "--format", "json"], ["complete_example", "--set", "vars.d_ff=128"]):
        fast = subprocess.run([sys.executable, "-m", "caramba", "validate", *args], capture_output=True, text=True, timeout=120)
        typed = runner.invoke(app, ["validate", *args])
        assert (fast.returncode, fast.stdout) == (typed.exit_code, typed.stdout), args
    assert fast.returncode == 0 and "valid" in fast.stdout
    modules = subprocess.run([sys.executable, "-c", "import sys; sys.argv = ['caramba', 'validate', 'complete_example']\n"
                              "from caramba.cli.app import main\ntry:\n    main()\nexcept SystemExit:\n    pass\n"
                              "print('typer' in sys.modules, 'rich' in sys.modules, 'torch' in sys.modules, file=sys.stderr)"],
                             capture_output=True, text=True, timeout=120)
    assert modules.stderr.strip().splitlines()[-1] == "False False False", modules.stderr
    helped = subprocess.run([sys.executable, "-m", "caramba", "validate", "--help"], capture_output=True, text=True, timeout=120)
    assert helped.returncode == 0 and "--set" in helped.stdout and not helped.stderr
