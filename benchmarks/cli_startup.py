"""CLI start-up benchmark: median wall time of `caramba --help` and `caramba validate`.

Goals (issue 2): `--help` < 0.5 s (heavy imports deferred), `validate` of the complete
example < 0.3 s. Each command runs in a fresh process (as a user runs it); the table
also shows a bare `python -c pass` as the floor measured in the same run.

    python benchmarks/cli_startup.py [--repeats 15]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

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


def measure(command: list[str], repeats: int) -> list[float]:
    """Wall seconds of ``repeats`` fresh runs (after one untimed warm-up for .pyc files)."""
    subprocess.run(command, capture_output=True, check=False)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    table = Table("command", "median s", "p90 s", "× floor", "goal s")
    floor = None
    for name, command in COMMANDS.items():
        times = sorted(measure(command, args.repeats))
        median = statistics.median(times)
        floor = floor or median
        goal = GOALS.get(name)
        table.add_row(name, f"{median:.3f}", f"{times[int(0.9 * (len(times) - 1))]:.3f}", f"{median / floor:.1f}",
                      f"{goal:.1f} {'✔' if median < goal else '✘'}" if goal else "")
    Console().print(table)


if __name__ == "__main__":
    main()
