"""Render a :class:`TargetPlan` as rich tables for the terminal."""

from __future__ import annotations

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from caramba.engine.plan.report import TargetPlan


def human(n: float, unit: str = "") -> str:
    """1234567 → '1.23 M' (decimal prefixes), bytes with unit 'B' use binary prefixes."""
    if unit == "B":
        for prefix in ("B", "KiB", "MiB", "GiB", "TiB"):
            if abs(n) < 1024 or prefix == "TiB":
                return f"{n:,.0f} B" if prefix == "B" else f"{n:,.2f} {prefix}"
            n /= 1024
    for prefix in ("", "K", "M", "G", "T", "P"):
        if abs(n) < 1000 or prefix == "P":
            return f"{n:,.2f} {prefix}{unit}".strip() if prefix else f"{n:,.0f}{(' ' + unit) if unit else ''}"
        n /= 1000
    return str(n)


def render(plan: TargetPlan, console: Console, layers: bool = True) -> None:
    """Print one target's plan."""
    console.rule(f"[bold]target {plan.target}[/] ({plan.type})")
    if plan.type == "process":
        console.print(plan.process)
        for note in plan.notes:
            console.print(f"[yellow]note:[/] {note}")
        return
    console.print(f"parameters: [bold]{plan.params_total:,}[/] ({human(plan.params_total)}), trainable {plan.params_trainable:,}")
    if plan.init:
        console.print(f"initialisation: {plan.init}")
    if layers and plan.layers:
        table = Table("layer", "type", "params", title="parameters per layer", title_justify="left")
        for row in plan.layers:
            table.add_row(row.name, row.type, f"{row.params:,}")
        console.print(table)
    if plan.kv_bytes_per_token:
        kv = Table("cache kind", "KV bytes / token", title="KV cache", title_justify="left")
        for kind, size in plan.kv_bytes_per_token.items():
            kv.add_row(kind, f"{size:,.1f}")
        console.print(kv)
    for run in plan.runs:
        m, f = run.memory_bytes, run.flops_per_token
        table = Table("", "", title=f"run {run.id}", title_justify="left", show_header=False)
        table.add_row("seed / steps", f"{run.seed} / {run.steps:,}")
        table.add_row("batch × block", f"{run.batch_size} × {run.block_size} on {run.device} ({run.dtype})")
        table.add_row("tokens consumed", f"{run.tokens:,} ({human(run.tokens)})")
        if f:
            table.add_row("FLOPs / token", f"forward {human(f['forward'])}, backward {human(f['backward'])}, step {human(f['train_step'])}")
        if run.ranks > 1:
            table.add_row("ranks", f"{run.ranks} ({run.strategy}); memory below is per rank")
        for key in ("weights", "gradients", "optimizer", "activations", "autocast copies", "ddp buckets", "gathered",
                    "teacher weights", "teacher cache", "total"):
            if key in m:
                table.add_row(f"memory: {key}", human(m[key], "B"))
        if run.device_memory_bytes is not None:
            table.add_row("device memory", human(run.device_memory_bytes, "B"))
        table.add_row("phases", " → ".join(run.phases))
        console.print(table)
    paths = Table("operation", "path on this machine", title=f"kernel paths ({plan.device})", title_justify="left")
    for op, path in plan.kernel_paths.items():
        paths.add_row(op, path)
    console.print(Group(paths))
    for note in plan.notes:
        console.print(f"[yellow]note:[/] {note}")
    for refusal in plan.refusals:
        console.print(f"[bold red]does not fit:[/] {refusal}")
