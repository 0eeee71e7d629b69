"""Every preset validates, dry-runs, and trains 3 steps on the CPU (in a temp workspace)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from caramba.engine.compiler import check, compile_manifest
from tests.conftest import PRESETS

FAMILIES = ("transformer", "moe", "mamba", "lora", "vit", "mlp", "diffusion", "graph", "dba")
MINE = sorted(p for p in PRESETS.glob("*.yml") if p.stem != "complete_example")
# GPU-sized presets: validated and dry-run here; trained elsewhere, shrunk (training them at size on a CPU takes hours)
GPU_SIZED = {"upcycle_dba_gpu": "tests/train/test_upcycle_from_export.py runs it end to end at d 32"}


def three_steps(path: Path) -> list[str]:
    """``--set`` overrides: every run of every target to 3 steps and its first seed, 2 evaluation batches."""
    data = yaml.safe_load(path.read_text())
    cut = [f"targets[{t}].runs[{r}].steps=3" for t, target in enumerate(data["targets"]) for r in range(len(target["runs"]))]
    seeds = [f"targets[{t}].runs[{r}].seed={run['seed'][0]}" for t, target in enumerate(data["targets"])
             for r, run in enumerate(target["runs"]) if isinstance(run.get("seed"), list)]
    return [*cut, *seeds, "defaults.logging.eval_iters=2"]


def workspace_for(path: Path, root: Path) -> Path:
    """``root`` as the preset's workspace: with ``data.npy`` prepared from the repository's docs (real
    text, byte-level) when the preset trains on the workspace's data, as its header tells a user to."""
    if "path: data.npy" in path.read_text():
        from caramba.engine.data.prepare import prepare
        from caramba.engine.data.tokenizers import load_tokenizer

        prepare(PRESETS.parent / "docs", root / "data.npy", load_tokenizer("byte", root))
    return root


def test_every_family_has_a_preset() -> None:
    missing = [f for f in FAMILIES if not any(f in p.stem for p in MINE)]
    assert not missing, f"no preset for {missing}"
    for path in MINE:
        assert path.read_text().startswith(f"# {path.stem} — "), f"{path.name} must open with '# {path.stem} — <summary>'"


@pytest.mark.parametrize("path", MINE, ids=lambda p: p.stem)
def test_preset_validates_dry_runs_and_trains(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(workspace_for(path, tmp_path))
    report = check(path, (), tmp_path)
    assert report.ok, "\n".join(e.render() for e in report.errors)
    from caramba.engine.plan import dry_run
    from caramba.engine.run import execute

    if path.stem in GPU_SIZED:
        compiled = compile_manifest(path, [], tmp_path)
        assert all(dry_run(compiled, t.name)[0].params_total > 0 for t in compiled.manifest.targets)
        return
    compiled = compile_manifest(path, three_steps(path), tmp_path)
    for target in compiled.manifest.targets:
        plans = dry_run(compiled, target.name)
        assert plans[0].params_total > 0
        records = execute(compiled, target.name, tmp_path)
        assert [r.status for r in records] == ["succeeded"] * len(records), [r.reasons for r in records]
        assert all(r.step == 3 for r in records)


def test_dba_preset_changes_one_thing_per_arm() -> None:
    manifest = compile_manifest(PRESETS / "dba_vs_gqa.yml").manifest
    assert manifest.comparison is not None and manifest.comparison.arms == ["gqa_baseline", "dba", "dba_null", "dba_gate"]
    per_token = {t.name: t.system.config.model.kv_values_per_token() for t in manifest.targets}
    dba = 2 * (16 + 16 + 64) * 2 // 4  # 2 layers × (sem + geo + value) × 2 KV heads of 4
    assert per_token == {"gqa_baseline": 2 * 2 * 2 * 16, "dba": dba, "dba_null": dba, "dba_gate": dba}, per_token

    def attention(target: object) -> dict[str, object]:
        layers = target.system.config.model.topology.layers[0].layers[0].layers  # type: ignore[attr-defined]
        return layers[1].model_dump()

    base, dba_alone, null, gate = (attention(manifest.target(a)) for a in manifest.comparison.arms)
    changed = lambda a, b: {k for k in a if a[k] != b[k]}  # noqa: E731
    assert changed(dba_alone, null) == {"null_attn"} and changed(dba_alone, gate) == {"gate"}
    assert not dba_alone.get("null_attn") and not dba_alone.get("gate")
    assert {k for k in changed(base, dba_alone)} <= {"mode", "sem_dim", "geo_dim", "v_dim"}
    runs = {t.name: [(r.seed, r.steps, r.train.model_dump()) for r in t.runs] for t in manifest.targets}
    assert all(v == runs["dba"] for v in runs.values()) and [s for s, _, _ in runs["dba"]] == [1, 2, 3]
    assert {b.config.type for b in manifest.target("dba").benchmarks} == {"perplexity", "latency", "memory"}


@pytest.mark.parametrize("name", ["upcycle_dba", "upcycle_dba_gpu"])
def test_upcycle_scratch_arms_train_for_both_readings_of_equal_tokens(name: str) -> None:
    """``scratch_equal`` gets the student's own tokens (blockwise + global: the teacher given), ``scratch`` the
    teacher's plus the student's; both at the teacher's batch and window, so steps count tokens."""
    targets = {t.name: t for t in compile_manifest(PRESETS / f"{name}.yml").manifest.targets}
    tokens = {n: sum(r.steps * r.train.batch_size * r.train.block_size for r in t.runs) for n, t in targets.items()}
    assert tokens["scratch_equal"] == tokens["student"]
    assert tokens["scratch"] == tokens["teacher"] + tokens["student"]
    comparison = compile_manifest(PRESETS / f"{name}.yml").manifest.comparison
    if comparison is not None:
        assert comparison.arms[-2:] == ["scratch_equal", "scratch"]
