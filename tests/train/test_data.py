"""Token files through memmap, synthetic tasks, tokenizers and `caramba data prepare`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from caramba.cli.app import app
from caramba.engine.data.synthetic import CopyingTask, InductionHeadsTask, MQARTask, SelectiveCopyingTask
from caramba.engine.data.tokenizers import TokenizerUnavailable, load_tokenizer
from caramba.engine.data.tokens import DataFileMissing, TokenDataset


def test_token_file_is_memmapped_split_at_the_tail_and_deterministic(tmp_path: Path) -> None:
    np.save(tmp_path / "t.npy", (np.arange(10_000) % 500).astype(np.uint16))
    ds = TokenDataset("t.npy", block_size=16, seed=3, val_frac=0.1, base_dir=tmp_path)
    assert isinstance(ds.tokens, np.memmap)
    assert ds.split_size("train") == 9000 - 16 and ds.split_size("val") == 1000 - 16
    a, b = ds.batch("train", 7, 4), ds.batch("train", 7, 4)
    assert (a["inputs"] == b["inputs"]).all() and a["inputs"].shape == (4, 16)
    assert (a["targets"][:, :-1] == a["inputs"][:, 1:]).all()
    val = ds.batch("val", 0, 64)["inputs"]
    assert int(((val - (np.arange(9000, 10_000) % 500).min()) >= 0).all())  # values exist in the tail
    starts = [int(np.where((np.arange(10_000) % 500) == int(v[0]))[0][-1]) for v in val]
    assert min(starts) >= 9000 - 500  # sampled from the last part of the file


def test_bin_files_and_missing_file_message(tmp_path: Path) -> None:
    (np.arange(1000, dtype=np.uint32) + 70_000).tofile(tmp_path / "t.bin")
    ds = TokenDataset("t.bin", block_size=8, dtype="uint32", seed=0, val_frac=0.0, base_dir=tmp_path)
    assert int(ds.batch("train", 0, 2)["inputs"].min()) >= 70_000 and ds.split_size("val") == 0
    with pytest.raises(DataFileMissing, match="caramba data prepare"):
        TokenDataset("nope.npy", block_size=8, seed=0, val_frac=0.1, base_dir=tmp_path)


@pytest.mark.parametrize("task", [MQARTask, CopyingTask, SelectiveCopyingTask, InductionHeadsTask])
def test_synthetic_tasks_are_seeded_scored_and_in_vocabulary(task: type) -> None:
    ds = task(vocab_size=64, block_size=64, difficulty=2, num_examples=100, data_seed=5, seed=0, val_frac=0.1)
    batch = ds.batch("train", 3, 8)
    again = task(vocab_size=64, block_size=64, difficulty=2, num_examples=100, data_seed=5, seed=99, val_frac=0.1).batch("train", 3, 8)
    other = task(vocab_size=64, block_size=64, difficulty=2, num_examples=100, data_seed=6, seed=0, val_frac=0.1).batch("train", 3, 8)
    assert (batch["inputs"] == again["inputs"]).all() and not (batch["inputs"] == other["inputs"]).all()
    assert batch["inputs"].shape == batch["targets"].shape == (8, 64)
    assert int(batch["inputs"].max()) < 64
    scored = batch["targets"] != -100
    assert scored.any(dim=1).all()
    assert ds.split_size("val") == 10


def test_synthetic_task_that_cannot_fit_says_how_to_fix() -> None:
    with pytest.raises(ValueError, match="raise block_size or lower difficulty"):
        MQARTask(vocab_size=512, block_size=32, difficulty=5, num_examples=10, data_seed=0, seed=0, val_frac=0.1)


def test_data_prepare_with_the_byte_tokenizer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("héllo\n" * 3)
    (tmp_path / "docs" / "b.md").write_text("world\n")
    result = CliRunner().invoke(app, ["data", "prepare", "docs", "--out", "data.npy", "--format", "json"])
    assert result.exit_code == 0, result.output
    tokens = np.load(tmp_path / "data.npy")
    assert tokens.dtype == np.uint16 and bytes(tokens.tolist()) == ("héllo\n" * 3 + "world\n").encode()
    assert json.loads(result.stdout[result.stdout.index("{"):])["tokens"] == len(tokens)


def test_tokenizer_json_works_and_unavailable_tokenizers_explain(tmp_path: Path) -> None:
    from tokenizers import Tokenizer, models, pre_tokenizers

    tok = Tokenizer(models.WordLevel({"hello": 0, "world": 1, "[UNK]": 2}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.save(str(tmp_path / "tokenizer.json"))
    loaded = load_tokenizer(str(tmp_path))
    assert loaded.encode("hello world") == [0, 1] and loaded.vocab_size == 3
    with pytest.raises(TokenizerUnavailable, match="tokenizer.json"):
        load_tokenizer("llama")
    with pytest.raises(TokenizerUnavailable, match="no file"):
        load_tokenizer("missing/tokenizer.json", tmp_path)
    result = CliRunner().invoke(app, ["data", "prepare", str(tmp_path), "--tokenizer", "llama"])
    assert result.exit_code == 2
