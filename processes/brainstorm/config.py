"""The settings of one brainstorm session (topic, team, rounds) and where they come from.

A team maps roles (agent names) to personas. The role ``moderator`` runs the session;
every other role is a participant and speaks in the team's order. From the command line
the participants are ``--personas a,b,c`` (each persona's name is its role) and the
moderator ``--moderator`` (research_lead by default); in a manifest, ``team:`` lists the
roles and must name a ``moderator``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from caramba.agents.errors import AgentSetupError
from caramba.agents.runtime.team import check_team, session_slug
from caramba.engine.manifest.processes import BrainstormProcess
from caramba.engine.manifest.targets import ProcessTarget

MODERATOR = "moderator"
DEFAULT_MODERATOR = "research_lead"
DEFAULT_PARTICIPANTS = ("architect", "ml_expert", "contrarian", "developer")


@dataclass(frozen=True)
class BrainstormConfig:
    """Everything that defines the session's content (a resumed or replayed session must match)."""

    topic: str
    team: tuple[tuple[str, str], ...]  # (role, persona), moderator first
    rounds: int = 2
    max_proposals: int = 3
    max_attempts: int = 3

    def __post_init__(self) -> None:
        if not self.team or self.team[0][0] != MODERATOR:
            raise AgentSetupError("a brainstorm team needs a `moderator` role", "add `moderator: research_lead` to team")
        if len(self.team) < 2:
            raise AgentSetupError("a brainstorm needs at least one participant besides the moderator",
                                  "list participants, e.g. --personas architect,ml_expert,contrarian")
        check_team(self.team)
        if self.rounds < 1 or self.max_proposals < 1 or self.max_attempts < 1:
            raise AgentSetupError("rounds, max_proposals and max_attempts must be at least 1", "pass --rounds 1 or more")

    @property
    def participants(self) -> list[str]:
        """Participant roles in speaking order."""
        return [role for role, _ in self.team[1:]]

    def to_json(self) -> dict[str, Any]:
        """JSON form (stored in the checkpoint and the recording header)."""
        return {**asdict(self), "team": [list(pair) for pair in self.team]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "BrainstormConfig":
        """Inverse of :meth:`to_json`."""
        return cls(**{**data, "team": tuple(tuple(pair) for pair in data["team"])})

    def slug(self) -> str:
        """The default session folder name (the topic's first words plus a digest)."""
        return session_slug(self.topic, self.to_json())

    @classmethod
    def from_command(cls, topic: str, personas: list[str] | None, moderator: str, rounds: int) -> "BrainstormConfig":
        """The config of ``caramba brainstorm`` (see the module docstring)."""
        participants = personas or list(DEFAULT_PARTICIPANTS)
        return cls(topic=topic, team=((MODERATOR, moderator), *((p, p) for p in participants)), rounds=rounds)

    @classmethod
    def from_target(cls, target: ProcessTarget) -> "BrainstormConfig":
        """The config of a manifest's process target (``team`` empty → the default team)."""
        process = target.process
        if not isinstance(process, BrainstormProcess):
            raise AgentSetupError(f"target {target.name!r} is a {process.type} process, not a brainstorm")
        if not target.team:
            return cls.from_command(process.topic, None, DEFAULT_MODERATOR, process.rounds)
        if MODERATOR not in target.team:
            raise AgentSetupError(f"target {target.name!r}: team has no `moderator` role (roles: {', '.join(target.team)})",
                                  "add `moderator: research_lead` to team")
        others = tuple((r, p) for r, p in target.team.items() if r != MODERATOR)
        return cls(topic=process.topic, team=((MODERATOR, target.team[MODERATOR]), *others), rounds=process.rounds)
