"""MCP load benchmark: concurrent validate/dry-run calls over streamable HTTP, and the
latency of ``validate_manifest`` on a 200-line manifest.

Goals (issue 6): 200 concurrent ``validate_manifest`` / ``dry_run_manifest`` calls
(half each, spread over several client sessions) complete without error; the p50
latency of ``validate_manifest`` on a 200-line manifest, measured one call at a time
over HTTP after warm-up, is under 50 ms.

The server is a real ``caramba mcp --transport http`` process on a temporary workspace.

    python benchmarks/mcp_load.py [--calls 200] [--clients 10] [--latency-calls 100] [--only validate_manifest]

``--only validate_manifest`` makes every concurrent call a validation (issue 13's load
check: 200 concurrent ``validate_manifest`` calls from 10 sessions, 0 errors).
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import time
from pathlib import Path

import anyio
import numpy as np
import yaml
from mcp import Client
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.tools.conftest import HttpServer, tiny_manifest  # noqa: E402

P50_GOAL_S = 0.050


def manifest_200_lines() -> str:
    """A valid manifest of at least 200 lines (a resolved 3-benchmark experiment)."""
    from caramba.engine.compiler import compile_manifest

    resolved = compile_manifest(tiny_manifest(benchmarks=("perplexity", "latency", "memory"))).resolved
    text = yaml.safe_dump(resolved, sort_keys=False)
    missing = max(0, 200 - len(text.splitlines()))
    notes = "".join(f"# load-benchmark padding line {i}\n" for i in range(missing))
    return notes + text


def percentile(values: list[float], q: float) -> float:
    """The ``q``-quantile (0…1) of ``values``, nearest-rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def one_call(client: Client, tool: str, manifest: str, latencies: dict[str, list[float]], errors: list[str]) -> None:
    """Call ``tool`` once with ``manifest``; append its latency to ``latencies[tool]`` and any failure to ``errors``."""
    start = time.perf_counter()
    result = await client.call_tool(tool, {"manifest": manifest})
    latencies[tool].append(time.perf_counter() - start)
    ok = not result.is_error and result.structured_content is not None
    if tool == "validate_manifest" and ok:
        ok = result.structured_content["ok"] is True
    if not ok:
        errors.append(f"{tool}: {result.content[0].text if result.content else result}")


async def concurrent(url: str, manifest: str, calls: int, clients: int, only: str | None = None,
                     ) -> tuple[dict[str, list[float]], list[str], float]:
    """``calls`` calls at once over ``clients`` sessions (alternating validate and dry run,
    or all ``only``); returns latencies, errors, wall time."""
    latencies: dict[str, list[float]] = {"validate_manifest": [], "dry_run_manifest": []} if only is None else {only: []}
    errors: list[str] = []
    async with contextlib.AsyncExitStack() as stack:
        sessions = [await stack.enter_async_context(Client(url, read_timeout_seconds=300)) for _ in range(clients)]
        start = time.perf_counter()
        async with anyio.create_task_group() as group:
            for i in range(calls):
                tool = only or ("validate_manifest" if i % 2 == 0 else "dry_run_manifest")
                group.start_soon(one_call, sessions[i % clients], tool, manifest, latencies, errors)
        wall = time.perf_counter() - start
    return latencies, errors, wall


async def sequential(url: str, manifest: str, calls: int) -> list[float]:
    """``validate_manifest`` one call at a time (after 10 warm-up calls)."""
    latencies: dict[str, list[float]] = {"validate_manifest": []}
    errors: list[str] = []
    async with Client(url) as client:
        for _ in range(10):
            await one_call(client, "validate_manifest", manifest, {"validate_manifest": []}, errors)
        for _ in range(calls):
            await one_call(client, "validate_manifest", manifest, latencies, errors)
    if errors:
        raise RuntimeError(errors[0])
    return latencies["validate_manifest"]


def main() -> int:
    """Run the load benchmark (options: --help); print its table; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--latency-calls", type=int, default=100)
    parser.add_argument("--only", choices=("validate_manifest", "dry_run_manifest"), default=None,
                        help="make every concurrent call this tool (default: half each)")
    args = parser.parse_args()
    console = Console()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        np.save(root / "data.npy", np.random.default_rng(0).integers(0, 256, size=20_000).astype(np.uint16))
        manifest = manifest_200_lines()
        server = HttpServer(root).start()
        try:
            latencies, errors, wall = anyio.run(concurrent, server.url, manifest, args.calls, args.clients, args.only)
            single = anyio.run(sequential, server.url, manifest, args.latency_calls)
        finally:
            server.stop()
    table = Table(title=f"MCP over HTTP: {args.calls} concurrent calls over {args.clients} sessions "
                        f"({wall:.1f} s wall); manifest {len(manifest.splitlines())} lines")
    for column in ("measurement", "calls", "p50 ms", "p90 ms", "p95 ms", "max ms"):
        table.add_column(column, justify="left" if column == "measurement" else "right")
    rows: list[tuple[str, list[float]]] = [(f"concurrent {k}", v) for k, v in latencies.items()]
    rows.append(("validate_manifest, one at a time", single))
    for name, values in rows:
        table.add_row(name, str(len(values)), *(f"{1000 * x:.1f}" for x in
                                                (statistics.median(values), percentile(values, 0.9), percentile(values, 0.95), max(values))))
    console.print(table)
    p50 = statistics.median(single)
    passed = not errors and p50 < P50_GOAL_S and sum(map(len, latencies.values())) == args.calls
    console.print(f"errors: {len(errors)}" + (f" (first: {errors[0]})" if errors else ""))
    console.print(f"validate_manifest p50 {1000 * p50:.1f} ms (goal < {1000 * P50_GOAL_S:.0f} ms): "
                  + ("[green]PASS[/]" if passed else "[red]FAIL[/]"))
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
