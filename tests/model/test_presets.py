"""Every preset validates, dry-runs, and trains 3 steps on the CPU (in a temp workspace)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from caramba.engine.compiler import check, compile_manifest
from tests.conftest import PRESETS

FAMILIES = ("transformer", "moe", "mamba", "lora", "vit", "mlp", "diffusion", "graph", "dba")
MINE = sorted(p for p in PRESETS.glob("*.yml") if p.stem != "complete_example")


def three_steps(path: Path) -> list[str]:
    """``--set`` overrides: every run of every target to 3 steps, 2 evaluation batches."""
    data = yaml.safe_load(path.read_text())
    cut = [f"targets[{t}].runs[{r}].steps=3" for t, target in enumerate(data["targets"]) for r in range(len(target["runs"]))]
    return [*cut, "defaults.logging.eval_iters=2"]


def test_every_family_has_a_preset() -> None:
    missing = [f for f in FAMILIES if not any(f in p.stem for p in MINE)]
    assert not missing, f"no preset for {missing}"
    for path in MINE:
        assert path.read_text().startswith(f"# {path.stem} — "), f"{path.name} must open with '# {path.stem} — <summary>'"


@pytest.mark.parametrize("path", MINE, ids=lambda p: p.stem)
def test_preset_validates_dry_runs_and_trains(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    report = check(path)
    assert report.ok, "\n".join(e.render() for e in report.errors)
    compiled = compile_manifest(path, three_steps(path))
    from caramba.engine.plan import dry_run
    from caramba.engine.run import execute

    for target in compiled.manifest.targets:
        plans = dry_run(compiled, target.name)
        assert plans[0].params_total > 0
        monkeypatch.chdir(tmp_path)
        records = execute(compiled, target.name, tmp_path)
        assert [r.status for r in records] == ["succeeded"] * len(records), [r.reasons for r in records]
        assert all(r.step == 3 for r in records)


def test_dba_cache_is_smaller_than_its_gqa_baseline() -> None:
    manifest = compile_manifest(PRESETS / "dba_vs_gqa.yml").manifest
    per_token = {t.name: t.system.config.model.kv_values_per_token() for t in manifest.targets}
    assert per_token["dba"] < per_token["gqa_baseline"], per_token
    assert per_token == {"dba": 2 * (16 + 16 + 64) * 2 // 4, "gqa_baseline": 2 * 2 * 2 * 16}
