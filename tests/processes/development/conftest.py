"""Fixtures of the development-process tests: a workspace with real text and a tiny manifest.

The token file is Python's own ``textwrap.py`` and ``difflib.py``, byte-tokenised (real
text shipped with the interpreter); the starting manifest (``tiny_lm.yml``) is a
one-layer byte-level transformer trained for 16 steps on the CPU, with a learning rate
low enough that a variant can beat it. Memory recording is off (these tests are about
the loop; memory has its own tests).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "scripts" / "development.yml"
GOAL = "lower the validation loss of a small transformer on Python's stdlib source within the step budget"


def make_workspace(folder: Path) -> Path:
    """A workspace at ``folder`` holding ``data.npy``, ``tiny_lm.yml`` and a ``caramba.yml``."""
    import difflib
    import textwrap

    from caramba.engine.data.prepare import prepare
    from caramba.engine.data.tokenizers.byte import ByteTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    corpus = folder / "corpus.py"
    corpus.write_text(Path(textwrap.__file__).read_text() + Path(difflib.__file__).read_text())
    prepare(corpus, folder / "data.npy", ByteTokenizer())
    shutil.copy(HERE / "tiny_lm.yml", folder / "tiny_lm.yml")
    (folder / "caramba.yml").write_text("memory:\n  record_runs: false\n  record_sessions: false\n")
    return folder


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh workspace per test module (so run-store dedupe never crosses modules)."""
    return make_workspace(tmp_path_factory.mktemp("devws"))
