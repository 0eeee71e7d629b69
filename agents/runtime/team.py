"""Teams, session folders and replays: what every process needs before a session starts.

A team is a list of (role, persona name); roles become ADK agent names, so each must
be a Python identifier other than ``user``, and unique. :func:`session_slug` names a
session's default folder after its title and a digest of its config;
:func:`replay_options` reads a recording's header back (its config, and its initial
budget, which the replay then follows call by call).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from typing import Any

from caramba.agents.errors import AgentSetupError
from caramba.agents.recording import read_recording
from caramba.agents.runtime.options import SessionOptions

ROLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def check_team(team: list[tuple[str, str]] | tuple[tuple[str, str], ...]) -> None:
    """Raise AgentSetupError for a role that cannot be an agent name, or a repeated one."""
    roles = [role for role, _ in team]
    for role in roles:
        if not ROLE.match(role) or role == "user":
            raise AgentSetupError(f"team role {role!r} is not a valid agent name",
                                  "use a Python identifier other than 'user' (letters, digits, _)")
    if len(set(roles)) != len(roles):
        raise AgentSetupError(f"team roles repeat: {', '.join(roles)}", "give each participant one role")


def session_slug(title: str, config: dict[str, Any]) -> str:
    """A folder name: the title's first words plus 8 hex digits of the config."""
    digest = hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:8]
    words = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:40].strip("-")
    return f"{words or 'session'}-{digest}"


def replay_options(options: SessionOptions) -> tuple[dict[str, Any], SessionOptions]:
    """The recorded session's config, and ``options`` with its initial budget."""
    if options.replay is None:
        raise ValueError("replay_options needs options.replay")
    header = read_recording(options.replay).header
    budget = header.get("budget") or {"usd": header.get("budget_usd"), "tokens": None}
    return header["config"], dataclasses.replace(options, budget_usd=budget.get("usd"),
                                                  budget_tokens=budget.get("tokens"))
