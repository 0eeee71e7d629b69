"""DBA surgery on a random tiny Hugging Face Llama (GQA): shared weights copied exactly,
the teacher's logits reproduced when every RoPE pair stays geometric, the partial-RoPE
attention logits reproduced at full semantic rank, and the reported kept energy equal to
the truncated-SVD optimum computed here independently (numpy, explicit d×d forms)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from caramba.engine.upcycle import SurgeryError, surgery

H, KV, D, HD, BASE = 4, 2, 64, 16, 5000.0


@pytest.fixture(scope="module")
def teacher(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, torch.nn.Module]:
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=97, hidden_size=D, intermediate_size=96, num_hidden_layers=2, num_attention_heads=H,
                         num_key_value_heads=KV, rope_theta=BASE, max_position_embeddings=64, tie_word_embeddings=False)
    model = LlamaForCausalLM(config).eval()
    folder = tmp_path_factory.mktemp("llama")
    model.save_pretrained(folder)
    return folder, model


def reference_logits(model: torch.nn.Module, x: torch.Tensor, geo_pairs: int) -> torch.Tensor:
    """Teacher layer-0 scores (B, H, T, T) with RoPE on the first ``geo_pairs`` pairs only (rotate-half, by hand)."""
    attn = model.model.layers[0].self_attn
    b, t, _ = x.shape
    q = attn.q_proj(x).view(b, t, H, HD).transpose(1, 2).double()
    k = attn.k_proj(x).view(b, t, KV, HD).transpose(1, 2).repeat_interleave(H // KV, dim=1).double()
    theta = BASE ** (-torch.arange(0, HD, 2, dtype=torch.float64) / HD)
    theta[geo_pairs:] = 0.0  # pairs moved to the semantic path keep no rotation
    angle = torch.arange(t, dtype=torch.float64)[:, None] * torch.cat([theta, theta])[None]

    def rotate(v: torch.Tensor) -> torch.Tensor:
        return v * angle.cos() + torch.cat([-v[..., HD // 2:], v[..., :HD // 2]], dim=-1) * angle.sin()

    return rotate(q) @ rotate(k).transpose(-1, -2) / math.sqrt(HD)


def student_logits(student: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    layer = student.topology.layers[0].layers[0].layers[1]
    q_sem, q_geo, k_sem, k_geo, _ = layer.project(x, 0)
    rep = H // KV
    k_sem, k_geo = k_sem.repeat_interleave(rep, dim=1), k_geo.repeat_interleave(rep, dim=1)
    return (q_sem @ k_sem.transpose(-1, -2) / math.sqrt(layer.sem_head) + q_geo @ k_geo.transpose(-1, -2) / math.sqrt(layer.geo_head)).double()


def test_all_pairs_geometric_reproduces_the_teacher(teacher: tuple[Path, torch.nn.Module]) -> None:
    folder, model = teacher
    done = surgery(folder, sem_dim=H * 2, geo_dim=D, gate=True)
    ids = torch.randint(0, 97, (2, 13), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        err = (done.student(ids) - model(ids).logits).abs().max().item()
    assert err <= 1e-4, f"student logits differ from the teacher's by {err:.3g}"
    assert all(r.kept == pytest.approx(1.0) for r in done.report)


def test_shared_weights_are_copied_exactly(teacher: tuple[Path, torch.nn.Module]) -> None:
    folder, model = teacher
    student = surgery(folder, sem_dim=H * 3, geo_dim=H * 4).student
    hf = model.state_dict()
    blocks = student.topology.layers[0].layers
    assert torch.equal(student.embedder.table.weight, hf["model.embed_tokens.weight"])
    assert torch.equal(student.topology.layers[2].proj.weight, hf["lm_head.weight"])
    assert torch.equal(student.topology.layers[1].weight, hf["model.norm.weight"])
    for i in range(2):
        att, mlp = blocks[2 * i].layers, blocks[2 * i + 1].layers
        assert torch.equal(att[0].weight, hf[f"model.layers.{i}.input_layernorm.weight"])
        assert torch.equal(att[1].v_proj.weight, hf[f"model.layers.{i}.self_attn.v_proj.weight"])
        assert torch.equal(att[1].o_proj.weight, hf[f"model.layers.{i}.self_attn.o_proj.weight"])
        assert torch.equal(mlp[0].weight, hf[f"model.layers.{i}.post_attention_layernorm.weight"])
        for ours, theirs in (("gate", "gate_proj"), ("up", "up_proj"), ("down", "down_proj")):
            assert torch.equal(getattr(mlp[1], ours).weight, hf[f"model.layers.{i}.mlp.{theirs}.weight"])


def test_full_semantic_rank_reproduces_partial_rope_logits(teacher: tuple[Path, torch.nn.Module]) -> None:
    folder, model = teacher
    geo_pairs = 2
    done = surgery(folder, sem_dim=H * (HD - 2 * geo_pairs), geo_dim=H * 2 * geo_pairs)
    x = torch.randn(2, 12, D, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        err = (student_logits(done.student, x) - reference_logits(model, x, geo_pairs)).abs().max().item()
    assert err <= 1e-4, f"attention logits differ by {err:.3g}"
    assert done.report[0].semantic_kept == pytest.approx(1.0)
    assert done.report[0].dropped_frequency == pytest.approx(BASE ** (-2 * geo_pairs / HD))


def test_reduced_rank_keeps_the_svd_optimum(teacher: tuple[Path, torch.nn.Module]) -> None:
    folder, model = teacher
    rank, geo_pairs = 3, 2
    done = surgery(folder, sem_dim=H * rank, geo_dim=H * 2 * geo_pairs)
    sem = [i for i in range(HD) if i % (HD // 2) >= geo_pairs]
    geo = [i for i in range(HD) if i % (HD // 2) < geo_pairs]
    layer = done.student.topology.layers[0].layers[2].layers[1]  # block 1's attention
    attn = model.model.layers[1].self_attn
    wq = attn.q_proj.weight.detach().double().numpy().reshape(H, HD, D)
    wk = attn.k_proj.weight.detach().double().numpy().reshape(KV, HD, D)
    sq = layer.q_sem.weight.detach().double().numpy().reshape(H, rank, D) * math.sqrt(HD / rank)
    sk = layer.k_sem.weight.detach().double().numpy().reshape(KV, rank, D)
    kept = total = residual = geo_energy = 0.0
    for g in range(KV):
        heads = range(g * H // KV, (g + 1) * H // KV)
        stacked = np.concatenate([wq[h, sem].T @ wk[g, sem] for h in heads])  # (G·d, d) bilinear forms
        sigma = np.linalg.svd(stacked, compute_uv=False)
        kept, total = kept + (sigma[:rank] ** 2).sum(), total + (sigma ** 2).sum()
        approx = np.concatenate([sq[h].T @ sk[g] for h in heads])
        residual += ((stacked - approx) ** 2).sum()
        geo_energy += sum(((wq[h, geo].T @ wk[g, geo]) ** 2).sum() for h in heads)
    report = done.report[1]
    assert report.semantic_kept == pytest.approx(kept / total, rel=1e-6)
    assert report.semantic_kept < 0.99  # a real truncation, not a full-rank case
    assert residual == pytest.approx(total - kept, rel=1e-5)  # the student's forms ARE the optimum
    assert report.kept == pytest.approx((geo_energy + kept) / (geo_energy + total), rel=1e-6)


@pytest.mark.parametrize("sem_dim,geo_dim,words", [(8, 4 * 3, "even per-head width"), (8, 4 * 18, "even per-head width"),
                                                   (6, 8, "multiple of n_heads")])
def test_bad_shapes_are_refused(teacher: tuple[Path, torch.nn.Module], sem_dim: int, geo_dim: int, words: str) -> None:
    with pytest.raises(SurgeryError, match=words):
        surgery(teacher[0], sem_dim=sem_dim, geo_dim=geo_dim)


@pytest.mark.parametrize("scaling", [None, {"type": "linear", "factor": 2.0},
                                     {"type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                      "original_max_position_embeddings": 16}])
def test_geometric_rope_keeps_the_teachers_highest_frequencies(scaling: dict | None) -> None:
    from caramba.engine.model.layers.rope import inverse_frequencies

    for geo_head in (2, 4, 8):
        student = inverse_frequencies(geo_head, BASE ** (geo_head / HD), scaling)
        assert torch.allclose(student, inverse_frequencies(HD, BASE, scaling)[:geo_head // 2], rtol=1e-6, atol=0)


def test_tied_mqa_llama3_teacher_is_reproduced(tmp_path: Path) -> None:
    """One key/value head for all queries, a tied head and llama3 RoPE scaling survive the surgery."""
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(1)
    scaling = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
               "original_max_position_embeddings": 16}
    model = LlamaForCausalLM(LlamaConfig(vocab_size=97, hidden_size=D, intermediate_size=96, num_hidden_layers=1,
                                         num_attention_heads=H, num_key_value_heads=1, rope_theta=BASE, rope_scaling=scaling,
                                         tie_word_embeddings=True, max_position_embeddings=64)).eval()
    model.save_pretrained(tmp_path)
    student = surgery(tmp_path, sem_dim=H * 2, geo_dim=D, gate=True).student
    assert student.topology.layers[2].proj.weight is student.embedder.table.weight
    ids = torch.randint(0, 97, (2, 24), generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        assert (student(ids) - model(ids).logits).abs().max().item() <= 1e-4


def test_narrow_value_path_is_the_svd_optimum_in_the_forward(teacher: tuple[Path, torch.nn.Module]) -> None:
    """v_dim < d_model: the layer's output equals Σ_h A_h·X·M̂_hᵀ with M̂ numpy's rank-r truncation of
    the stacked [W_O,h·W_V,g] per group (all RoPE pairs geometric so A is the teacher's attention)."""
    folder, model = teacher
    rank = HD // 4
    done = surgery(folder, sem_dim=H * 2, geo_dim=D, v_dim=H * rank)
    attn = model.model.layers[0].self_attn
    wv = attn.v_proj.weight.detach().double().numpy().reshape(KV, HD, D)
    wo = attn.o_proj.weight.detach().double().numpy().reshape(D, H, HD)
    x = torch.randn(1, 10, D, generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        scores = reference_logits(model, x, HD // 2)[0]
    probs = scores.masked_fill(torch.ones(10, 10, dtype=torch.bool).triu(1), float("-inf")).softmax(-1).numpy()
    want, kept, total = np.zeros((10, D)), 0.0, 0.0
    for g in range(KV):
        heads = list(range(g * H // KV, (g + 1) * H // KV))
        stacked = np.concatenate([wo[:, h] @ wv[g] for h in heads])
        u, sigma, vt = np.linalg.svd(stacked)
        best = (u[:, :rank] * sigma[:rank]) @ vt[:rank]
        kept, total = kept + (sigma[:rank] ** 2).sum(), total + (sigma ** 2).sum()
        for n, h in enumerate(heads):
            want += probs[h] @ (x[0].double().numpy() @ best[n * D:(n + 1) * D].T)
    layer = done.student.topology.layers[0].layers[0].layers[1]
    with torch.no_grad():
        got = layer(x)[0].double().numpy()
    assert np.abs(got - want).max() <= 1e-4
    assert done.report[0].value_kept == pytest.approx(kept / total, rel=1e-6) and done.report[0].value_kept < 0.99
    assert done.kv_ratio == pytest.approx((H * 2 + D + H * rank) / (2 * H * HD))
