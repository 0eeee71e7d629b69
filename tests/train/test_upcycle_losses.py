"""The distillation objectives against references written here, on Python's own stdlib sources.

* global KD: the loss of Hinton, Vinyals & Dean (2015) computed by hand with torch primitives
  (exp, log, sums): alpha·τ²·Σ_v p_v (log p_v − log q_v) / N + (1 − alpha)·CE, where
  p = softmax(z_T/τ), q = softmax(z_S/τ);
* blockwise: the teacher run by hand residual by residual (no ``Blocks`` helper), the
  student's block i output after a hand-run prefix, and the mean squared difference — with
  the teacher cache and without; the cache runs the teacher once per batch for all blocks.
"""

from __future__ import annotations

import torch

from caramba.engine.hf import build_model
from caramba.engine.upcycle.distill import BlockwiseObjective, GlobalObjective, KeyedDataset, TeacherCache
from tests.train.gpt_reference import stdlib_bytes

D, HEADS, KV, LAYERS = 32, 4, 2, 2


def llama(mode: str, seed: int) -> torch.nn.Module:
    """A Llama-shaped caramba model (GQA teacher or DBA student) with random weights."""
    attention = {"type": "AttentionLayer", "d_model": D, "n_heads": HEADS, "n_kv_heads": KV, "mode": mode}
    if mode == "decoupled":
        attention.update(sem_dim=8, geo_dim=8)
    norm = {"type": "RMSNormLayer", "d_model": D}
    torch.manual_seed(seed)
    return build_model({"type": "TransformerModel", "embedder": {"type": "token", "vocab_size": 256, "d_model": D},
                        "topology": {"type": "StackedTopology", "layers": [
                            {"type": "NestedTopology", "repeat": LAYERS, "layers": [
                                {"type": "ResidualTopology", "layers": [norm, attention]},
                                {"type": "ResidualTopology", "layers": [norm, {"type": "SwiGLULayer", "d_model": D, "d_ff": 64}]}]},
                            norm, {"type": "LinearLayer", "d_in": D, "d_out": 256}]}})


class Text:
    """Byte windows of the stdlib sources: batch ``index`` of a split (the dataset contract)."""

    def __init__(self) -> None:
        self.tokens = torch.from_numpy(stdlib_bytes(40_000).astype("int64"))

    def batch(self, split: str, index: int, batch_size: int) -> dict[str, torch.Tensor]:
        start = (index * batch_size * 33 + (20_000 if split == "val" else 0)) % 19_000
        rows = torch.stack([self.tokens[start + 33 * r: start + 33 * r + 33] for r in range(batch_size)])
        return {"inputs": rows[:, :-1], "targets": rows[:, 1:]}

    def split_size(self, split: str) -> int:
        return 100


def hand_block_outputs(model: torch.nn.Module, ids: torch.Tensor) -> list[torch.Tensor]:
    """Every block's output, running the residuals one by one: h ← h + f(h)."""
    h = model.embedder(ids)
    residuals = list(model.topology.layers[0].layers)
    outs = []
    for k, residual in enumerate(residuals):
        branch = h
        for layer in residual.layers:
            branch = layer(branch)
        h = h + branch
        if k % 2 == 1:
            outs.append(h)
    return outs


def test_global_kd_loss_is_hintons_formula_by_hand() -> None:
    teacher, student = llama("gqa", 0).eval(), llama("decoupled", 1)
    batch = Text().batch("train", 0, 4)
    tau, alpha = 2.5, 0.3
    result = GlobalObjective(teacher, tau, alpha, [], 0.0)(student, batch)
    with torch.no_grad():
        zt, zs = teacher(batch["inputs"]).double(), student(batch["inputs"]).double()
        p = torch.exp(zt / tau) / torch.exp(zt / tau).sum(-1, keepdim=True)
        q = torch.exp(zs / tau) / torch.exp(zs / tau).sum(-1, keepdim=True)
        kl = (p * (torch.log(p) - torch.log(q))).sum(-1).mean()
        probs = torch.exp(zs) / torch.exp(zs).sum(-1, keepdim=True)
        ce = -torch.log(probs.gather(-1, batch["targets"].unsqueeze(-1))).mean()
        want = alpha * tau ** 2 * kl + (1 - alpha) * ce
    assert kl > 0.01  # the two random models disagree: the check has something to measure
    assert abs(result.loss.item() - want.item()) < 1e-4 * want.item(), (result.loss.item(), want.item())
    assert abs(result.metrics["kl"].item() - kl.item()) < 1e-5 and abs(result.metrics["ce"].item() - ce.item()) < 1e-4
    result.loss.backward()  # the KD term reaches the student's parameters
    assert all(p.grad is not None for p in student.parameters())
    assert all(p.grad is None for p in teacher.parameters())


def test_global_intermediate_matching_adds_the_weighted_block_mse() -> None:
    teacher, student = llama("gqa", 0).eval(), llama("decoupled", 1)
    batch = Text().batch("train", 1, 4)
    plain = GlobalObjective(teacher, 1.0, 0.5, [], 0.0)(student, batch).loss.item()
    mixed = GlobalObjective(teacher, 1.0, 0.5, [0, 1], 0.7)(student, batch).loss.item()
    with torch.no_grad():
        t, s = hand_block_outputs(teacher, batch["inputs"]), hand_block_outputs(student, batch["inputs"])
        inter = sum(((a - b) ** 2).mean() for a, b in zip(s, t)) / 2
    assert abs(mixed - (plain + 0.7 * inter.item())) < 1e-4


def test_blockwise_loss_is_the_hand_run_block_mse_with_and_without_the_cache() -> None:
    teacher, student = llama("gqa", 0).eval(), llama("decoupled", 1)
    data = Text()
    keyed = KeyedDataset(data)
    cache = TeacherCache(teacher, "block", capacity=8)
    for index in range(LAYERS):
        for number in range(3):
            plain = data.batch("train", number, 4)
            with torch.no_grad():
                want = ((hand_block_outputs(student, plain["inputs"])[index]
                         - hand_block_outputs(teacher, plain["inputs"])[index]) ** 2).mean()
            uncached = BlockwiseObjective(teacher, index, "block", "mse", None)(student, plain).loss
            cached = BlockwiseObjective(teacher, index, "block", "mse", cache)(student, keyed.batch("train", number, 4)).loss
            assert abs(uncached.item() - want.item()) < 1e-5 * max(1.0, want.item())
            assert abs(cached.item() - want.item()) < 1e-5 * max(1.0, want.item())
    assert (cache.misses, cache.hits) == (3, 3)  # the teacher ran once per batch, for both blocks
    assert cache.nbytes() == 3 * LAYERS * 4 * 32 * D * 4


def test_blockwise_trains_only_its_block_and_stops_the_forward_there() -> None:
    teacher, student = llama("gqa", 0).eval(), llama("decoupled", 1)
    batch = Text().batch("train", 0, 4)
    result = BlockwiseObjective(teacher, 0, "attention", "cosine", None)(student, batch)
    result.loss.backward()
    touched = {n.split(".")[4] for n, p in student.named_parameters() if p.grad is not None and n.startswith("topology.layers.0.")}
    assert touched == {"0"}  # block 0's attention residual only: the MLP residual and block 1 never ran
    assert student.embedder.table.weight.grad is None


def test_a_full_cache_keeps_its_first_batches_for_every_block() -> None:
    """Blocks scan batches 0, 1, 2 … in turn: a cache of 2 must still serve 2 of 3 batches to block 2."""
    teacher = llama("gqa", 0).eval()
    keyed, cache = KeyedDataset(Text()), TeacherCache(teacher, "block", capacity=2)
    for index in range(LAYERS):
        objective = BlockwiseObjective(teacher, index, "block", "mse", cache)
        for number in range(3):
            objective.teacher_activation(keyed.batch("train", number, 4))
    assert (cache.misses, cache.hits, len(cache.entries)) == (4, 2, 2)

