"""Run ids are names, not paths, and a cancel signals only this workspace's run process.

Attacks of issue #13: ``run_status``/``cancel_run`` with ``../../../elsewhere/x`` read a
``status.json`` outside the workspace and SIGTERMed the pid it named; an empty id
matched a run by prefix; a run record (or launch record) naming a foreign pid got that
process killed.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import psutil
import pytest

from caramba.engine.store import RunStore, UnknownRun
from caramba.engine.store.process import ForeignProcess
from tests.tools.conftest import inprocess

pytestmark = pytest.mark.anyio


@pytest.fixture
def bystander(tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A process that is not caramba's, which no tool may signal."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"], cwd=tmp_path)
    yield process
    process.kill()
    process.wait(10)


def _record(folder: Path, pid: int, **extra: object) -> Path:
    folder.mkdir(parents=True)
    (folder / "status.json").write_text(json.dumps({"id": folder.name, "target": "t", "run": "train", "manifest_name": "t",
                                                    "manifest_digest": "0", "status": "running", "pid": pid, **extra}))
    return folder


async def test_run_ids_that_are_paths_are_refused_unread(workspace: Path, tmp_path: Path,
                                                         bystander: subprocess.Popen[bytes]) -> None:
    _record(tmp_path / "elsewhere" / "x", bystander.pid)
    _record(workspace / ".caramba" / "runs" / "t-train-0000abcd", bystander.pid, status="succeeded")
    async with inprocess(workspace) as client:
        for tool in ("run_status", "cancel_run", "get_run_results"):
            for bad in ("../../../elsewhere/x", str(tmp_path / "elsewhere" / "x"), "", "t-train-0000abcd/../../..", ".."):
                result = await client.call_tool(tool, {"run_id": bad})
                assert result.is_error and "not a run id" in result.content[0].text, (tool, bad, result.content)
        result = await client.call_tool("read_artifact", {"run_id": "../../../elsewhere/x", "name": "status.json"})
        assert result.is_error and "not a run id" in result.content[0].text
    time.sleep(0.2)
    assert bystander.poll() is None
    with pytest.raises(UnknownRun, match="not a run id"):
        RunStore(workspace).run_dir("../x")


async def test_cancel_signals_only_this_workspaces_run_process(workspace: Path, tmp_path: Path,
                                                               bystander: subprocess.Popen[bytes]) -> None:
    runs = workspace / ".caramba" / "runs"
    started = psutil.Process(bystander.pid).create_time()
    lookalike = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", "-m", "caramba", "run", "x.yml"],
                                 cwd=tmp_path)  # a caramba-looking command line, but of another folder
    try:
        deadline = time.time() + 10
        while not psutil.Process(lookalike.pid).cmdline() and time.time() < deadline:
            time.sleep(0.05)
        cases = {"t-train-00000001": (bystander.pid, None, "no recorded start time"),
                 "t-train-00000003": (bystander.pid, started, "not `caramba run`"),
                 "t-train-00000004": (lookalike.pid, psutil.Process(lookalike.pid).create_time(), "another workspace")}
        for run_id, (pid, start, _) in cases.items():
            _record(runs / run_id, pid, pid_start=start)
        for run_id, (_, _, why) in cases.items():
            with pytest.raises(ForeignProcess, match=why):
                RunStore(workspace).cancel(run_id)
        _record(runs / "t-train-00000002", bystander.pid, pid_start=started - 5)  # the pid was reused since
        reused = RunStore(workspace).cancel("t-train-00000002")
        assert reused.status == "failed" and "process died" in reused.reasons[-1]  # reported dead, nothing signalled
        async with inprocess(workspace) as client:
            for run_id, (_, _, why) in cases.items():
                result = await client.call_tool("cancel_run", {"run_id": run_id})
                assert result.is_error and "refused to signal" in result.content[0].text and why in result.content[0].text
        time.sleep(0.2)
        assert bystander.poll() is None and lookalike.poll() is None
    finally:
        lookalike.send_signal(signal.SIGKILL)
        lookalike.wait(10)


def test_an_empty_or_partial_id_never_matches_by_accident(workspace: Path) -> None:
    runs = workspace / ".caramba" / "runs"
    _record(runs / "t-train-0000abcd", 0, status="succeeded")
    store = RunStore(workspace)
    assert store.get("t-train-0000").id == "t-train-0000abcd"  # a unique prefix still works
    for bad in ("", " ", "t-train-0000abcd/", "./t-train-0000abcd"):
        with pytest.raises(UnknownRun):
            store.get(bad)
