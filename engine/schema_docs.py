"""The manifest reference as Markdown, generated from the schema's field descriptions.

``manifest_markdown()`` walks the manifest's JSON Schema (``schema_export.py``): the root
fields first, then every model it refers to (``$defs``) in reading order (breadth-first
from the root), each as a table of field, type, default and description. Types link to
their sections; ``ref`` choices of components (``dataset.tokens`` …) and layer ``type``
tags show as literals. ``docs/manifest.md`` is this text: ``caramba schema --format
markdown > docs/manifest.md`` regenerates it, and a test fails when it is stale.
"""

from __future__ import annotations

import json
from typing import Any

from caramba.engine.schema_export import manifest_schema

HEADER = """# Manifest reference (generated)

Generated from the schema's field descriptions by `caramba schema --format markdown`; do not
edit by hand (a test compares this file with the schema). Every model rejects unknown keys.
A manifest is YAML; `${var}` substitution, `extends:` and `--set` are described in the README.
"""


def _name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _anchor(name: str) -> str:
    return name.lower()


def type_of(node: dict[str, Any]) -> str:
    """A short Markdown rendering of a JSON Schema node's type."""
    if "$ref" in node:
        name = _name(node["$ref"])
        return f"[{name}](#{_anchor(name)})"
    if "const" in node:
        return f"`{json.dumps(node['const'])}`"
    if "enum" in node:
        return " | ".join(f"`{json.dumps(v)}`" for v in node["enum"])
    for key in ("anyOf", "oneOf"):
        if key in node:
            return " | ".join(type_of(option) for option in node[key])
    kind = node.get("type")
    if kind == "array":
        items = node.get("items") or node.get("prefixItems")
        if isinstance(items, list):
            return "[" + ", ".join(type_of(i) for i in items) + "]"
        return f"list of {type_of(items)}" if items else "list"
    if kind == "object" and isinstance(node.get("additionalProperties"), dict):
        return f"map of {type_of(node['additionalProperties'])}"
    return str(kind or "any")


def _refs(node: Any) -> list[str]:
    """Every ``$defs`` name a node refers to, in order of appearance."""
    if isinstance(node, dict):
        found = [_name(node["$ref"])] if "$ref" in node else []
        for key, value in node.items():
            if key != "$ref":
                found += _refs(value)
        return found
    if isinstance(node, list):
        return [r for item in node for r in _refs(item)]
    return []


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(model: dict[str, Any]) -> list[str]:
    required = set(model.get("required", []))
    rows = ["| field | type | default | description |", "|---|---|---|---|"]
    for field, node in model.get("properties", {}).items():
        default = "required" if field in required else f"`{json.dumps(node.get('default'))}`" if "default" in node else ""
        rows.append(f"| `{field}` | {_cell(type_of(node))} | {_cell(default)} | {_cell(node.get('description', ''))} |")
    return rows


def manifest_markdown() -> str:
    """The whole reference (module docstring)."""
    schema = manifest_schema()
    defs = schema.get("$defs", {})
    lines = [HEADER, "## Manifest", "", schema.get("description", "").strip(), "", *_table(schema), ""]
    order: list[str] = []
    queue = _refs(schema.get("properties", {}))
    while queue:
        name = queue.pop(0)
        if name in order or name not in defs:
            continue
        order.append(name)
        queue += _refs(defs[name].get("properties", {}))
    order += sorted(set(defs) - set(order))
    for name in order:
        model = defs[name]
        lines += [f"## {name}", ""]
        if model.get("description"):
            lines += [" ".join(model["description"].split()), ""]
        if "properties" in model:
            lines += [*_table(model), ""]
        else:
            lines += [f"Type: {_cell(type_of(model))}", ""]
    return "\n".join(lines).rstrip() + "\n"
