"""Every preset's header says the question it answers and how long it takes on a CPU and on a GPU.

The header is the leading comment block of ``presets/<name>.yml`` (what `caramba init
--template NAME` copies and `caramba presets` lists): its first line names the preset,
then ``# Question: …?`` (one line) and ``# Time: …`` (which may continue over the
following comment lines until the next blank ``#`` line) naming both CPU and GPU.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PRESETS = sorted((Path(__file__).resolve().parents[2] / "presets").glob("*.yml"))


def header(path: Path) -> list[str]:
    """The preset's leading comment lines, without the ``# `` prefix."""
    lines = []
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            break
        lines.append(line[1:].strip())
    return lines


def test_there_are_presets() -> None:
    assert len(PRESETS) >= 10


@pytest.mark.parametrize("path", PRESETS, ids=lambda p: p.stem)
def test_the_header_gives_the_question_and_the_time(path: Path) -> None:
    lines = header(path)
    assert lines and lines[0].startswith(path.stem), f"{path.name}: the first line should name the preset"
    questions = [line for line in lines if line.startswith("Question:")]
    assert len(questions) == 1 and re.fullmatch(r"Question: \S.{10,}\?", questions[0]), (
        f"{path.name}: add one line '# Question: <the question this preset answers>?'")
    start = next((i for i, line in enumerate(lines) if line.startswith("Time:")), None)
    assert start is not None, f"{path.name}: add '# Time: CPU …; GPU …' (how long a run takes on each)"
    end = next((i for i in range(start + 1, len(lines)) if not lines[i]), len(lines))
    time = " ".join(lines[start:end])
    assert "CPU" in time and "GPU" in time and re.search(r"\d", time), (
        f"{path.name}: the Time line should say how long it takes on a CPU and on a GPU, with numbers: {time!r}")
