"""A static decode step through the fused kernels (``kv_store`` writes, ``kv_decode`` reads the device length).

The kernels run in Triton's interpreter on the CPU (compiled on a GPU); the reference is the
same static decode with PyTorch's masked SDPA, on a DBA model with GQA, a null key/value and
gates, whose 8-wide semantic/geometric heads are the narrow case.
"""

from __future__ import annotations

import pytest
import torch

from caramba.engine.infer import CachePolicy, StaticDecoder
from caramba.engine.infer.static import DecodePath
from caramba.kernels import dispatch
from caramba.kernels.dispatch import choose
from caramba.kernels.registry import OPS
from tests.kernels.conftest import DEVICE, Everywhere


def greedy(model: torch.nn.Module, prompt: torch.Tensor, policy: CachePolicy, kernel: bool, n: int) -> torch.Tensor:
    state = StaticDecoder(model, policy, prompt.shape[1] + n, DecodePath(True, False, kernel, "test"))
    token = state.prefill(prompt).argmax(-1, keepdim=True)
    out = [prompt, token]
    for _ in range(n - 1):
        token = state.step(token).argmax(-1, keepdim=True)
        out.append(token)
    return torch.cat(out, dim=1)


@pytest.mark.parametrize("kind", ["q4", "bf16"])
def test_static_kernel_steps_give_the_pytorch_tokens(kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.bench.test_static_decode import DBA_NULL_GATE, perturbed

    torch.manual_seed(0)
    model = perturbed(DBA_NULL_GATE).to(DEVICE)
    prompt = torch.randint(0, 97, (1, 5), generator=torch.Generator().manual_seed(4)).to(DEVICE)
    policy = CachePolicy(kind, 8)
    import caramba.kernels.kv_decode as package
    import caramba.kernels.kv_decode.store as store

    calls: list[str] = []
    fused, write = package.kv_decode, store.kv_store
    monkeypatch.setattr(package, "kv_decode", lambda *a, **k: calls.append("decode") or fused(*a, **k))
    monkeypatch.setattr(store, "kv_store", lambda *a, **k: calls.append("store") or write(*a, **k))
    with torch.no_grad():
        monkeypatch.setattr(dispatch, "plan", lambda: choose("cpu", None, False))
        ref = greedy(model, prompt, policy, False, 5)
        assert not calls
        monkeypatch.setattr(dispatch, "plan", lambda: Everywhere("cuda", frozenset(OPS)))
        got = greedy(model, prompt, policy, True, 5)
    assert calls.count("decode") == 2 * 4, "2 layers × 4 decode steps through kv_decode"
    assert calls.count("store") == (2 * 4 * 3 if kind == "q4" else 0), "q4: k_sem, k_geo, v written by kv_store"
    assert torch.equal(got, ref)
