"""``trainer.upcycle`` manifests: what the phases need is refused at validation, with the field
path, the file and line, and a fix — before any teacher is trained (``caramba validate`` exits 2)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from caramba.cli.app import app
from caramba.engine.compiler import check
from tests.conftest import PRESETS

PRESET = PRESETS / "upcycle_dba.yml"
STUDENT = "targets[1]"
ATTENTION = f"{STUDENT}.system.config.model.topology.layers[0].layers[0].layers[1]"


def errors(*sets: str) -> dict[str, tuple[str, str, int | None]]:
    report = check(PRESET, list(sets))
    return {e.path: (e.message, e.hint, e.line) for e in report.errors}


def test_the_preset_is_valid() -> None:
    assert check(PRESET).ok


@pytest.mark.parametrize(("sets", "path", "words"), [
    ((f"{STUDENT}.system.config.model.topology.layers[0].repeat=3",), f"{STUDENT}.system.config.model.topology.layers[0].repeat",
     ("repeat 3, the teacher 2", "repeat: 2")),
    ((f"{STUDENT}.system.config.model.embedder.d_model=32", f"{ATTENTION}.d_model=32"), f"{STUDENT}.system.config.model.embedder.d_model",
     ("d_model 32, the teacher 64",)),
    (("vars.student_rope_base=50",), f"{ATTENTION}.rope_base", ("surgery's student has 100.0", "50.0")),
    ((f"{ATTENTION}.mode=gqa",), f"{ATTENTION}.mode", ("mode 'gqa'", "surgery: false")),
    ((f"{STUDENT}.runs[0].train.phase=global", f"{STUDENT}.runs[1].train.phase=blockwise"), f"{STUDENT}.runs[1].train.phase",
     ("blockwise phase after a global one", "blockwise first")),
    ((f"{STUDENT}.runs[1].train.phase=standard",), f"{STUDENT}.runs[1].train.phase", ("not phase standard",)),
    ((f"{STUDENT}.runs[1].init_from=null",), f"{STUDENT}.runs[1].init_from", ("start over (from the surgery)", "run: previous")),
    ((f"{STUDENT}.trainer.config.teacher.target=nope",), f"{STUDENT}.trainer.config.teacher.target", ("'nope'", "teacher, student")),
    ((f"{STUDENT}.trainer.config.teacher.run=warmup",), f"{STUDENT}.trainer.config.teacher.run", ("no run 'warmup'", "pretrain")),
    (("targets[0].runs[0].seed=[0, 1]",), f"{STUDENT}.trainer.config.teacher.run", ("seeds [0, 1]", "run: pretrain-s0")),
    ((f"{STUDENT}.trainer.config.intermediate_blocks=[2]", f"{STUDENT}.trainer.config.intermediate_weight=0.1"),
     f"{STUDENT}.trainer.config.intermediate_blocks[0]", ("block 2 does not exist",)),
    ((f"{STUDENT}.runs[0].steps=1",), f"{STUDENT}.runs[0].steps", ("over the 2 blocks", "steps ≥ 2")),
    ((f"{STUDENT}.trainer.config.distill_target=mlp",), f"{STUDENT}.trainer.config.distill_target", ("block", "attention")),
])
def test_each_mistake_is_named_at_its_field(sets: tuple[str, ...], path: str, words: tuple[str, ...]) -> None:
    found = errors(*sets)
    assert path in found, found
    message, hint, _ = found[path]
    for word in words:
        assert word in message + " " + hint, (word, message, hint)


def test_one_seed_of_a_seeded_teacher_run_is_accepted() -> None:
    assert check(PRESET, ["targets[0].runs[0].seed=[0, 1]", f"{STUDENT}.trainer.config.teacher.run=pretrain-s1"]).ok


def test_errors_in_the_file_carry_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "m.yml"
    bad.write_text(PRESET.read_text().replace("        init_from: {run: previous}\n", "").replace(
        "student_rope_base: 100.0", "student_rope_base: 50.0"))
    report = check(bad)
    lines = bad.read_text().splitlines()
    want = {f"{STUDENT}.runs[1].init_from": next(i for i, l in enumerate(lines, 1) if "- id: global" in l)}
    got = {e.path: e.line for e in report.errors if e.file == str(bad)}
    assert got.get(f"{STUDENT}.runs[1].init_from") == want[f"{STUDENT}.runs[1].init_from"], (got, want)
    # the surgery mismatch points at the rope_base the variable fills, in the student's attention layer
    rope = next(i for i, l in enumerate(lines, 1) if 'rope_base: "${student_rope_base}"' in l)
    assert got.get(f"{ATTENTION}.rope_base") == rope, got


def test_validate_exits_2_without_a_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["validate", str(PRESET), "--set", f"{STUDENT}.runs[0].train.phase=global",
                                      "--set", f"{STUDENT}.runs[1].train.phase=blockwise"])
    assert result.exit_code == 2 and "blockwise first" in result.output and "Traceback" not in result.output


def test_the_teacher_cache_key_in_train_points_to_the_trainer() -> None:
    found = errors(f"{STUDENT}.runs[0].train.cache_teacher_outputs=true")
    assert "trainer.config.cache_teacher_outputs" in found[f"{STUDENT}.runs[0].train.cache_teacher_outputs"][1]


def test_the_teacher_placement_is_validated_at_its_field(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``runtime.distributed.teacher``: replicated or sharded, and only in a manifest whose runs have a teacher."""
    assert check(PRESET, ["defaults.runtime.distributed={strategy: ddp, teacher: sharded}"]).ok
    found = errors("defaults.runtime.distributed={strategy: fsdp, teacher: everywhere}")
    assert "defaults.runtime.distributed.teacher" in found, found
    import yaml

    from tests.train.manifests import tiny

    data = yaml.safe_load(tiny(steps=2))
    data["defaults"]["runtime"] = {"distributed": {"strategy": "ddp", "teacher": "sharded"}}
    (tmp_path / "m.yml").write_text(yaml.safe_dump(data, sort_keys=False))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["validate", "m.yml"])
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    said = " ".join(result.output.split())
    line = next(i for i, l in enumerate((tmp_path / "m.yml").read_text().splitlines(), 1) if "teacher: sharded" in l)
    assert "defaults.runtime.distributed.teacher" in said and "no run of this manifest has one" in said, said
    assert f"m.yml:{line}" in said, said
