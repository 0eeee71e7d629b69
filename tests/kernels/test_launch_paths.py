"""``benchmarks/kernels/launch_paths.py`` (the GPU command of the norms' host-overhead measurement) on the CPU."""

from __future__ import annotations

import csv

from tests.kernels.conftest import kernel_benchmark


def test_launch_paths_runs_every_path_of_each_op(tmp_path) -> None:
    """On a tiny shape in the interpreter: a row per entry path (the eager Function, the custom op) with forward
    and fwd+bwd times, a forward row per extra warp count, a CSV, and exit status 0 (Liger may be absent)."""
    with kernel_benchmark("launch_paths") as script:
        status = script.main(["--tiny", "--ops", "rms_norm,glu", "--warps", "4", "--per-sm", "2", "--csv", str(tmp_path / "p.csv")])
        assert script.main(["--tiny", "--ops", "rms_norms"]) == 2  # a typo in --ops is refused before any work
    rows = {(r["op"], r["impl"]): r for r in csv.DictReader((tmp_path / "p.csv").open())}
    assert status == 0
    for op in ("rms_norm", "glu"):
        for impl in ("caramba", "caramba custom op"):
            assert float(rows[op, impl]["fwd ms"]) > 0 and float(rows[op, impl]["fwd+bwd ms"]) > 0, rows[op, impl]
            assert float(rows[op, impl]["rel err"]) < 2e-2, rows[op, impl]  # checked against PyTorch
    assert float(rows["rms_norm", "caramba fwd, 4 warps"]["fwd ms"]) > 0
    assert rows["rms_norm", "caramba fwd, 4 warps"]["fwd+bwd ms"] == ""
    assert float(rows["rms_norm", "caramba bwd only, 2 programs/SM"]["fwd ms"]) > 0
