"""Concise tool declarations: what each model request spends on describing tools.

ADK sends every MCP tool's description and every parameter's description wrapped in
``<<<BEGIN_UNTRUSTED_TOOL_DESCRIPTION>>>`` fences (a defence against third-party servers
whose descriptions carry instructions), each schema with pydantic's ``title`` fields,
and a sentence repeating the tool's output schema. caramba's agents talk to one server,
caramba's own ``caramba mcp``, whose descriptions are written in this repository, so
:func:`compact_declarations` (an ADK ``before_model_callback``) removes the fences, the
titles and the output-schema sentence and collapses whitespace. The descriptions
themselves are kept word for word: they are the tools' documentation. This roughly
halves the bytes of tool declarations per request (docs/agents.md has the numbers).
"""

from __future__ import annotations

import re
from typing import Any

FENCE = re.compile(r"<<<(BEGIN|END)_UNTRUSTED_TOOL_DESCRIPTION>>>")
OUTPUT_SENTENCE = re.compile(r"\s*Returns a JSON object conforming to this schema: \{.*\}\s*$", re.DOTALL)
SPACES = re.compile(r"\s+")


def concise(text: str | None) -> str | None:
    """A description without fences, output-schema sentence and runs of whitespace."""
    if not text:
        return text
    return SPACES.sub(" ", OUTPUT_SENTENCE.sub("", FENCE.sub("", text))).strip()


def compact_declarations(callback_context: Any, llm_request: Any) -> None:
    """Rewrite the request's function declarations in place (see the module docstring)."""
    config = llm_request.config
    for tool in (config.tools if config is not None else None) or []:
        for declaration in getattr(tool, "function_declarations", None) or []:
            declaration.description = concise(declaration.description)
            if declaration.parameters_json_schema is not None:
                declaration.parameters_json_schema = _schema_dict(declaration.parameters_json_schema)
            if declaration.parameters is not None:
                _schema_object(declaration.parameters)
    return None


def _schema_dict(schema: Any) -> Any:
    if isinstance(schema, list):
        return [_schema_dict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key == "title" and isinstance(value, str):
            continue
        if key == "description" and isinstance(value, str):
            out[key] = concise(value)
        elif key in ("properties", "$defs", "definitions") and isinstance(value, dict):
            out[key] = {name: _schema_dict(sub) for name, sub in value.items()}
        else:
            out[key] = _schema_dict(value)
    return out


def _schema_object(schema: Any) -> None:
    schema.title = None
    schema.description = concise(schema.description)
    for sub in (schema.properties or {}).values():
        _schema_object(sub)
    if schema.items is not None:
        _schema_object(schema.items)
    for sub in schema.any_of or []:
        _schema_object(sub)
