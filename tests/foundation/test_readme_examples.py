"""Every example in README.md works as written: its commands run, its YAML validates.

The README's ``bash`` blocks are read from the file itself (continuation lines joined,
comments dropped, ``a && b`` split), so an example that is edited or added is what gets
tested. Each command is either

* **run** — in README order, in one workspace, through the real ``caramba`` CLI: text
  in ``notes/``, a ``caramba.yml`` that switches memory recording off (the memory has
  its own tests), a tiny random Llama in ``my-llama/``. The README's example run ids
  (``full_pipeline-train-3d443554``, ``RUN_ID``, ``RUN_A``, ``RUN_B``) are replaced by
  the ids of runs made here (``RUN_B``: the README's training command on a renamed
  2-head target, since a comparison needs two arms); or
* **validated only**, for the reason :data:`VALIDATED` gives (a key, two hosts, a GPU
  launch, a server that runs until stopped, the set-up scripts themselves): its
  arguments are parsed by the real command (caramba's click tree, torchrun's parser,
  ``bash -n``), and what it names must exist.

A command that is neither fails the test, so a new example cannot go untested. The
``yaml`` blocks validate: the distributed block inside a manifest (``M.yml`` of the
commands around it, which the dry run plans on 2 ranks), the ``caramba.yml`` block as a
workspace's settings.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import shlex
import subprocess
from pathlib import Path

import click
import pytest
import torch
import typer
from typer.testing import CliRunner

from caramba.cli.app import app

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
EXAMPLE_IDS = ("full_pipeline-train-3d443554", "RUN_ID", "RUN_A")
LOCAL_SERVER = "local-server-brainstorm"  # the README block tests/agents/test_litellm_path.py runs

# command prefix → why it is validated and not run (and where it is run instead)
VALIDATED = {
    ("./scripts/demo",): "the set-up itself (installs, then the whole demo); timed in docs/measurements.md",
    ("./scripts/test",): "the set-up itself: it is the command that runs this test",
    ("caramba", "codegraph-sync"): "indexes this whole repository (minutes on 2 cores); the demo runs it, "
                                   "tests/codegraph syncs fixture repositories",
    ("caramba", "codegraph", "callers"): "needs the graph of the sync before it; tests/codegraph runs callers",
    ("caramba", "mcp"): "a server that runs until stopped; tests/tools start it over stdio and HTTP",
    ("caramba", "brainstorm", "--topic", "Is DBA worth it at 4k context?"): "needs a hosted LLM's key (openai/gpt-4o-mini)",
    ("export", "OPENAI_API_KEY=sk-local"): f"the {LOCAL_SERVER} block: run by tests/agents/test_litellm_path.py",
    ("caramba", "brainstorm", "--topic", "Is decoupled attention worth its cost at 4k context?"):
        f"the {LOCAL_SERVER} block: run by tests/agents/test_litellm_path.py against the scripted server",
    ("caramba", "develop"): "an agent process: needs an LLM provider's key; tests/processes/development runs it "
                            "against the scripted models",
    ("caramba", "paper"): "an agent process: needs an LLM provider's key; tests/processes/paper_write runs it "
                          "against the scripted models",
    ("caramba", "run", "M.yml", "--nproc"): "starts torchrun with 2 ranks; tests/train/test_distributed runs ranks",
    ("torchrun",): "needs two hosts",
}


def code_blocks(language: str) -> list[tuple[int, str, str]]:
    """(line of the opening fence, the comment line above it or '', text) of every ``language`` block."""
    lines = README.read_text().splitlines()
    found, i = [], 0
    while i < len(lines):
        if lines[i].strip() == f"```{language}":
            end = lines.index("```", i + 1)
            found.append((i + 1, lines[i - 1] if i else "", "\n".join(lines[i + 1:end])))
            i = end
        i += 1
    return found


def commands() -> list[tuple[int, list[str]]]:
    """(README line, argv) of every command of every bash block; ``['caramba', 'schema', '>', 'f']`` keeps a redirect."""
    out = []
    for line, _, text in code_blocks("bash"):
        for logical in text.replace("\\\n", " ").splitlines():
            words = shlex.split(logical, comments=True)
            while words:
                cut = words.index("&&") if "&&" in words else len(words)
                out.append((line, words[:cut]))
                words = words[cut + 1:]
    return out


def why_not_run(argv: list[str]) -> str | None:
    """The reason ``argv`` is only validated, or None when it is run."""
    return next((why for prefix, why in VALIDATED.items() if tuple(argv[:len(prefix)]) == prefix), None)


def parse_with_the_cli(argv: list[str]) -> None:
    """Parse ``caramba …`` arguments with caramba's own click command tree (nothing runs)."""
    command: click.Command = typer.main.get_command(app)
    ctx = command.make_context("caramba", argv[1:], resilient_parsing=False)
    while isinstance(command, click.Group) and ctx.protected_args:
        name, *rest = [*ctx.protected_args, *ctx.args]
        command = command.get_command(ctx, name)
        assert command is not None, f"caramba has no command {name!r}"
        ctx = command.make_context(name, rest, parent=ctx)


def validate(argv: list[str]) -> None:
    """Check a command that is not run: its arguments parse, what it names exists."""
    if argv[0].startswith("./scripts/"):
        script = ROOT / argv[0]
        assert os.access(script, os.X_OK), f"{script} is not executable"
        assert subprocess.run(["bash", "-n", str(script)], capture_output=True).returncode == 0
    elif argv[0] == "torchrun":
        from torch.distributed.run import get_args_parser

        args = get_args_parser().parse_args(argv[1:])
        assert args.module and args.training_script == "caramba" and args.training_script_args[0] == "run"
        parse_with_the_cli(["caramba", *args.training_script_args])
    elif argv[0] == "export":
        assert re.fullmatch(r"[A-Z_]+=\S+", argv[1])
        assert LOCAL_SERVER in (ROOT / "tests" / "agents" / "test_litellm_path.py").read_text()
    else:
        parse_with_the_cli(argv)
        if argv[1:3] == ["codegraph", "callers"]:  # the symbol the example asks about exists
            module, _, name = argv[3].removeprefix("caramba.").rpartition(".")
            assert hasattr(importlib.import_module(f"caramba.{module}"), name), argv[3]


def invoke(root: Path, argv: list[str]) -> str:
    """Run ``caramba …`` in ``root`` (a ``> file`` redirect writes the output there); its output."""
    redirect = argv.index(">") if ">" in argv else None
    args = argv[1:redirect]
    before = Path.cwd()
    os.chdir(root)
    try:
        result = CliRunner().invoke(app, args)
    finally:
        os.chdir(before)
    assert result.exit_code == 0, f"caramba {shlex.join(args)} failed:\n{result.output}"
    if redirect is not None:
        (root / argv[redirect + 1]).write_text(result.stdout)
    return result.output


def tiny_llama(folder: Path) -> None:
    """A random 1-layer Llama checkpoint in Hugging Face's layout (config.json + model.safetensors)."""
    from safetensors.torch import save_file

    d, heads, kv, ff, vocab = 32, 4, 2, 64, 64
    generator = torch.Generator().manual_seed(0)
    shapes = {"model.embed_tokens.weight": (vocab, d), "model.norm.weight": (d,), "lm_head.weight": (vocab, d),
              "model.layers.0.input_layernorm.weight": (d,), "model.layers.0.post_attention_layernorm.weight": (d,),
              "model.layers.0.self_attn.q_proj.weight": (d, d), "model.layers.0.self_attn.o_proj.weight": (d, d),
              "model.layers.0.self_attn.k_proj.weight": (kv * d // heads, d),
              "model.layers.0.self_attn.v_proj.weight": (kv * d // heads, d),
              "model.layers.0.mlp.gate_proj.weight": (ff, d), "model.layers.0.mlp.up_proj.weight": (ff, d),
              "model.layers.0.mlp.down_proj.weight": (d, ff)}
    folder.mkdir()
    save_file({k: 0.02 * torch.randn(shape, generator=generator) for k, shape in shapes.items()}, folder / "model.safetensors")
    (folder / "config.json").write_text(json.dumps({
        "model_type": "llama", "architectures": ["LlamaForCausalLM"], "vocab_size": vocab, "hidden_size": d,
        "intermediate_size": ff, "num_hidden_layers": 1, "num_attention_heads": heads, "num_key_value_heads": kv,
        "max_position_embeddings": 64, "rms_norm_eps": 1e-6, "hidden_act": "silu", "rope_theta": 10000.0,
        "tie_word_embeddings": False}))


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """notes/ of text, settings without memory recording, and a tiny random Llama checkpoint."""
    root = tmp_path_factory.mktemp("readme")
    (root / "notes").mkdir()
    for name in ("benchmarks.md", "contracts.md", "security.md"):
        (root / "notes" / name).write_text((ROOT / "docs" / name).read_text())
    (root / "caramba.yml").write_text("memory: {record_runs: false, record_sessions: false}\n")
    tiny_llama(root / "my-llama")
    distributed = next(text for _, _, text in code_blocks("yaml") if "distributed:" in text)
    (root / "M.yml").write_text("extends: complete_example\n" + distributed + "\n")  # the block, in a manifest
    return root


def check_output(root: Path, argv: list[str], output: str) -> None:
    """What a user relies on from each example, beyond its exit code 0."""
    words = argv[1:]
    if words[:2] == ["data", "prepare"]:
        assert (root / "data.npy").stat().st_size > 10_000
    elif words[0] == "validate" and "--format" in words:
        assert json.loads(output) == {"ok": True, "errors": []}
    elif words[0] == "validate":
        assert "valid" in output
    elif words[0] == "init":
        assert (root / words[words.index("--out") + 1]).read_text().startswith("#")
    elif words[0] == "run" and "--dry-run" in words:
        assert "parameters" in output.lower()
    elif words[0] == "run":
        assert "perplexity" in output and "artifacts" in output
    elif words[0] == "schema":
        assert json.loads((root / argv[-1]).read_text())["type"] == "object"
    elif words[:2] == ["runs", "show"]:
        assert json.loads(output)["status"] == "succeeded"
    elif words[0] == "generate":
        assert output.strip()
    elif words[0] == "compare":
        assert (root / words[-1] / "comparison.json").is_file()
    elif words[0] == "import-hf":
        assert (root / words[-1] / "manifest.yml").is_file() and (root / words[-1] / "model.safetensors").is_file()
    elif words[0] == "export-hf":
        assert json.loads((root / words[-1] / "config.json").read_text())["model_type"] in ("llama", "gpt2")


def test_every_command_is_run_or_validated(workspace: Path) -> None:
    torch.set_num_threads(1)
    examples = commands()
    assert len(examples) >= 20, "the README's bash blocks were not found"
    ran, checked, ids = [], [], []
    for line, argv in examples:
        reason = why_not_run(argv)
        assert reason is not None or argv[0] == "caramba", (
            f"README.md:{line}: {shlex.join(argv)} is neither run nor validated: add it to VALIDATED with the reason")
        if reason is not None:
            validate(argv)
            checked.append(f"{shlex.join(argv)}  ({reason})")
            continue
        if "RUN_B" in argv and len(ids) < 2:  # a second arm to compare with: the README's training run, 2 heads
            trained = next(a for _, a in examples if a[1:2] == ["run"] and "--set" in a and "--dry-run" not in a)
            variant = ["targets[0].name=two_heads", "entrypoints.default=two_heads", "vars.n_heads=2"]
            ids += re.findall(r"succeeded: (\S+)", invoke(workspace, [*trained, *(w for v in variant for w in ("--set", v))]))
        argv = [(ids[0] if word in EXAMPLE_IDS else ids[1] if word == "RUN_B" else word) if ids else word for word in argv]
        output = invoke(workspace, argv)
        check_output(workspace, argv, output)
        if argv[1] == "run" and "--dry-run" not in argv:
            ids += re.findall(r"succeeded: (\S+)", output)
        ran.append(shlex.join(argv))
    print("\nrun:", *ran, "validated only:", *checked, sep="\n  ")
    assert len(ran) >= 12 and len(ids) == 2


def test_the_workspace_settings_example_is_valid(tmp_path: Path) -> None:
    """The README's ``caramba.yml`` block, as a workspace's settings, lets the complete example validate."""
    import numpy as np

    assert len(code_blocks("yaml")) == 2, "README has a new yaml example: validate it here too"
    settings = next(text for _, _, text in code_blocks("yaml") if "python_allowlist" in text)
    (tmp_path / "caramba.yml").write_text(settings + "\n")
    text = (ROOT / "docs" / "benchmarks.md").read_bytes()
    np.save(tmp_path / "data.npy", np.frombuffer(text, dtype=np.uint8).astype(np.uint16))
    assert "valid" in invoke(tmp_path, ["caramba", "validate", "complete_example"])
