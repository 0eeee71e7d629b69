"""Paper tools: start a paper_write session in its own process, follow it, fetch its files.

``paper_start`` checks the source and files (inside the workspace, existing) at once and
starts ``caramba paper … --out papers/<id>`` detached (its own session, console to
``.caramba/mcp/papers/<id>.log``), returning the paper id immediately, so the server stays
responsive while the writer and reviewer work. The record in ``.caramba/mcp/papers/<id>.json``
survives a server restart; the paper's own ``state.json`` (the session checkpoint) is the
truth about its progress. ``paper_status`` reads it (turns done, builds, review scores,
how it ended); ``paper_fetch`` returns one file of the paper folder (LaTeX, reviews,
changes, summary; the PDF as its text).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from caramba.engine.store.atomic import write_json
from caramba.engine.store.process import start_time
from caramba.tools.security import Workspace

PaperId = Annotated[str, Field(pattern=r"^[a-z0-9-]+$", description="the paper id paper_start returned")]
TEXT_SUFFIXES = {".tex", ".md", ".json", ".bib", ".csv", ".jsonl", ".log"}


def register(server: MCPServer, ws: Workspace) -> None:
    """Add the paper tools to ``server``."""
    records = ws.root / ".caramba" / "mcp" / "papers"
    children: dict[str, subprocess.Popen[bytes]] = {}

    @server.tool()
    def paper_start(manifest: Annotated[str | None, Field(description="a comparison manifest whose runs are in the store")] = None,
                    session: Annotated[str | None, Field(description="a development session folder")] = None,
                    runs: Annotated[list[str] | None, Field(description="run ids of the store")] = None,
                    bib: Annotated[str | None, Field(description="a BibTeX file: the only keys the paper may cite")] = None,
                    template: Annotated[str | None, Field(description="a LaTeX template file that \\input{results}")] = None,
                    notes: Annotated[str | None, Field(description="a text file of notes for the writer")] = None,
                    rounds: Annotated[int, Field(ge=1, le=5, description="review rounds")] = 1,
                    model: Annotated[str | None, Field(description="LiteLLM model (default: caramba.yml llm.model)")] = None,
                    api_base: Annotated[str | None, Field(description="OpenAI-compatible server URL for model")] = None,
                    budget_usd: Annotated[float | None, Field(gt=0, description="stop before a call could exceed it")] = None,
                    ) -> dict[str, Any]:
        """Start writing a paper from a comparison's runs (or a development session, or run ids)
        in its own process; returns its paper id at once. Follow it with paper_status and read
        its files with paper_fetch. Every number in the paper is a macro traced to its runs."""
        from caramba.processes.paper_write.config import PaperConfig, PaperInputError

        def inside(value: str | None, what: str) -> Path | None:
            return ws.path(value, what) if value else None

        try:
            config = PaperConfig.from_command(ws.root, inside(session, "session folder"), inside(manifest, "manifest"),
                                              runs, inside(notes, "notes"), inside(bib, "bib"),
                                              inside(template, "template"), rounds)
            config.check_files()
        except PaperInputError as error:
            raise ToolError(f"refused: {error.message}\nhint: {error.hint}") from None
        paper_id = config.slug()
        folder = ws.root / "papers" / paper_id
        command = [sys.executable, "-m", "caramba", "paper", "--out", str(folder.relative_to(ws.root)),
                   "--rounds", str(rounds)]
        command += ["--from", str(session)] if session else ["--manifest", str(manifest)] if manifest else \
            [arg for rid in runs or [] for arg in ("--runs", rid)]
        for flag, value in (("--bib", bib), ("--template", template), ("--notes", notes), ("--model", model),
                            ("--api-base", api_base), ("--budget", budget_usd)):
            command += [flag, str(value)] if value is not None else []
        records.mkdir(parents=True, exist_ok=True)
        log = records / f"{paper_id}.log"
        with open(log, "wb") as out:
            child = subprocess.Popen(command, cwd=ws.root, stdin=subprocess.DEVNULL, stdout=out,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        children[paper_id] = child
        write_json(records / f"{paper_id}.json", {"paper_id": paper_id, "folder": str(folder.relative_to(ws.root)),
                                                  "pid": child.pid, "pid_start": start_time(child.pid),
                                                  "started": time.time(), "log": str(log.relative_to(ws.root))})
        return {"paper_id": paper_id, "folder": str(folder.relative_to(ws.root)), "log": str(log.relative_to(ws.root))}

    def record(paper_id: str) -> dict[str, Any]:
        path = records / f"{paper_id}.json"
        if not path.is_file():
            known = sorted(p.stem for p in records.glob("*.json")) if records.is_dir() else []
            raise ToolError(f"no paper {paper_id!r} was started here; known: {', '.join(known) or 'none'}\n"
                            "hint: start one with paper_start")
        return json.loads(path.read_text())

    def alive(rec: dict[str, Any]) -> bool:
        child = children.get(rec["paper_id"])
        if child is not None:
            return child.poll() is None
        return rec["pid_start"] is not None and start_time(rec["pid"]) == rec["pid_start"]

    @server.tool()
    def paper_status(paper_id: PaperId) -> dict[str, Any]:
        """How a paper session stands: running or how it ended (completed, failed with the
        build's issues, stopped at its budget), the turns done, the builds and the review
        scores; the end of its console log when it failed before starting."""
        rec = record(paper_id)
        folder = ws.root / rec["folder"]
        running = alive(rec)
        state_file = folder / "state.json"
        state = json.loads(state_file.read_text()) if state_file.is_file() else {}
        status = state.get("status", "starting" if running else "failed")
        if status == "running" and not running:
            status = "interrupted"
        log = ws.root / rec["log"]
        tail = log.read_text(errors="replace").splitlines()[-15:] if log.is_file() and not running else []
        reviews = [{"round": t["round"], **{k: t["actions"]["review"][k] for k in ("overall", "confidence")}}
                   for t in state.get("turns", []) if t["kind"] == "review" and "review" in t["actions"]]
        builds = state.get("data", {}).get("builds", [])
        return {"paper_id": paper_id, "status": status, "running": running, "message": state.get("message", ""),
                "turns": [t["id"] for t in state.get("turns", [])], "reviews": reviews,
                "builds": [{"stage": b["stage"], "ok": b["ok"], "issues": len(b["issues"])} for b in builds],
                "files": sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                                if p.is_file() and p.parent.name != "figures") if folder.is_dir() else [],
                "log_tail": tail}

    @server.tool()
    def paper_fetch(paper_id: PaperId,
                    file: Annotated[str, Field(description="a file of the paper folder: paper.tex, sections/results.tex, "
                                                           "review-1.md, changes-1.md, summary.md, provenance.json, "
                                                           "paper.pdf (its text)")] = "paper.tex") -> dict[str, Any]:
        """One file of a paper folder as text (the PDF as the text a reader gets)."""
        folder = (ws.root / record(paper_id)["folder"]).resolve()
        path = (folder / file).resolve()
        if not path.is_relative_to(folder):
            raise ToolError(f"refused: {file!r} is outside the paper folder\nhint: give a path like sections/results.tex")
        if not path.is_file():
            raise ToolError(f"{file!r} does not exist (yet) in {folder.name}\nhint: paper_status lists the files")
        if path.suffix == ".pdf":
            done = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, timeout=60)
            return {"file": file, "text": done.stdout, "bytes": path.stat().st_size}
        if path.suffix not in TEXT_SUFFIXES:
            raise ToolError(f"{file!r} is not a text file of the paper\nhint: read figures with read_artifact")
        return {"file": file, "text": path.read_text(encoding="utf-8", errors="replace")}
