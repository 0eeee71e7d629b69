"""Gates: named threshold checks collected into a verdict, with ``fail_fast`` semantics.

A verifier measures values and hands each one to :meth:`Gates.at_most` /
:meth:`Gates.at_least`. With ``fail_fast`` the first failure stops the verifier (later
gates are listed as skipped); without it every gate is evaluated before the verdict.
A failed verdict fails the run: its ``reasons`` become the run record's reasons.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


class StopVerifying(Exception):
    """Raised inside a verifier after a failed gate under ``fail_fast``."""


@dataclass
class Gate:
    """One check: ``value`` against ``limit`` in direction ``op`` (``<=`` or ``>=``)."""

    name: str
    value: float
    limit: float
    op: str
    passed: bool


@dataclass
class Verdict:
    """The outcome of one verification (``verify.json`` in the run's artifacts)."""

    type: str
    gates: list[Gate] = field(default_factory=list)
    measurements: dict[str, Any] = field(default_factory=dict)
    stopped_early: bool = False

    @property
    def passed(self) -> bool:
        """True when every evaluated gate passed."""
        return all(g.passed for g in self.gates)

    @property
    def reasons(self) -> list[str]:
        """One line per failed gate: what was measured and the limit it broke."""
        return [f"verify {self.type}: {g.name} = {g.value:.6g} (must be {g.op} {g.limit:g})" for g in self.gates if not g.passed]

    def to_json(self) -> dict[str, Any]:
        """JSON form with ``passed`` and ``reasons``."""
        return {"type": self.type, "passed": self.passed, "reasons": self.reasons, "stopped_early": self.stopped_early,
                "gates": [asdict(g) for g in self.gates], "measurements": self.measurements}


class Gates:
    """Collects gates into a :class:`Verdict` (see the module docstring)."""

    def __init__(self, kind: str, fail_fast: bool) -> None:
        self.verdict, self.fail_fast = Verdict(kind), fail_fast

    def at_most(self, name: str, value: float, limit: float | None) -> None:
        """Gate ``value <= limit`` (no gate when ``limit`` is None)."""
        if limit is not None:
            self._add(Gate(name, value, limit, "<=", value <= limit))

    def at_least(self, name: str, value: float, limit: float | None) -> None:
        """Gate ``value >= limit`` (no gate when ``limit`` is None)."""
        if limit is not None:
            self._add(Gate(name, value, limit, ">=", value >= limit))

    def _add(self, gate: Gate) -> None:
        self.verdict.gates.append(gate)
        if not gate.passed and self.fail_fast:
            self.verdict.stopped_early = True
            raise StopVerifying(gate.name)
