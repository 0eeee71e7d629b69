"""Persona agents: ADK ``LlmAgent``s built from ``personas/*.yml``, speaking through
LiteLLM (any provider, any OpenAI-compatible server) or a script, acting only through
caramba's MCP tools, with usage, cost and a budget accounted per agent and per session.

``persona`` reads persona files; ``models`` picks and builds a role's model;
``scripted`` and ``recording`` are the scripted model and record/replay; ``usage`` the
accounting; ``toolset`` the MCP connection and allow-lists; ``build`` the agent itself.
Processes (``caramba.processes``) orchestrate the agents.
"""
