"""Never unpickle: a pickle payload in a checkpoint is refused, never executed, and no code
in caramba calls a loader that could execute one.

The attack (issue #13): a checkpoint folder whose ``state.pt`` is a pickle with a
``__reduce__`` payload, named as a ``benchmarks[].models`` entry or left in a run's
checkpoints for the resume to read. The code scan walks the AST of every module of the
package and fails on any call that unpickles: ``pickle``/``dill``/``joblib``/``shelve``
loaders, ``torch.load`` without a literal ``weights_only=True``, ``numpy.load`` with
``allow_pickle=True``, ``yaml.load``/``yaml.unsafe_load`` (PyYAML's object tags).
"""

from __future__ import annotations

import ast
import json
import pickle
from pathlib import Path

import pytest
import torch
from torch import nn

from caramba.engine.bench.models import load_weights
from caramba.engine.manifest.defaults import RuntimeDefaults
from caramba.engine.train.checkpoint import Checkpoints, CorruptCheckpoint
from caramba.engine.train.checkpoint import files

PACKAGE = Path(__file__).resolve().parents[2]
UNPICKLING_MODULES = {"pickle", "_pickle", "cPickle", "dill", "joblib", "shelve", "cloudpickle"}


class _Payload:
    """Unpickling this runs ``Path.touch(marker)``: the proof that a payload executed."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (Path.touch, (str(self.marker),))  # type: ignore[return-value]


def _evil_checkpoint(folder: Path, marker: Path) -> Path:
    """A trainer checkpoint whose checksums are right but whose state.pt is a pickle payload."""
    model = nn.Linear(3, 2)
    files.write(folder, model, {"step": 1}, 1, {})
    (folder / files.STATE).write_bytes(pickle.dumps({"optimizer": _Payload(marker)}))
    meta = json.loads((folder / files.META).read_text())
    meta["files"][files.STATE] = files.sha256(folder / files.STATE)
    (folder / files.META).write_text(json.dumps(meta))
    return folder


def test_resume_refuses_a_pickle_payload_in_state_pt(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    _evil_checkpoint(tmp_path / "ckpts" / "step_00000001", marker)
    with pytest.raises(CorruptCheckpoint, match="refused, nothing executed"):
        files.read(tmp_path / "ckpts" / "step_00000001", nn.Linear(3, 2), torch.device("cpu"))
    said: list[str] = []
    keeper = Checkpoints(tmp_path / "ckpts", RuntimeDefaults(), said.append)
    assert keeper.latest(nn.Linear(3, 2), torch.device("cpu")) is None  # skipped, training starts afresh
    assert "not plain training state" in said[0]
    assert not marker.exists()


def test_a_benchmarked_checkpoint_folder_loads_weights_only(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    folder = _evil_checkpoint(tmp_path / "step_00000001", marker)
    model = nn.Linear(3, 2)
    load_weights(model, folder, torch.device("cpu"))
    assert not marker.exists()


def test_real_training_state_round_trips_through_the_safe_loader(tmp_path: Path) -> None:
    from caramba.engine.train.seeding import rng_state, set_rng_state

    model = nn.Linear(3, 2)
    optimizer = torch.optim.AdamW(model.parameters())
    model(torch.ones(1, 3)).sum().backward()
    optimizer.step()
    import numpy as np

    state = {"optimizer": optimizer.state_dict(), "rng": rng_state(), "best": None, "stopped": None}
    expected = np.random.random()
    files.write(tmp_path / "step_00000001", model, state, 1, {})
    _, loaded = files.read(tmp_path / "step_00000001", nn.Linear(3, 2), torch.device("cpu"))
    set_rng_state(loaded["rng"])
    assert np.random.random() == expected
    torch.optim.AdamW(model.parameters()).load_state_dict(loaded["optimizer"])


def _call_name(node: ast.Call) -> str:
    parts = []
    func: ast.AST = node.func
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if isinstance(func, ast.Name):
        parts.append(func.id)
    return ".".join(reversed(parts))


def _keyword(node: ast.Call, name: str) -> ast.AST | None:
    return next((k.value for k in node.keywords if k.arg == name), None)


def unpickling_calls(source: str) -> list[tuple[int, str]]:
    """``(line, why)`` for every call in ``source`` that could unpickle (module docstring)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for name in names:
                if name.split(".")[0] in UNPICKLING_MODULES - {"pickle"}:
                    found.append((node.lineno, f"imports {name}"))
            if isinstance(node, ast.ImportFrom) and node.module in ("pickle", "_pickle") and \
                    any(a.name in ("load", "loads", "Unpickler") for a in node.names):
                found.append((node.lineno, "imports pickle's loader"))
        if not isinstance(node, ast.Call):
            continue
        name = _call_name(node)
        last = name.rsplit(".", 1)[-1]
        head = name.split(".")[0]
        if head in UNPICKLING_MODULES and last in ("load", "loads", "Unpickler", "open"):
            found.append((node.lineno, f"{name}() unpickles"))
        elif name.endswith("torch.load"):
            flag = _keyword(node, "weights_only")
            if not (isinstance(flag, ast.Constant) and flag.value is True):
                found.append((node.lineno, "torch.load without a literal weights_only=True"))
        elif name in ("np.load", "numpy.load"):
            flag = _keyword(node, "allow_pickle")
            if flag is not None and not (isinstance(flag, ast.Constant) and flag.value is False):
                found.append((node.lineno, "numpy.load with allow_pickle"))
        elif name in ("yaml.unsafe_load", "yaml.full_load", "yaml.load_all", "yaml.unsafe_load_all"):
            found.append((node.lineno, f"{name}() builds arbitrary objects"))
        elif name == "yaml.load":
            loader = _keyword(node, "Loader") or (node.args[1] if len(node.args) > 1 else None)
            if not (loader is not None and "SafeLoader" in ast.unparse(loader)):
                found.append((node.lineno, "yaml.load without a SafeLoader"))
        elif name in ("pd.read_pickle", "pandas.read_pickle"):
            found.append((node.lineno, "pandas.read_pickle unpickles"))
    return found


def test_the_scanner_catches_every_loader_form() -> None:
    bad = ("import dill\nimport pickle\npickle.loads(b'')\ntorch.load('x')\ntorch.load('x', weights_only=False)\n"
           "np.load('x', allow_pickle=True)\nyaml.load(t)\nyaml.unsafe_load(t)\npd.read_pickle('x')\n"
           "from pickle import loads\nshelve.open('x')\n")
    assert sorted(line for line, _ in unpickling_calls(bad)) == [1, 3, 4, 5, 6, 7, 8, 9, 10, 11]
    good = ("torch.load('x', weights_only=True)\nnp.load('x', mmap_mode='r')\nyaml.safe_load(t)\n"
            "yaml.load(t, Loader=yaml.CSafeLoader)\npickle.dumps(1)\n")
    assert unpickling_calls(good) == []


def test_no_code_in_caramba_can_unpickle() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] in (".venv", "tests", "build") or "site-packages" in relative.parts:
            continue
        offenders += [f"{relative}:{line}: {why}" for line, why in unpickling_calls(path.read_text())]
    assert not offenders, "loaders that can execute a pickle payload:\n" + "\n".join(offenders)
