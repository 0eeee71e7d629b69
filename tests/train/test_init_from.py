"""Starting runs from weights: a Hugging Face folder, ``caramba import-hf``'s manifest, a
previous run (chained), a run-store id; strict and non-strict reports; ``export-hf`` of a
trained run back to ``transformers`` with identical logits."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import yaml
from safetensors.torch import load_file, save_file
from typer.testing import CliRunner

from caramba.engine.compiler import compile_manifest
from caramba.engine.hf import import_hf, model_config_of
from caramba.engine.run import execute

VOCAB = 97


@pytest.fixture
def hf_gpt2(workspace: Path) -> tuple[torch.nn.Module, Path]:
    """A tiny random GPT-2 saved as a Hugging Face folder, and a token file beside it."""
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(vocab_size=VOCAB, n_positions=32, n_embd=32, n_layer=2, n_head=4)).eval()
    model.save_pretrained(workspace / "hf")
    np.save(workspace / "data.npy", np.random.default_rng(0).integers(0, VOCAB, 4000).astype(np.uint16))
    return model, workspace / "hf"


def manifest(model: dict[str, Any], runs: list[dict[str, Any]], runtime: dict[str, Any] | None = None) -> str:
    """A one-target manifest over data.npy with the given model and runs (CPU, block 16)."""
    for run in runs:
        run.setdefault("train", {"batch_size": 2, "block_size": 16, "lr": 1e-9, "device": "cpu"})
    return yaml.safe_dump({"version": 2, "name": "w", "defaults": {"logging": {"instrument": "plain", "eval_iters": 2},
                                                                  "runtime": runtime or {}},
                           "targets": [{"type": "experiment", "name": "t", "task": "task.language_modeling",
                                        "data": {"ref": "dataset.tokens", "config": {"path": "data.npy", "block_size": 16}},
                                        "system": {"ref": "system.language_model", "config": {"model": model}},
                                        "objective": "objective.next_token_ce", "trainer": "trainer.standard", "runs": runs}]})


def final_weights(record: Any) -> dict[str, torch.Tensor]:
    [last] = sorted((Path(record.dir) / "checkpoints").glob("step_*"))[-1:]
    return load_file(last / "model.safetensors")


def max_change(before: dict[str, torch.Tensor], after: dict[str, torch.Tensor]) -> float:
    shared = [k for k in after if k in before]
    assert len(shared) == len(after), sorted(set(after) - set(before))
    return max((after[k].float() - before[k].float()).abs().max().item() for k in shared)


def hf_as_caramba(hf: Path) -> dict[str, torch.Tensor]:
    from caramba.engine.hf import gpt2

    cfg = json.loads((hf / "config.json").read_text())
    return gpt2.to_caramba(load_file(hf / "model.safetensors"), cfg)


def test_init_from_a_hugging_face_folder(hf_gpt2: tuple[torch.nn.Module, Path], workspace: Path) -> None:
    _, hf = hf_gpt2
    text = manifest(model_config_of(hf), [{"id": "ft", "steps": 1, "init_from": {"hf": "hf"}}])
    [record] = execute(compile_manifest(text), "t", workspace)
    assert record.status == "succeeded", record.reasons
    assert max_change(hf_as_caramba(hf), final_weights(record)) < 1e-6  # one step at lr 1e-9
    report = json.loads((Path(record.dir) / "artifacts" / "init_from.json").read_text())
    assert report["missing"] == report["unexpected"] == [] and report["loaded"] > 0


def test_import_hf_manifest_fine_tunes_the_imported_weights(hf_gpt2: tuple[torch.nn.Module, Path], workspace: Path) -> None:
    _, hf = hf_gpt2
    imported = workspace / "imported"
    path = import_hf(hf, imported)
    (imported / "data.npy").write_bytes((workspace / "data.npy").read_bytes())
    run = "targets[0].runs[0]"
    sets = [f"{run}.steps=1", f"{run}.train.lr=1e-9", f"{run}.train.device=cpu", f"{run}.train.block_size=16",
            "targets[0].data.config.block_size=16", f"{run}.train.batch_size=2", "defaults.logging.eval_iters=2"]
    [record] = execute(compile_manifest(path, sets), None, workspace)
    assert record.status == "succeeded", record.reasons
    assert max_change(hf_as_caramba(hf), final_weights(record)) < 1e-6


def test_chained_runs_and_run_ids(hf_gpt2: tuple[torch.nn.Module, Path], workspace: Path) -> None:
    """Run b continues run a (``previous``); a second manifest starts from a's best checkpoint by store id."""
    model = model_config_of(hf_gpt2[1])
    train = {"batch_size": 2, "block_size": 16, "lr": 3e-3, "device": "cpu"}
    runs = [{"id": "a", "steps": 6, "train": train},
            {"id": "b", "steps": 1, "init_from": {"run": "previous"}}]
    a, b = execute(compile_manifest(manifest(model, runs, {"save_best": "val_loss"})), "t", workspace)
    assert a.status == b.status == "succeeded", (a.reasons, b.reasons)
    fresh = hf_as_caramba(hf_gpt2[1])
    assert max_change(fresh, final_weights(a)) > 1e-3, "run a trained"
    assert max_change(final_weights(a), final_weights(b)) < 1e-6, "run b starts where run a ended"
    from caramba.engine.infer.load import load_run

    assert load_run(workspace, b.id).step == 1, "the chained run's own manifest.yml is self-contained"
    other = manifest(model, [{"id": "c", "steps": 1, "init_from": {"run": a.id, "checkpoint": "best"}}])
    [c] = execute(compile_manifest(other.replace("name: t", "name: other")), "other", workspace)
    assert c.status == "succeeded", c.reasons
    best = load_file(Path(a.dir) / "checkpoints" / "best" / "model.safetensors")
    assert max_change(best, final_weights(c)) < 1e-6


def test_chained_run_after_a_failed_run_says_why(hf_gpt2: tuple[torch.nn.Module, Path], workspace: Path) -> None:
    model = model_config_of(hf_gpt2[1])
    runs = [{"id": "a", "steps": 3, "train": {"batch_size": 2, "block_size": 16, "lr": 1e6, "device": "cpu"}},
            {"id": "b", "steps": 1, "init_from": {"run": "previous"}}]
    from caramba.engine.run import RunInputError

    with pytest.raises(RunInputError, match=r"run t-a-\w+ is failed \(diverged at step"):
        execute(compile_manifest(manifest(model, runs)), "t", workspace)


def test_strict_and_non_strict_reports_and_key_map(hf_gpt2: tuple[torch.nn.Module, Path], workspace: Path) -> None:
    from caramba.engine.run import RunInputError

    model = model_config_of(hf_gpt2[1])
    state = hf_as_caramba(hf_gpt2[1])
    state.pop("topology.layers.1.bias")  # final norm bias: missing
    save_file({"model." + k: v.clone().contiguous() for k, v in state.items()} | {"extra.weight": torch.zeros(3)},
              str(workspace / "w.safetensors"))
    strict = manifest(model, [{"id": "s", "steps": 1, "init_from": {"path": "w.safetensors", "key_map": {"^model\\.": ""}}}])
    with pytest.raises(RunInputError, match=r"missing \(1\): topology\.layers\.1\.bias; unexpected \(1\): extra\.weight"):
        execute(compile_manifest(strict), "t", workspace)
    loose = manifest(model, [{"id": "n", "steps": 1,
                              "init_from": {"path": "w.safetensors", "key_map": {"^model\\.": ""}, "strict": False}}])
    [record] = execute(compile_manifest(loose), "t", workspace)
    report = json.loads((Path(record.dir) / "artifacts" / "init_from.json").read_text())
    assert record.status == "succeeded", record.reasons
    assert (report["missing"], report["unexpected"]) == (["topology.layers.1.bias"], ["extra.weight"])
    assert max_change({k: v for k, v in state.items()}, {k: v for k, v in final_weights(record).items() if k in state}) < 1e-6


def test_export_hf_of_a_trained_run_round_trips_logits(hf_gpt2: tuple[torch.nn.Module, Path], workspace: Path) -> None:
    from transformers import AutoModelForCausalLM

    from caramba.cli.app import app
    from caramba.engine.infer.load import load_run

    model = model_config_of(hf_gpt2[1])
    text = manifest(model, [{"id": "tr", "steps": 4, "train": {"batch_size": 2, "block_size": 16, "lr": 3e-3, "device": "cpu"}}])
    [record] = execute(compile_manifest(text), "t", workspace)
    result = CliRunner().invoke(app, ["export-hf", record.id, "--out", str(workspace / "exported")])
    assert result.exit_code == 0, result.output
    theirs = AutoModelForCausalLM.from_pretrained(workspace / "exported").eval()
    ours = load_run(workspace, record.id).model
    assert max_change(hf_as_caramba(hf_gpt2[1]), final_weights(record)) > 1e-3, "the run trained"
    ids = torch.randint(0, VOCAB, (2, 12), generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        assert (theirs(ids).logits - ours(ids)).abs().max().item() < 1e-5


@pytest.mark.parametrize("run,where,says", [
    ({"id": "a", "steps": 1, "init_from": {"run": "previous"}}, "targets[0].runs[0].init_from.run", "no previous run"),
    ({"id": "a", "steps": 1, "init_from": {"hf": "x", "path": "y"}}, "targets[0].runs[0].init_from", "exactly one of hf, run, path"),
    ({"id": "a", "steps": 1, "init_from": {"path": "y", "key_map": {"(": "x"}}}, "targets[0].runs[0].init_from.key_map",
     "not a regular expression"),
    ({"id": "a", "steps": 1, "train": {"batch_size": 2, "block_size": 16, "lr": 1e-3, "on_divergence": {"action": "rollback"}}},
     "targets[0].runs[0].train.on_divergence.action", "rollback needs checkpoints"),
])
def test_bad_starting_weights_are_refused_at_validation(run: dict[str, Any], where: str, says: str) -> None:
    from caramba.engine.compiler import check

    from tests.train.manifests import MODEL

    report = check(manifest(MODEL, [run]))
    assert not report.ok
    assert any(e.path == where and says in e.message for e in report.errors), [e.render() for e in report.errors]


def test_lora_preset_adapts_its_pretrained_base(workspace: Path) -> None:
    """`caramba run lora_finetune` pretrains `base` first, then LoRA starts from it: the
    frozen base weights are base's final weights exactly; only the new factors are missing."""
    from tests.conftest import PRESETS

    sets = ["targets[0].runs[0].steps=3", "targets[1].runs[0].steps=3", "defaults.logging.eval_iters=2"]
    [lora] = execute(compile_manifest(PRESETS / "lora_finetune.yml", sets), None, workspace)
    assert lora.status == "succeeded", lora.reasons
    [base_dir] = [p for p in (workspace / ".caramba" / "runs").iterdir() if p.name.startswith("base-")]
    base = load_file(sorted((base_dir / "checkpoints").glob("step_*"))[-1] / "model.safetensors")
    ours = final_weights(lora)
    frozen = {k: v for k, v in ours.items() if k.endswith(".base.weight")}
    assert len(frozen) == 5
    assert all(torch.equal(v, base[k.replace(".base.", ".proj.")]) for k, v in frozen.items())
    report = json.loads((Path(lora.dir) / "artifacts" / "init_from.json").read_text())
    assert report["missing"] and all(k.endswith(("lora_a", "lora_b")) for k in report["missing"]) and not report["unexpected"]
