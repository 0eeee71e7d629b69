"""Hugging Face parity: tiny random Llama (GQA, llama3 RoPE, tied/untied) and GPT-2 models
saved locally load through caramba.load_pretrained with logits within 1e-5 (float32)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import caramba
from caramba.engine.hf import CheckpointError, export_hf, import_hf
from caramba.engine.compiler import check

LLAMA3 = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 16}


def tiny_llama(tmp: Path, tied: bool, scaling: dict | None) -> torch.nn.Module:
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=97, hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=4,
                         num_key_value_heads=2, rope_theta=5000.0, rope_scaling=scaling, tie_word_embeddings=tied,
                         max_position_embeddings=64)
    model = LlamaForCausalLM(config).eval()
    model.save_pretrained(tmp)
    return model


def tiny_gpt2(tmp: Path) -> torch.nn.Module:
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(vocab_size=97, n_positions=32, n_embd=32, n_layer=2, n_head=4)).eval()
    model.save_pretrained(tmp)
    return model


def assert_parity(reference: torch.nn.Module, folder: Path) -> torch.nn.Module:
    ours = caramba.load_pretrained(str(folder))
    ids = torch.randint(0, 97, (2, 11), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        want, got = reference(ids).logits, ours(ids)
    err = (got - want).abs().max().item()
    assert err <= 1e-5, f"max abs logit error {err:.3g}"
    return ours


@pytest.mark.parametrize("tied,scaling", [(False, None), (True, LLAMA3), (False, {"rope_type": "linear", "factor": 2.0})])
def test_llama_logits_match(tmp_path: Path, tied: bool, scaling: dict | None) -> None:
    ours = assert_parity(tiny_llama(tmp_path, tied, scaling), tmp_path)
    head, table = ours.topology.layers[2].proj.weight, ours.embedder.table.weight
    assert (head is table) == tied


def test_gpt2_logits_match(tmp_path: Path) -> None:
    assert_parity(tiny_gpt2(tmp_path), tmp_path)


@pytest.mark.parametrize("family", ["llama", "gpt2"])
def test_import_writes_a_valid_manifest_and_exports_back(tmp_path: Path, family: str) -> None:
    source = tmp_path / "hf"
    reference = tiny_llama(source, True, LLAMA3) if family == "llama" else tiny_gpt2(source)
    imported = tmp_path / "imported"
    manifest = import_hf(source, imported)
    report = check(manifest)
    assert report.ok, [e.render() for e in report.errors]
    exported = export_hf(imported, tmp_path / "exported")
    from transformers import AutoModelForCausalLM

    again = AutoModelForCausalLM.from_pretrained(exported).eval()
    ids = torch.randint(0, 97, (1, 9))
    with torch.no_grad():
        assert (again(ids).logits - reference(ids).logits).abs().max() <= 1e-5


def test_hf_uri_outside_the_cache_fails_clearly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("caramba.engine.hf.checkpoint.hub_cache", lambda: tmp_path)
    with pytest.raises(CheckpointError, match="not in the local Hugging Face cache"):
        caramba.load_pretrained("hf://org/missing-model")
    snapshot = tmp_path / "models--org--tiny" / "snapshots" / "abc123"
    tiny_gpt2(snapshot)
    (tmp_path / "models--org--tiny" / "refs").mkdir()
    (tmp_path / "models--org--tiny" / "refs" / "main").write_text("abc123")
    assert caramba.load_pretrained("hf://org/tiny")(torch.zeros(1, 3, dtype=torch.long)).shape == (1, 3, 97)
