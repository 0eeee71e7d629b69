"""Persona files (``personas/<name>.yml``): who an agent is, what it may use.

A persona is a name, a role, an instruction (the system prompt, in the persona's own
voice), an optional model (a LiteLLM model string, ``api_base``, ``temperature``), the
allow-list of caramba MCP tools it may call and an optional output schema. Files are
validated like manifests: unknown keys are errors with a did-you-mean.

Lookup order for a persona name: ``<workspace>/personas/<name>.yml`` first (a project's
own personas, or a customised copy), then the personas shipped with caramba.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from caramba.agents.errors import AgentSetupError
from caramba.agents.yamlfile import load_strict

#: The personas shipped with caramba.
BUILTIN_DIR = Path(__file__).resolve().parents[1] / "personas"
IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_]*$"


class Persona(BaseModel):
    """One persona file (see the module docstring)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=IDENTIFIER, description="the file's stem; a Python identifier")
    role: str = Field(min_length=1, description="one line: what this persona does in a team")
    instruction: str = Field(min_length=20, description="the system prompt, written in the persona's voice")
    model: str | None = Field(default=None, description="LiteLLM model string (openai/…, anthropic/…, "
                                                        "ollama_chat/…); default: the workspace's llm.model")
    api_base: str | None = Field(default=None, description="OpenAI-compatible server URL for this persona's model")
    api_key_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
                                    description="environment variable holding this persona's API key (its name)")
    price_per_mtok: tuple[float, float] | None = Field(default=None, description="[input, output] USD per million "
                                                                                 "tokens when LiteLLM has no price")
    temperature: float | None = Field(default=None, ge=0.0, le=2.0, description="sampling temperature")
    tools: list[str] = Field(default_factory=list, description="caramba MCP tools this persona may call")
    output_schema: dict[str, Any] | None = Field(default=None, description="JSON Schema of the final answer")


def persona_dirs(workspace: Path) -> list[Path]:
    """Folders searched for persona files, in order."""
    return [workspace / "personas", BUILTIN_DIR]


def persona_names(workspace: Path) -> list[str]:
    """Every persona name available in ``workspace`` (workspace personas first)."""
    names: list[str] = []
    for folder in persona_dirs(workspace):
        for path in sorted(folder.glob("*.yml")) if folder.is_dir() else []:
            if path.stem not in names:
                names.append(path.stem)
    return names


def persona_path(name: str, workspace: Path) -> Path:
    """The file of persona ``name`` (a name, or a path to a .yml file)."""
    if name.endswith((".yml", ".yaml")):
        path = (workspace / name).resolve()
        if not path.is_relative_to(workspace.resolve()):
            raise AgentSetupError(f"persona file {name} resolves to {path}, outside the workspace {workspace.resolve()}",
                                  "give a persona name, or a .yml path inside the workspace (symlinks are followed)")
        if not path.is_file():
            raise AgentSetupError(f"persona file {name} does not exist", "give a persona name or an existing .yml path")
        return path
    for folder in persona_dirs(workspace):
        path = folder / f"{name}.yml"
        if path.is_file():
            return path
    import difflib

    names = persona_names(workspace)
    close = difflib.get_close_matches(name, names, n=1)
    hint = (f"did you mean {close[0]!r}? " if close else "") + f"personas: {', '.join(names)}"
    raise AgentSetupError(f"no persona {name!r}", hint)


def load_persona(name: str, workspace: Path) -> Persona:
    """Read and validate persona ``name``; its ``name`` field must match the file stem."""
    path = persona_path(name, workspace)
    persona = load_strict(Persona, path, "persona")
    if persona.name != path.stem:
        raise AgentSetupError(f"{path}: name {persona.name!r} differs from the file name {path.stem!r}",
                              f"set `name: {path.stem}` or rename the file")
    return persona
