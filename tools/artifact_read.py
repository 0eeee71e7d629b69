"""What ``read_artifact`` sends back for one file of a run, by kind.

* **images** (PNG, JPEG, GIF, WebP): MCP image content (base64), so a multimodal client
  sees the plot;
* **tables** (CSV): the text, plus the columns and the first rows as structured data;
* **text** (JSON, JSONL, YAML, TeX, logs …): UTF-8 text, cut at :data:`TEXT_LIMIT`
  characters (the answer says when);
* **checkpoints and other binaries** (``checkpoints/``, ``*.safetensors``, ``*.pt``,
  ``*.npy``, PDFs, anything with NUL bytes): refused with the reason — they are megabytes
  of numbers no client can read as text, and weights stay on the machine.
"""

from __future__ import annotations

import base64
import csv
import io
from pathlib import Path
from typing import Any

from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ImageContent, TextContent

TEXT_LIMIT = 200_000  # characters of one artifact returned as text
TABLE_ROWS = 50
IMAGES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif", ".webp": "image/webp"}
CHECKPOINT_SUFFIXES = (".safetensors", ".pt", ".pth", ".bin", ".ckpt", ".npy", ".npz", ".pkl", ".pickle")
BINARY_SUFFIXES = (".pdf", ".parquet", ".zip", ".gz", ".tar", ".db")


def refusal(path: Path, relative: str) -> str | None:
    """Why ``path`` is not served (None when it is)."""
    size = f"{path.stat().st_size / 1e6:.1f} MB"
    if "checkpoints" in Path(relative).parts or path.suffix.lower() in CHECKPOINT_SUFFIXES:
        return (f"refused: {relative!r} is a checkpoint file ({size} of weights or training state), not an artifact a client "
                "can read; use get_run_results for its metrics, or load it on the machine (caramba generate / export-hf)")
    if path.suffix.lower() in BINARY_SUFFIXES:
        return (f"refused: {relative!r} is a binary {path.suffix} file ({size}); read the CSV/PNG/TeX artifacts instead "
                "(get_run_results lists them)")
    with path.open("rb") as handle:
        if b"\0" in handle.read(8192) and path.suffix.lower() not in IMAGES:
            return f"refused: {relative!r} is binary ({size}), not text, an image or a table"
    return None


def serve(path: Path, relative: str) -> tuple[list[Any], dict[str, Any]]:
    """``(content, structured fields)`` for ``path`` (module docstring); ToolError when refused."""
    why = refusal(path, relative)
    if why is not None:
        raise ToolError(why)
    data = path.read_bytes()
    media = IMAGES.get(path.suffix.lower())
    if media:
        return [ImageContent(type="image", data=base64.b64encode(data).decode(), mime_type=media)], \
            {"media_type": media, "size": len(data), "truncated": False}
    text = data.decode("utf-8", errors="replace")
    fields: dict[str, Any] = {"media_type": "text/plain", "size": len(data), "truncated": len(text) > TEXT_LIMIT}
    if path.suffix.lower() == ".csv":
        rows = list(csv.reader(io.StringIO(text[:TEXT_LIMIT])))
        fields |= {"media_type": "text/csv", "columns": rows[0] if rows else [], "rows": rows[1:TABLE_ROWS + 1],
                   "total_rows": max(0, len(rows) - 1)}
    return [TextContent(type="text", text=text[:TEXT_LIMIT])], fields
