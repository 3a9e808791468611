"""Checkpoints: plain arrays, atomic writes, pickles refused, clear errors."""

import os

import numpy as np
import pytest

from minigan.checkpoint import CheckpointError, load_checkpoint, save_checkpoint


def test_round_trip_keeps_arrays_numbers_and_metadata(tmp_path):
    path = tmp_path / "run" / "last.npz"
    arrays = {"G.0.weight": np.arange(6.0).reshape(2, 3), "step_count": 7,
              "opt.lr": 2e-4, "labels": np.arange(3, dtype=np.uint8)}
    save_checkpoint(str(path), arrays, {"config": {"loss": "hinge"}, "epoch": 3})
    loaded, meta = load_checkpoint(str(path))
    assert meta == {"config": {"loss": "hinge"}, "epoch": 3}
    assert sorted(loaded) == sorted(arrays)
    np.testing.assert_array_equal(loaded["G.0.weight"], arrays["G.0.weight"])
    assert int(loaded["step_count"]) == 7 and loaded["labels"].dtype == np.uint8
    assert os.listdir(path.parent) == ["last.npz"]  # no temporary file left


def test_a_pickled_object_is_refused(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, __meta__=np.array("{}"), payload=np.array([{"a": 1}], dtype=object))
    with pytest.raises(CheckpointError, match="pickled objects"):
        load_checkpoint(str(path))
    with pytest.raises(CheckpointError, match="object array"):
        save_checkpoint(str(tmp_path / "x.npz"), {"bad": np.array([None], dtype=object)})


def test_truncated_and_foreign_files_get_clear_errors(tmp_path):
    path = tmp_path / "last.npz"
    save_checkpoint(str(path), {"w": np.ones((50, 50))})
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated or corrupted"):
        load_checkpoint(str(path))
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, w=np.ones(3))
    with pytest.raises(CheckpointError, match="not a minigan checkpoint"):
        load_checkpoint(str(foreign))
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        load_checkpoint(str(tmp_path / "missing.npz"))


def test_a_failed_write_leaves_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "last.npz"
    save_checkpoint(str(path), {"w": np.zeros(4)}, {"step": 1})

    def crash(file, **arrays):
        file.write(b"PK\x03\x04 partial")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(str(path), {"w": np.ones(4)}, {"step": 2})
    monkeypatch.undo()
    arrays, meta = load_checkpoint(str(path))
    assert meta == {"step": 1} and arrays["w"].tolist() == [0, 0, 0, 0]
    assert os.listdir(tmp_path) == ["last.npz"]
