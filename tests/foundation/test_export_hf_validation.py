"""``runs[].export_hf`` and ``comparison`` arms ``target/run``, as ``presets/upcycle_dba_gpu.yml`` uses them.

The preset's student starts from ``teacher: {hf: teacher_hf}``, a folder the teacher's run writes
(``export_hf``). Validation must accept the folder before it exists, check the student against the
teacher target's model instead of a config.json, and refuse what would fail after training: an
export of a model with no exact Hugging Face form, two runs writing one folder, a comparison arm
naming a run that does not exist, a primary metric that is a distillation objective for one arm.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from caramba.engine.compiler import check, compile_manifest
from caramba.engine.manifest.selection import select_targets
from tests.conftest import PRESETS

PRESET = PRESETS / "upcycle_dba_gpu.yml"
ATTENTION = "targets[1].system.config.model.topology.layers[0].layers[0].layers[1]"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A workspace with a token file and no teacher_hf/ yet (the teacher's run would write it)."""
    np.save(tmp_path / "data.npy", np.frombuffer(Path(np.__file__).read_bytes() * 40, dtype=np.uint8).astype(np.uint16))
    return tmp_path


def errors(workspace: Path, *sets: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for e in check(PRESET, list(sets), workspace).errors:
        found[e.path] = found.get(e.path, "") + f"{e.message} | {e.hint}\n"
    return found


def test_the_exported_teacher_folder_need_not_exist_yet(workspace: Path) -> None:
    assert errors(workspace) == {}
    compiled = compile_manifest(PRESET, [], workspace)
    assert [t.name for t in select_targets(compiled.manifest)] == ["teacher", "student", "scratch_equal", "scratch"]
    assert compiled.manifest.targets[1].trainer.config.teacher.hf == str(workspace / "teacher_hf")


def test_without_the_export_the_folder_must_exist(workspace: Path) -> None:
    found = errors(workspace, "targets[0].runs[0].export_hf=null")
    assert "no folder" in found["targets[1].trainer.config.teacher.hf"]


@pytest.mark.parametrize(("sets", "path", "words"), [
    ((f"{ATTENTION}.rope_base=50",), f"{ATTENTION}.rope_base", ("surgery's student has 100.0",)),
    (("targets[2].runs[0].export_hf=scratch_hf",), "targets[2].runs[0].export_hf", ("no exact Hugging Face form", "Llama")),
    (("targets[2].runs[0].export_hf=teacher_hf",), "targets[2].runs[0].export_hf", ("already written by run 'pretrain'",)),
    (("comparison.arms=[teacher, student/final, scratch]",), "comparison.arms[1]", ("no run 'final'", "student/global")),
    (("comparison.primary=val_loss",), "comparison.primary", ("distillation objective", "perplexity.ppl")),
])
def test_each_mistake_is_named_at_its_field(workspace: Path, sets: tuple[str, ...], path: str, words: tuple[str, ...]) -> None:
    found = errors(workspace, *sets)
    assert path in found, found
    for word in words:
        assert word in found[path], (word, found[path])


def test_an_export_never_overwrites_someone_elses_checkpoint(workspace: Path) -> None:
    (workspace / "teacher_hf").mkdir()
    (workspace / "teacher_hf" / "config.json").write_text("{}")
    assert "holds files caramba did not export (config.json)" in errors(workspace)["targets[0].runs[0].export_hf"]
    (workspace / "teacher_hf" / "caramba_export.json").write_text("{}")  # an earlier export may be rewritten
    assert "targets[0].runs[0].export_hf" not in errors(workspace)


def test_two_phases_of_one_target_run_it_once(workspace: Path) -> None:
    compiled = compile_manifest(PRESET, ["comparison.arms=[teacher, student/blockwise, student/global]"], workspace)
    assert [t.name for t in select_targets(compiled.manifest)] == ["teacher", "student"]
