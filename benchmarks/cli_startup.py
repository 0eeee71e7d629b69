"""CLI start-up benchmark: median wall time of `caramba --help` and `caramba validate`.

Goals (issue 2, issue 12): `--help` < 0.5 s (heavy imports deferred), `validate` of the
complete example < 0.3 s. Each command runs in a fresh process (as a user runs it), in a
temporary workspace holding the `data.npy` the preset reads (so validation runs every
stage, files included; the token-bound cache is warm after the untimed first run). The
table shows wall time and CPU time (user + system of the child, which a busy machine
inflates far less than wall time), and a bare `python -c pass` as the floor measured in
the same run.

    python benchmarks/cli_startup.py [--repeats 15]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from rich.console import Console
from rich.table import Table

PRESET = Path(__file__).resolve().parents[1] / "presets" / "complete_example.yml"
COMMANDS = {
    "python -c pass (floor)": [sys.executable, "-c", "pass"],
    "caramba --help": [sys.executable, "-m", "caramba", "--help"],
    "caramba validate complete_example": [sys.executable, "-m", "caramba", "validate", str(PRESET)],
    "caramba validate --format json": [sys.executable, "-m", "caramba", "validate", str(PRESET), "--format", "json"],
}
GOALS = {"caramba --help": 0.5, "caramba validate complete_example": 0.3}


def measure(command: list[str], repeats: int, cwd: Path) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of ``repeats`` fresh runs (after one untimed warm-up for .pyc files)."""
    subprocess.run(command, capture_output=True, check=False, cwd=cwd)
    walls, cpus = [], []
    for _ in range(repeats):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, check=False, cwd=cwd)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if "validate" in command and done.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout.decode()}{done.stderr.decode()}")
    return walls, cpus


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    table = Table("command", "median s", "p90 s", "× floor", "CPU median s", "goal s")
    floor = None
    with tempfile.TemporaryDirectory() as folder:
        workspace = Path(folder)
        np.save(workspace / "data.npy", (np.arange(100_000) % 256).astype(np.uint16))
        for name, command in COMMANDS.items():
            walls, cpus = measure(command, args.repeats, workspace)
            times = sorted(walls)
            median = statistics.median(times)
            floor = floor or median
            goal = GOALS.get(name)
            table.add_row(name, f"{median:.3f}", f"{times[int(0.9 * (len(times) - 1))]:.3f}", f"{median / floor:.1f}",
                          f"{statistics.median(cpus):.3f}", f"{goal:.1f} {'✔' if median < goal else '✘'}" if goal else "")
    Console().print(table)
    print(f"load average (1 min) during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
