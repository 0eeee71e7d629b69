"""Fixtures of the memory tests: real engine runs in a throw-away workspace, real stores.

Training runs on one CPU thread (tiny models gain nothing from more). The memories this
process opened are closed at the end of each module, which stops the embedded FalkorDB.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch

torch.set_num_threads(1)


@pytest.fixture(scope="module", autouse=True)
def close_memories() -> Iterator[None]:
    """Close every memory the run hook opened in this process (stops the embedded database)."""
    yield
    from caramba.memory.hook import close_all

    close_all()
