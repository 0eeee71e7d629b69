"""Every long phase honours cancellation within a second, with bounded memory.

The attack (issue #13): ``verify.batches: 2**63`` ran for 11 minutes at 2.2 GB and
ignored SIGTERM, because cancellation was polled only between training steps and the
held-out losses of every batch were kept. Here the flag a run's SIGTERM handler sets
(``caramba.engine.cancel.request``) is raised from another thread while verification
runs over 2**63 batches: each verifier must stop within a second, memory flat.
"""

from __future__ import annotations

import copy
import threading
import time

import psutil
import pytest

from caramba.engine import cancel
from caramba.engine.manifest.verify import CompareVerify, FidelityVerify, L1Thresholds
from caramba.engine.verify import run_verify
from tests.train.test_verify import _ctx, _parts


@pytest.fixture(autouse=True)
def _clear_flag() -> None:
    cancel.reset()
    yield
    cancel.reset()


@pytest.mark.parametrize("config", [  # constructed unvalidated: validation may cap batches, the loop must not rely on it
    FidelityVerify.model_construct(batches=2**63, max_delta_nll=1.0),
    CompareVerify.model_construct(batches=2**63, logits=L1Thresholds(max_mean_l1=1.0, max_max_l1=1.0)),
], ids=["fidelity", "compare"])
def test_verification_over_2_63_batches_stops_within_a_second_of_the_signal(config: object) -> None:
    model, data = _parts()
    process = psutil.Process()
    before = process.memory_info().rss
    started = time.perf_counter()
    timer = threading.Timer(1.5, cancel.request)
    timer.start()
    with pytest.raises(cancel.Cancelled, match="cancelled during verify|held-out evaluation") as caught:
        run_verify(config, _ctx(model, copy.deepcopy(model), data))  # type: ignore[arg-type]
    stopped = time.perf_counter() - started
    timer.join()
    assert 1.5 <= stopped < 2.5, stopped
    assert "of 9223372036854775808" in str(caught.value)
    assert process.memory_info().rss - before < 100 * 2**20  # streamed: no per-batch list growing
