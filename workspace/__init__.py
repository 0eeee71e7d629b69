"""The workspace: where caramba keeps state (``.caramba/``) and service settings
(``caramba.yml``). Experiments are configured only by manifests; services (limits, the
code-reference allow-list, the default LLM, the graph database) only here."""

from caramba.workspace.config import WorkspaceConfig, allowlist, load_workspace, state_dir

__all__ = ["WorkspaceConfig", "allowlist", "load_workspace", "state_dir"]
