"""``caramba upcycle-surgery``: a tiny Hugging Face Llama (GQA) becomes a DBA folder whose
manifest validates and runs, starting from the surgery's weights; bad shapes exit 2 with
nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file
from typer.testing import CliRunner

from caramba.cli.app import app
from caramba.engine.compiler import compile_manifest
from caramba.engine.run import execute

VOCAB = 97


def tiny_llama(folder: Path) -> None:
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=VOCAB, hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=4,
                         num_key_value_heads=2, rope_theta=5000.0, max_position_embeddings=64)
    LlamaForCausalLM(config).save_pretrained(folder)


def test_surgery_folder_runs_from_the_student_weights(workspace: Path) -> None:
    from caramba.engine.infer.load import load_run

    tiny_llama(workspace / "hf")
    out = workspace / "student"
    result = CliRunner().invoke(app, ["upcycle-surgery", str(workspace / "hf"), "--out", str(out), "--sem-dim", "8",
                                      "--geo-dim", "8", "--v-dim", "16", "--gate"])
    assert result.exit_code == 0, result.output
    assert "layer 1: kept" in result.output
    report = json.loads((out / "surgery.json").read_text())
    assert [layer["semantic_rank"] for layer in report["layers"]] == [2, 2]
    assert all(0 < layer["kept"] < 1 for layer in report["layers"])
    assert all(0 < layer["value_kept"] < 1 for layer in report["layers"])
    assert report["kv_ratio"] == 0.5 and "KV cache per token: 0.500 of the teacher's" in result.output
    np.save(out / "data.npy", np.random.default_rng(0).integers(0, VOCAB, 2000).astype(np.uint16))
    run = "targets[0].runs[0]"
    sets = [f"{run}.steps=1", f"{run}.train.lr=1e-9", f"{run}.train.device=cpu", f"{run}.train.block_size=16",
            "targets[0].data.config.block_size=16", f"{run}.train.batch_size=2", "defaults.logging.eval_iters=2"]
    [record] = execute(compile_manifest(out / "manifest.yml", sets), None, workspace)
    assert record.status == "succeeded", record.reasons
    trained = load_run(workspace, record.id).model.state_dict()
    start = load_file(out / "model.safetensors")
    assert set(start) <= set(trained)
    assert max((trained[k].float() - v.float()).abs().max().item() for k, v in start.items()) < 1e-6


def test_bad_shape_exits_2_and_writes_nothing(workspace: Path) -> None:
    tiny_llama(workspace / "hf")
    out = workspace / "student"
    result = CliRunner().invoke(app, ["upcycle-surgery", str(workspace / "hf"), "--out", str(out), "--sem-dim", "8", "--geo-dim", "12"])
    assert result.exit_code == 2
    assert "geo_dim=12" in result.output and "Traceback" not in result.output
    assert not out.exists()
