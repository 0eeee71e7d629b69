"""The kernel benchmark's shared machinery: timing, peak memory, CUDA-graph replay, ceilings, tables.

Every op module (``rms_norm.py``, ``glu.py``, …) builds its inputs and implementations and
hands them to ``run_impls`` (or times its own rows with ``ms``/``peak``); ``__main__.py``
prints one ``table`` per op. Times are the lower of two medians of ``triton.testing.do_bench``
(CUDA events); see ``__main__.py`` for what each column means.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

Fn = Callable[[], object]
DT = torch.bfloat16


def ms(fn: Fn) -> float:
    """Milliseconds of ``fn``: the lower of two medians (CUDA events, each after its own warm-up).

    Timing twice keeps the first-measured implementation from paying for clocks still ramping.
    """
    import triton.testing

    return min(float(triton.testing.do_bench(fn, warmup=50, rep=150, return_mode="median")) for _ in range(2))


def peak(fn: Fn) -> float:
    """Extra device memory (GiB) one call of ``fn`` allocates at its peak."""
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    base = torch.cuda.memory_allocated()
    fn()
    torch.cuda.synchronize()
    return (torch.cuda.max_memory_allocated() - base) / 2**30


def graph_ms(fn: Fn) -> float:
    """Milliseconds of one replay of ``fn`` captured in a CUDA graph: the GPU time without launch overhead."""
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):
            fn()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        fn()
    return ms(graph.replay)


def ceilings() -> tuple[float, float]:
    """(copy TB/s counting read + write, bf16 matmul TFLOP/s) measured on this device."""
    src = torch.randn(2**30 // 2, device="cuda", dtype=DT)  # 1 GiB
    dst = torch.empty_like(src)
    copy = 2 * src.numel() * 2 / ms(lambda: dst.copy_(src)) / 1e9
    a, b = (torch.randn(8192, 8192, device="cuda", dtype=DT) for _ in range(2))
    flops = 2 * 8192**3 / ms(lambda: a @ b) / 1e9
    return copy, flops


def liger(name: str) -> object | str:
    """The Liger-Kernel attribute ``module:attr``, or why it is unavailable."""
    module, attr = name.split(":")
    try:
        return getattr(__import__(module, fromlist=[attr]), attr)
    except Exception as exc:  # an optional comparison: any import failure is reported in its row
        return f"unavailable ({type(exc).__name__}: {str(exc)[:60]})"


def liger_status() -> str:
    """One line: the Liger-Kernel version the liger rows measure, or that it is absent and why."""
    try:
        from importlib.metadata import PackageNotFoundError, version

        return f"Liger-Kernel {version('liger-kernel')}: its rows are measured in this run"
    except PackageNotFoundError:
        return ("Liger-Kernel is NOT installed: every liger row below is 'unavailable' "
                "(pip install liger-kernel --no-deps for the comparison)")


def table(title: str, rows: list[dict[str, object]], reference: str = "eager") -> None:
    """Print one op's table; "× ref" is the reference row's fwd+bwd time over the row's.

    The reference is the first row whose impl starts with ``reference`` ("eager" for most
    ops; the DBA tables name theirs), measured in the same process on the same inputs.
    """
    ref = next((r["fwd+bwd ms"] for r in rows if str(r["impl"]).startswith(reference) and "error" not in r), None)
    print(f"\n## {title}")
    head = ["impl", "fwd ms", "fwd TB/s", "fwd+bwd ms", "fwd+bwd TB/s", "fwd+bwd graph ms", "peak GiB", "× ref"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        if "error" in r:
            print(f"| {r['impl']} | {r['error']} |")
            continue
        speed = f"{ref / r['fwd+bwd ms']:.2f}" if isinstance(ref, float) else "—"
        graph = r.get("graph ms", float("nan"))
        print(f"| {r['impl']} | {r['fwd ms']:.3f} | {r['fwd TB/s']:.2f} | {r['fwd+bwd ms']:.3f} | "
              f"{r['fwd+bwd TB/s']:.2f} | {graph:.3f} | {r['peak GiB']:.3f} | {speed} |")


def run_impls(op: str, impls: dict[str, object], forward: Callable[[object], Fn], both: Callable[[object], Fn],
              fwd_bytes: float, both_bytes: float) -> list[dict[str, object]]:
    """Time every implementation's forward and fwd+bwd; a failing implementation gets an error row."""
    rows: list[dict[str, object]] = []
    for impl, fn in impls.items():
        if isinstance(fn, str):
            rows.append({"op": op, "impl": impl, "error": fn})
            continue
        try:
            f, fb = ms(forward(fn)), ms(both(fn))
            rows.append({"op": op, "impl": impl, "fwd ms": f, "fwd TB/s": fwd_bytes / f / 1e9, "fwd+bwd ms": fb,
                         "fwd+bwd TB/s": both_bytes / fb / 1e9, "peak GiB": peak(both(fn))})
            if impl != "liger":  # Liger is timed as launched only (its ops are not checked for graph capture)
                rows[-1]["graph ms"] = graph_ms(both(fn))
        except Exception as exc:  # one implementation failing must not hide the others' numbers
            rows.append({"op": op, "impl": impl, "error": f"failed: {type(exc).__name__}: {str(exc)[:100]}"})
    return rows


def first(out: object) -> torch.Tensor:
    """Liger's fused linear CE returns the loss alone or a tuple starting with it, by version."""
    return out[0] if isinstance(out, tuple) else out  # type: ignore[return-value]
