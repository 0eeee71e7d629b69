"""``Memory``: the one API over the knowledge memory, shared by the CLI, the MCP tools and the hooks.

    memory = Memory(Path("."))                 # settings from caramba.yml
    memory.record_runs([run_dir])              # structured facts + findings, no LLM
    memory.search("which attention variant had the lowest validation perplexity")
    memory.timeline()                          # findings with valid_at / invalid_at
    memory.close()

Every method returns JSON-ready dicts. Stores open lazily: a search needs the embedder and
the chunk dataset; facts and timelines need only the graph.
"""

from __future__ import annotations

import hashlib
import logging
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from caramba.memory.chunks import Chunk, ChunkStore
from caramba.memory.embedder import Embedder, make_embedder
from caramba.memory.findings import Finding, all_findings
from caramba.memory.graph import GraphStore
from caramba.memory.runfacts import RunFacts, read_run
from caramba.memory.triplets import Triplets
from caramba.workspace.config import WorkspaceConfig, load_workspace

log = logging.getLogger("caramba.memory")
FINAL = ("succeeded", "failed", "cancelled")


def now() -> str:
    """UTC now, ISO 8601 to the second (the format every memory date uses)."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def group_name(workspace: Path) -> str:
    """The workspace's memory graph: ``memory_<folder>_<hash of its path>`` (Graphiti group rules)."""
    slug = re.sub(r"[^A-Za-z0-9_-]", "_", workspace.name)[:40] or "workspace"
    return f"memory_{slug}_{hashlib.sha256(str(workspace).encode()).hexdigest()[:8]}"


class Memory:
    """The knowledge memory of the workspace ``workspace`` (see the module docstring)."""

    def __init__(self, workspace: Path, config: WorkspaceConfig | None = None, llm: Any = None) -> None:
        """Address the memory of ``workspace`` (``caramba.yml`` read there unless ``config`` is given).

        ``llm`` replaces the Graphiti LLM client built from ``llm.model`` (tests pass a scripted one).
        """
        from caramba.codegraph.database import default_db_path

        self.workspace = Path(workspace).resolve()
        self.config = config or load_workspace(self.workspace)
        settings = self.config.memory
        self.db_location: str | Path = self.config.graph.db or default_db_path(self.workspace)
        self.chunk_location = settings.deeplake or str(self.workspace / ".caramba" / "memory.deeplake")
        self.group = group_name(self.workspace)
        self._embedder: Embedder | None = None
        self._chunks: ChunkStore | None = None
        self._graph: GraphStore | None = None
        self._llm = llm

    # -- stores -------------------------------------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        """The configured embedder (loaded on first use)."""
        if self._embedder is None:
            self._embedder = make_embedder(self.config.memory)
        return self._embedder

    @property
    def chunks(self) -> ChunkStore:
        """The chunk dataset (opened on first use)."""
        if self._chunks is None:
            self._chunks = ChunkStore(self.chunk_location, self.embedder)
        return self._chunks

    @property
    def graph(self) -> GraphStore:
        """The memory graph (opened on first use)."""
        if self._graph is None:
            from caramba.memory.episodes import llm_client

            self._graph = GraphStore(self.db_location, self.group, self.embedder, self._llm or llm_client(self.config))
        return self._graph

    def close(self) -> None:
        """Close the graph connection (the embedded database stops with its last client)."""
        if self._graph is not None:
            self._graph.close()
            self._graph = None

    def __enter__(self) -> "Memory":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing ------------------------------------------------------------------------------
    def record_runs(self, run_dirs: list[Path], force: bool = False) -> dict[str, Any]:
        """Record the finished runs in ``run_dirs`` (unchanged ones are skipped unless ``force``)."""
        facts = [read_run(d) for d in run_dirs]
        return self.record_facts([f for f in facts if f.status in FINAL], force)

    def record_facts(self, facts: list[RunFacts], force: bool = False) -> dict[str, Any]:
        """Record runs given as :class:`RunFacts`; recompute their experiments' findings.

        Order matters for crash safety: chunks first, then the graph, then each run's
        completion marker. Returns what was written.
        """
        recorded, stored = self.graph.recorded(), self.chunks.hashes()
        todo = [f for f in facts if force or recorded.get(f.run_id) != f.content_hash
                or stored.get(f"run:{f.run_id}") != self.run_chunk(f).digest]
        if not todo:
            return {"runs": 0, "findings": 0, "chunks": 0, "skipped": len(facts)}
        triplets = Triplets(self.group)
        for run in todo:
            triplets.run(run)
        findings: list[Finding] = []
        for experiment in sorted({r.experiment for r in todo}):
            known = {r.run_id: r for r in self.graph.runs(experiment)}
            known.update({r.run_id: r for r in todo if r.experiment == experiment})
            findings.extend(all_findings(list(known.values())))
        for finding in findings:
            triplets.finding(finding)
        chunks = [self.run_chunk(r) for r in todo] + [self.finding_chunk(f) for f in findings]
        written = self.chunks.upsert(chunks, f"caramba memory: {len(todo)} run(s)")
        self.graph.write(triplets, {r.run_id: r.content_hash for r in todo})
        return {"runs": len(todo), "findings": len(findings), "chunks": written, "skipped": len(facts) - len(todo)}

    @staticmethod
    def run_chunk(run: RunFacts) -> Chunk:
        """The search chunk of a run (its report)."""
        return Chunk(f"run:{run.run_id}", "run", run.report(), {"run_id": run.run_id, "experiment": run.experiment,
                                                               "arm": run.arm}, run.run_id, run.when)

    @staticmethod
    def finding_chunk(finding: Finding) -> Chunk:
        """The search chunk of a finding, valid from its run's finish until superseded."""
        return Chunk(finding.id, "finding", finding.text(), {"run_id": finding.leader.run_id, "experiment": finding.experiment,
                                                             "metric": finding.metric, "superseded_by": finding.superseded_by},
                     finding.experiment, finding.valid_at, finding.invalid_at)

    def sync(self, force: bool = False) -> dict[str, Any]:
        """Backfill every finished run of the workspace's run store (idempotent)."""
        from caramba.engine.store import RunStore

        dirs = [Path(r.dir) for r in RunStore(self.workspace).list() if r.status in FINAL]
        report = self.record_runs(dirs, force)
        return {**report, "scanned": len(dirs)}

    def reembed(self) -> dict[str, Any]:
        """Re-embed every chunk and graph vector with the configured embedder (after changing ``memory.embedder``)."""
        from caramba.memory.episodes import llm_client

        self.close()
        self._chunks = ChunkStore(self.chunk_location, self.embedder, check=False)
        chunks = self._chunks.reembed()
        self._graph = GraphStore(self.db_location, self.group, self.embedder, self._llm or llm_client(self.config), check=False)
        vectors = self._graph.reembed() if self._graph.db.graph_exists(self.group) else 0
        return {"chunks": chunks, "graph_vectors": vectors, "embedder": self.embedder.identity}

    def add_note(self, text: str, title: str = "", author: str = "", tags: list[str] | None = None,
                 extract: bool = False) -> dict[str, Any]:
        """Remember a free-text note; ``extract`` also asks the LLM for its entities and facts."""
        if not text.strip():
            raise ValueError("the note is empty; give the text to remember")
        digest = hashlib.sha256(text.encode()).hexdigest()[:20]
        source = {"note": digest, "title": title, "author": author, "tags": tags or []}
        chunk = Chunk(f"note:{digest}", "note", (f"{title}: " if title else "") + text, source, title or digest, now())
        written = self.chunks.upsert([chunk], "caramba memory: note")
        result: dict[str, Any] = {"id": chunk.id, "written": bool(written)}
        if extract:
            from caramba.memory.episodes import extract_episodes

            result["extraction"] = extract_episodes(self, [(title or chunk.id, chunk.text, "note", chunk.valid_at)])
        return result

    def record_session(self, session_id: str, turns: list[dict[str, str]], kind: str = "transcript",
                       when: str | None = None) -> dict[str, Any]:
        """Remember an agent session: one chunk per turn (``{"speaker", "text"}``), linked to session and turn.

        ``kind`` names what the turns are (``transcript``, ``decision``, ``proposal``).
        """
        when = when or now()
        chunks = [Chunk(f"{kind}:{session_id}:{index}", "turn" if kind == "transcript" else kind,
                        f"[{session_id} turn {index}] {turn.get('speaker', '?')}: {turn['text']}",
                        {"session": session_id, "turn": index, "speaker": turn.get("speaker", ""), "kind": kind},
                        session_id, when) for index, turn in enumerate(turns, start=1) if turn.get("text", "").strip()]
        written = self.chunks.upsert(chunks, f"caramba memory: session {session_id}")
        return {"session": session_id, "turns": len(chunks), "written": written}

    # -- reading ------------------------------------------------------------------------------
    def search(self, query: str, k: int = 5, mode: str = "hybrid", as_of: str | None = None,
               include_superseded: bool = False) -> dict[str, Any]:
        """The ``k`` chunks best matching ``query`` (``hybrid``, ``bm25`` or ``vector``), with sources."""
        from caramba.memory.rank import fuse, rerank

        if mode not in ("hybrid", "bm25", "vector"):
            raise ValueError(f"mode {mode!r} is not one of hybrid, bm25, vector")
        store = self.chunks
        store.refresh()
        depth = max(50, 10 * k)
        lists = []
        # DeepLake's BM25 query (~0.1 s) runs on a thread while the query is embedded and the
        # vector query runs here: both release the GIL, so hybrid costs the slower of the two.
        with ThreadPoolExecutor(max_workers=1) as pool:
            lexical = pool.submit(store.bm25, query, depth) if mode in ("hybrid", "bm25") else None
            semantic = store.vector(self.embedder.embed([query])[0], depth) if mode in ("hybrid", "vector") else None
            if lexical is not None:
                lists.append(lexical.result())
        if semantic is not None:
            lists.append(semantic)
        hits = fuse(lists) if mode == "hybrid" else lists[0]
        hits = [h for h in hits if self._holds(h, as_of, include_superseded)]
        if mode == "hybrid":
            hits = rerank(query, hits[:depth])
        return {"query": query, "mode": mode, "as_of": as_of, "embedder": self.embedder.identity,
                "hits": [self._hit(h) for h in hits[:k]]}

    @staticmethod
    def _holds(hit: dict[str, Any], as_of: str | None, include_superseded: bool) -> bool:
        if as_of is not None:
            return (not hit["valid_at"] or hit["valid_at"] <= as_of) and (not hit["invalid_at"] or hit["invalid_at"] > as_of)
        return include_superseded or not hit["invalid_at"]

    @staticmethod
    def _hit(hit: dict[str, Any]) -> dict[str, Any]:
        keep = ("id", "kind", "text", "source", "valid_at", "invalid_at", "score", "coverage")
        return {key: hit[key] for key in keep if key in hit}

    def facts(self, entity: str, as_of: str | None = None, limit: int = 200) -> dict[str, Any]:
        """Facts about ``entity`` with validity intervals (see :func:`caramba.memory.reads.facts`)."""
        from caramba.memory import reads

        return reads.facts(self, entity, as_of, limit)

    def timeline(self, experiment: str | None = None, limit: int = 200) -> dict[str, Any]:
        """Findings over time (see :func:`caramba.memory.reads.timeline`)."""
        from caramba.memory import reads

        return reads.timeline(self, experiment, limit)

    def related_runs(self, component: str, limit: int = 100) -> dict[str, Any]:
        """Runs that used ``component`` (see :func:`caramba.memory.reads.related_runs`)."""
        from caramba.memory import reads

        return reads.related_runs(self, component, limit)

    def stats(self) -> dict[str, Any]:
        """Sizes of the memory (see :func:`caramba.memory.reads.stats`)."""
        from caramba.memory import reads

        return reads.stats(self)
