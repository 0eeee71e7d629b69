"""The settings of one development session: the goal, where it starts, its budgets, its team.

A :class:`DevelopmentConfig` is everything that defines what a session does (a resumed
or replayed session must match it, so it is stored in the checkpoint and the recording
header). It comes from ``caramba develop`` (:meth:`DevelopmentConfig.from_command`) or
from a manifest's ``type: development`` process target (:meth:`from_target`), and is
checked by :func:`caramba.processes.development.inputs.check_inputs` before any model
call or run.

The team maps roles to personas: ``proposers`` plan variants (each speaks once per
iteration, in order) and fix the ones that fail validation; the ``analyst`` writes what
each iteration's results mean. Compute is budgeted in total training steps (pilots and
every seed counted) or in estimated GPU-hours (the dry run's training FLOPs divided by
``gpu_flops``, the sustained FLOP/s assumed for one GPU).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from caramba.agents.errors import AgentSetupError
from caramba.agents.runtime.team import check_team, session_slug

ANALYST = "analyst"
DEFAULT_PROPOSERS = ("architect", "ml_expert")
DEFAULT_ANALYST = "reviewer"
#: Sustained FLOP/s of one GPU assumed when compute is budgeted in GPU-hours (an H100 at
#: about 40% of its dense bf16 peak); override with ``gpu_flops``.
DEFAULT_GPU_FLOPS = 4.0e14


@dataclass(frozen=True)
class DevelopmentConfig:
    """Everything that defines a development session (see the module docstring)."""

    question: str
    start: str  # the starting manifest as given: a workspace-relative .yml path or a preset name
    start_text: str  # its YAML text when the session started (a resume or replay uses this, not the file)
    metric: str = "val_loss"
    direction: Literal["min", "max"] = "min"
    target: float | None = None
    seeds: int = 3
    team: tuple[tuple[str, str], ...] = (("architect", "architect"), ("ml_expert", "ml_expert"),
                                         (ANALYST, DEFAULT_ANALYST))
    iterations: int = 3
    patience: int = 2
    compute_steps: int | None = None
    compute_gpu_hours: float | None = None
    gpu_flops: float = DEFAULT_GPU_FLOPS
    wall_s: float | None = None
    pilot_fraction: float = 0.1
    pilot_min_steps: int = 5
    max_variants: int = 2
    max_fixes: int = 2
    approve: str | None = None  # None, "terminal" (a prompt) or "file" (answered through MCP develop_approve)
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.direction not in ("min", "max"):
            raise AgentSetupError(f"--direction {self.direction!r} is not min or max",
                                  "pass --direction min (lower is better, e.g. val_loss) or --direction max")
        if not self.team or self.team[-1][0] != ANALYST or len(self.team) < 2:
            raise AgentSetupError("a development team needs at least one proposer and an `analyst` role, last",
                                  "e.g. --personas architect,ml_expert --analyst reviewer")
        check_team(self.team)
        if self.approve not in (None, "terminal", "file"):
            raise AgentSetupError(f"approve {self.approve!r} is not terminal or file", "use --approve on the command line")
        for name, value in (("seeds", self.seeds), ("iterations", self.iterations), ("patience", self.patience),
                            ("max_variants", self.max_variants), ("pilot_min_steps", self.pilot_min_steps)):
            if value < 1:
                raise AgentSetupError(f"{name} is {value}; it must be at least 1", f"pass --{name.replace('_', '-')} 1 or more")
        if not 0 < self.pilot_fraction < 1:
            raise AgentSetupError(f"pilot_fraction {self.pilot_fraction} is not between 0 and 1",
                                  "use e.g. 0.1 (a pilot trains a tenth of the steps)")
        if self.compute_steps is not None and self.compute_gpu_hours is not None:
            raise AgentSetupError("both --compute-steps and --compute-gpu-hours were given", "budget compute in one unit")
        for name, value in (("compute_steps", self.compute_steps), ("compute_gpu_hours", self.compute_gpu_hours),
                            ("wall_s", self.wall_s)):
            if value is not None and value <= 0:
                raise AgentSetupError(f"{name} is {value}; a budget must be positive", f"pass a positive --{name.replace('_', '-')}")

    @property
    def proposers(self) -> list[str]:
        """The roles that propose variants, in speaking order."""
        return [role for role, _ in self.team if role != ANALYST]

    def to_json(self) -> dict[str, Any]:
        """JSON form (stored in the checkpoint and the recording header)."""
        return {**asdict(self), "team": [list(pair) for pair in self.team]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "DevelopmentConfig":
        """Inverse of :meth:`to_json`."""
        return cls(**{**data, "team": tuple(tuple(pair) for pair in data["team"])})

    def slug(self) -> str:
        """The default session folder name (the question's first words plus a digest)."""
        return session_slug(self.question, self.to_json())

    @staticmethod
    def team_of(personas: list[str] | None, analyst: str | None) -> tuple[tuple[str, str], ...]:
        """Proposer roles named after their personas, then the analyst."""
        proposers = personas or list(DEFAULT_PROPOSERS)
        return (*((p, p) for p in proposers), (ANALYST, analyst or DEFAULT_ANALYST))
