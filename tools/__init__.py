"""caramba's MCP server: the tools through which LLM clients and persona agents act.

Thin by design: each tool parses flat, typed arguments, calls one engine or code-graph
function and returns a pydantic model (structured output). ``server.build_server``
assembles the groups; ``security`` confines every path to the workspace; ``launcher``
runs experiments in their own processes; ``http`` adds the bearer token for HTTP.
"""
