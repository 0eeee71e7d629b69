"""``caramba upcycle-surgery``'s output: a folder a manifest run starts from.

Like ``import-hf``, it writes ``manifest.yml`` (a fine-tuning experiment whose model is the
DBA student and whose run starts from ``init_from: model.safetensors``, strict),
``model.safetensors`` (the student's weights, caramba names) and ``surgery.json`` (the
per-layer report: kept attention-logit energy before training, semantic rank, geometric
pairs, the fastest RoPE frequency moved to the rotation-free semantic path).
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from caramba.engine.hf.checkpoint import write_weights
from caramba.engine.hf.manifest import manifest_for
from caramba.engine.upcycle.surgery import Surgery, surgery


def write_surgery(teacher: str | Path, out: Path, sem_dim: int, geo_dim: int, gate: bool = False,
                  v_dim: int | None = None) -> tuple[Path, Surgery]:
    """Run :func:`surgery` and write its folder; returns the manifest's path and the surgery.

    Everything is computed before the folder is touched, so a refused teacher or shape
    leaves nothing half-written.
    """
    done = surgery(teacher, sem_dim, geo_dim, gate, v_dim)
    shape = f"DBA sem_dim={sem_dim} geo_dim={geo_dim}" + (f" v_dim={v_dim}" if v_dim else "") + (" gate" if gate else "")
    manifest = manifest_for(done.config, f"{teacher} ({shape}, by surgery)", out.name.replace(" ", "_") or "upcycled")
    out.mkdir(parents=True, exist_ok=True)
    write_weights(done.student.state_dict(), out / "model.safetensors")
    (out / "surgery.json").write_text(json.dumps({"teacher": str(teacher), "sem_dim": sem_dim, "geo_dim": geo_dim, "gate": gate,
                                                  "v_dim": v_dim, "kv_ratio": done.kv_ratio, "layers": [r.as_dict() for r in done.report]}, indent=2))
    path = out / "manifest.yml"
    header = (f"# {out.name} — the DBA student of {teacher} after surgery (weights: model.safetensors, report: surgery.json).\n"
              "# The run fine-tunes it with next-token CE; to distil it from the teacher instead, use\n"
              "# trainer.upcycle with phase blockwise / global (docs/upcycling.md, presets/upcycle_dba.yml).\n")
    path.write_text(header + yaml.safe_dump(manifest, sort_keys=False))
    return path, done
