"""Generation and sampling: greedy decode with a cache equals recomputation; filters keep what they should."""

from __future__ import annotations

import pytest
import torch

from caramba.engine.infer import CachePolicy, Sampling, generate
from caramba.engine.infer.sampling import filter_logits
from tests.bench.conftest import tiny_model


def test_greedy_with_a_cache_equals_recomputing_the_prefix() -> None:
    model, prompt = tiny_model("gqa"), torch.randint(0, 97, (2, 7), generator=torch.Generator().manual_seed(3))
    cached = generate(model, prompt, 12, policy=CachePolicy("fp32"))
    recomputed = generate(model, prompt, 12, policy=None)
    assert cached.shape == (2, 19) and torch.equal(cached, recomputed)
    assert torch.equal(cached[:, :7], prompt)


def test_sampling_is_seeded() -> None:
    model, prompt = tiny_model("standard"), torch.randint(0, 97, (1, 5))
    sampling = Sampling(temperature=1.5, top_k=3)
    first = generate(model, prompt, 10, sampling, CachePolicy("q8", 16), seed=7)
    assert torch.equal(first, generate(model, prompt, 10, sampling, CachePolicy("q8", 16), seed=7))


def test_top_k_and_top_p_filters() -> None:
    logits = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]]))
    kept = lambda s: torch.isfinite(filter_logits(logits, s))[0].tolist()  # noqa: E731
    assert kept(Sampling(1.0, top_k=2)) == [True, True, False, False]
    assert kept(Sampling(1.0, top_p=0.8)) == [True, True, False, False]       # 0.5 + 0.3 reaches 0.8
    assert kept(Sampling(1.0, top_p=0.81)) == [True, True, True, False]
    assert kept(Sampling(1.0, top_p=0.1)) == [True, False, False, False]      # the best token always stays


def test_eos_stops_generation() -> None:
    model, prompt = tiny_model("standard"), torch.randint(0, 97, (1, 4))
    greedy = generate(model, prompt, 6, policy=None)
    eos = int(greedy[0, 5])                                                  # the second generated token
    assert generate(model, prompt, 6, policy=None, eos=eos).shape[1] <= 6


@pytest.mark.parametrize("bad", [dict(temperature=-1.0), dict(temperature=0.0, top_k=5), dict(temperature=1.0, top_p=0.0)])
def test_invalid_sampling_is_rejected(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Sampling(**bad)  # type: ignore[arg-type]
