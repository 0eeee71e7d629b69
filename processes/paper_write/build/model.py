"""The results a paper may state: :class:`ResultSet` of :class:`Quantity`, :class:`ComparisonClaim`, tables and figures.

A :class:`ResultSet` is made by :func:`~caramba.processes.paper_write.build.collect.collect_results`
from the run store and nothing else; ``results.tex`` turns it into LaTeX macros
(``\\res{key}``, ``\\cmp{key}``) and ``provenance.json`` maps each of them back to its runs.

Keys are slugs (``[a-z0-9-]``): ``<arm>-<metric>`` for a metric (``gqa-ppl`` →
``72.08 \\pm 0.79``), ``<b>-vs-<a>-<metric>`` for a difference B − A with its CI, and
plain names for counts and setup facts (``n-seeds``, ``mha-steps``). The full list is in
the docstring of :mod:`~caramba.processes.paper_write.build.quantities`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

QuantityKind = Literal["metric", "difference", "ratio", "count", "setup"]


@dataclass(frozen=True)
class Quantity:
    """One number (or number ± spread) a paper may state, and the runs it comes from.

    ``latex`` is math-mode content (``72.08 \\pm 0.79``); ``values`` are exactly the
    numbers it shows, as floats (``(72.08, 0.79)``), which the provenance check compares
    typed literals against; ``exact`` is the unrounded value behind it (a mean, a
    difference, a count); ``text`` is ``latex`` as plain text (``72.08 ± 0.79``).
    """

    key: str
    latex: str
    values: tuple[float, ...]
    unit: str
    run_ids: tuple[str, ...]
    manifest_hashes: tuple[str, ...]
    kind: QuantityKind
    description: str = ""
    exact: float | None = None

    @property
    def text(self) -> str:
        """The quantity as a reader sees it (``72.08 ± 0.79``)."""
        return self.latex.replace(r"\pm", "±").replace(r"\times", "×").replace("{,}", ",").replace("\\,", "")

    def to_json(self) -> dict[str, Any]:
        """The quantity as a JSON-ready dict (``text`` included)."""
        return {**asdict(self), "text": self.text}


@dataclass(frozen=True)
class ComparisonClaim:
    """B − A on one metric with its 95% CI and Welch's test: what ``\\cmp{key}`` states.

    ``arms`` is (A, B): A is the baseline, the difference is B − A. ``significant`` is
    None when there was no test (fewer than two seeds). ``latex`` is the rendered
    difference with its CI (``-2.07\\ [-6.96, 2.82]``); ``values`` the numbers it shows.
    """

    key: str
    arms: tuple[str, str]
    metric: str
    difference: float
    ci_low: float | None
    ci_high: float | None
    p: float | None
    significant: bool | None
    run_ids: tuple[str, ...]
    manifest_hashes: tuple[str, ...] = ()
    test: str = "welch"
    latex: str = ""
    values: tuple[float, ...] = ()
    unit: str = ""

    @property
    def ci_includes_zero(self) -> bool:
        """True when the 95% CI contains 0 (or there is no CI): the data do not show a difference."""
        if self.ci_low is None or self.ci_high is None:
            return True
        return self.ci_low <= 0.0 <= self.ci_high

    @property
    def text(self) -> str:
        """The difference and its CI as plain text (``-2.07 [-6.96, 2.82]``)."""
        return self.latex.replace("\\ ", " ").replace("{,}", ",")

    def to_json(self) -> dict[str, Any]:
        """The claim as a JSON-ready dict (``text`` and ``ci_includes_zero`` included)."""
        return {**asdict(self), "text": self.text, "ci_includes_zero": self.ci_includes_zero}


@dataclass(frozen=True)
class TableFile:
    """A booktabs table (``.tex``) made by the comparison code, its label, runs and the numbers it shows."""

    path: Path
    label: str
    run_ids: tuple[str, ...]
    manifest_hashes: tuple[str, ...]
    description: str = ""


@dataclass(frozen=True)
class FigureFile:
    """A PDF figure made by the comparison code, the label and caption the paper gives it, and its runs."""

    path: Path
    label: str
    caption: str
    run_ids: tuple[str, ...]
    manifest_hashes: tuple[str, ...]


@dataclass(frozen=True)
class RunFacts:
    """What the record says about one run: its arm and seed, budget, data, model size, hardware and software."""

    run_id: str
    arm: str
    seed: int | None
    manifest_name: str
    manifest_hash: str
    steps: int
    batch_size: int | None
    block_size: int | None
    lr: float | None
    parameters: int | None
    data: str
    tokenizer: str | None
    started: str | None
    finished: str | None
    environment: dict[str, Any] = field(default_factory=dict)

    @property
    def train_tokens(self) -> int | None:
        """Tokens the run trained on: steps × batch × block (None when unknown)."""
        if self.batch_size is None or self.block_size is None:
            return None
        return self.steps * self.batch_size * self.block_size


@dataclass
class ResultSet:
    """Everything a paper may state about its experiments, each item traced to run ids and manifest hashes.

    ``source`` says where it came from (``manifest``, ``runs`` or ``session``);
    ``manifests`` maps each manifest hash to ``(name, path of its YAML)`` — the original
    file when the source was a manifest, else the resolved copy in the first run's
    folder; ``commands`` are the exact ``caramba`` commands that reproduce the runs and
    the comparison; ``comparison`` is the engine's own analysis (``Comparison``).
    """

    quantities: dict[str, Quantity]
    comparisons: dict[str, ComparisonClaim]
    tables: list[TableFile]
    figures: list[FigureFile]
    runs: list[RunFacts]
    source: str
    question: str = ""
    primary: str = ""
    baseline: str = ""
    arms: dict[str, tuple[str, ...]] = field(default_factory=dict)
    arm_notes: dict[str, str] = field(default_factory=dict)
    manifests: dict[str, tuple[str, Path]] = field(default_factory=dict)
    commands: list[str] = field(default_factory=list)
    comparison: Any = None

    @property
    def run_ids(self) -> list[str]:
        """Every run of the result set, arm by arm."""
        return [r for runs in self.arms.values() for r in runs]

    def quantity(self, key: str) -> Quantity:
        """The quantity ``key``; a ``KeyError`` naming the closest keys otherwise."""
        if key not in self.quantities:
            raise KeyError(unknown_key(key, list(self.quantities) + list(self.comparisons)))
        return self.quantities[key]


def unknown_key(key: str, known: list[str]) -> str:
    """``no result 'x'; closest: a, b`` — the message for a key results.tex does not define."""
    import difflib

    close = difflib.get_close_matches(key, known, n=3, cutoff=0.5)
    return f"no result {key!r}" + (f"; closest: {', '.join(close)}" if close else "")
