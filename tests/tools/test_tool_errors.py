"""Every tool error says what went wrong and how to go on; read_artifact serves each kind
of file the right way and refuses checkpoints (issue #13: 11 tool errors reached clients
as a bare "Error executing tool …", and read_artifact returned whole checkpoints as text)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import matplotlib
import pytest

from caramba.engine.train.checkpoint import files
from tests.tools.conftest import inprocess

matplotlib.use("Agg")
pytestmark = pytest.mark.anyio


def _run(workspace: Path, run_id: str = "t-train-0000abcd") -> Path:
    run = workspace / ".caramba" / "runs" / run_id
    (run / "artifacts").mkdir(parents=True)
    (run / "status.json").write_text(json.dumps({"id": run_id, "target": "t", "run": "train", "manifest_name": "t",
                                                 "manifest_digest": "0", "status": "succeeded"}))
    return run


async def test_crashes_inside_tools_reach_the_client_with_a_reason_and_a_hint(workspace: Path) -> None:
    run = _run(workspace)
    (run / "artifacts" / "report.json").write_text("{not json")
    broken = workspace / ".caramba" / "runs" / "t-train-0000beef"
    broken.mkdir()
    (broken / "status.json").write_text('{"id": 3, "status": ')
    async with inprocess(workspace) as client:
        result = await client.call_tool("get_run_results", {"run_id": run.name})
        text = result.content[0].text
        assert result.is_error and "JSONDecodeError" in text and "\nhint: " in text, text
        listed = await client.call_tool("list_runs", {})  # one damaged record does not hide the others
        runs = {r["id"]: r for r in listed.structured_content["runs"]}
        assert runs[run.name]["status"] == "succeeded" and runs[broken.name]["status"] == "failed"
        assert "unreadable" in runs[broken.name]["reasons"][0]


async def test_read_artifact_serves_images_tables_text_and_refuses_checkpoints(workspace: Path) -> None:
    import matplotlib.pyplot as plt
    from torch import nn

    run = _run(workspace)
    figure, axes = plt.subplots()
    axes.plot([1, 2, 3])
    figure.savefig(run / "artifacts" / "loss.png")
    plt.close(figure)
    (run / "artifacts" / "perplexity.csv").write_text("model,ppl\nstudent,3.5\nteacher,3.1\n")
    (run / "artifacts" / "report.json").write_text('{"ok": true}')
    files.write(run / "checkpoints" / "step_00000001", nn.Linear(4, 4), {"step": 1}, 1, {})
    (run / "artifacts" / "blob.dat").write_bytes(b"\0\1\2" * 100)
    async with inprocess(workspace) as client:
        image = await client.call_tool("read_artifact", {"run_id": run.name, "name": "loss.png"})
        assert image.content[0].type == "image" and image.content[0].mime_type == "image/png"
        assert base64.b64decode(image.content[0].data)[:8] == b"\x89PNG\r\n\x1a\n"
        table = await client.call_tool("read_artifact", {"run_id": run.name, "name": "perplexity.csv"})
        assert table.structured_content["columns"] == ["model", "ppl"] and table.structured_content["total_rows"] == 2
        assert table.structured_content["rows"][1] == ["teacher", "3.1"] and "student,3.5" in table.content[0].text
        text = await client.call_tool("read_artifact", {"run_id": run.name, "name": "report.json"})
        assert json.loads(text.content[0].text) == {"ok": True}
        for name in ("checkpoints/step_00000001/model.safetensors", "checkpoints/step_00000001/state.pt",
                     "../t-train-0000abcd/checkpoints/step_00000001/meta.json"):
            refused = await client.call_tool("read_artifact", {"run_id": run.name, "name": name})
            assert refused.is_error and "checkpoint file" in refused.content[0].text, (name, refused.content)
        refused = await client.call_tool("read_artifact", {"run_id": run.name, "name": "blob.dat"})
        assert refused.is_error and "binary" in refused.content[0].text


async def test_concurrent_validations_of_a_fresh_workspace_all_succeed(workspace: Path) -> None:
    """Found by benchmarks/mcp_load.py: concurrent validations wrote the token-bounds cache
    through one shared temporary file, and some failed with "cannot read the token ids"."""
    import anyio

    from tests.tools.conftest import tiny_manifest

    reports: list[dict] = []
    async with inprocess(workspace) as client:
        async def validate() -> None:
            reports.append((await client.call_tool("validate_manifest", {"manifest": tiny_manifest()})).structured_content)

        async with anyio.create_task_group() as group:
            for _ in range(24):
                group.start_soon(validate)
    assert len(reports) == 24 and all(r["ok"] for r in reports), [r for r in reports if not r["ok"]][:1]
