"""What a run directory records about its data and time (config.json's and summary.json's
"train_data" / "test_data", metrics.jsonl's "epoch" and "elapsed_s"), and what a resumed
session says: the steps it trained, or for a finished run that there is nothing to do."""

import json
import re

from cli_rows import QUIET, finished_tiny_run, run, snapshot, tiny_data

from minigan.cli import main

TINY = ["--model", "mlp", "--batch-size", "50", "--seed", "3"]


def test_the_records_say_where_the_data_came_from_and_when_each_step_was(tmp_path):
    data = tiny_data(tmp_path / "data")
    out = tmp_path / "run"
    assert main(["train", "--data", data, *TINY, "--epochs", "2", "--no-progress",
                 "--evaluate", "20", "--out", str(out)]) == 0
    source = {"source": "directory", "path": data, "images": 200, "how": "--data"}
    assert json.loads((out / "config.json").read_text())["train_data"] == source
    summary = json.loads((out / "summary.json").read_text())
    assert summary["train_data"] == source and summary["test_data"] == source
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in records] == [1, 1, 1, 1, 2, 2, 2, 2]  # 200 digits, batch 50
    elapsed = [r["elapsed_s"] for r in records]
    assert 0 < elapsed[0] and elapsed == sorted(elapsed) and elapsed[-1] < 120


def test_the_embedded_sample_asked_for_is_recorded_as_such(tmp_path, capsys):
    out = tmp_path / "run"
    status, _, err = run(["train", "--data", "embedded", *TINY, "--max-steps", "1", *QUIET,
                          "--out", out], capsys)
    assert status == 0
    assert err.count("using the embedded MNIST sample") == 1 and "download" not in err
    # a run trains on the sample's 4,500 training digits (the other 500 are held out)
    assert json.loads((out / "config.json").read_text())["train_data"] == {
        "source": "embedded sample", "path": None, "images": 4500,
        "how": "asked for (--data embedded)"}


def test_no_download_falls_back_at_once_and_says_why(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("MINIGAN_OFFLINE")   # the tests' own guard; --no-download instead
    out = tmp_path / "run"
    status, _, err = run(["train", "--no-download", *TINY, "--max-steps", "1", *QUIET,
                          "--out", out], capsys)
    assert status == 0 and "; downloads are off (--no-download)." in err
    assert json.loads((out / "config.json").read_text())["train_data"]["how"] == (
        "no MNIST files found; downloads are off (--no-download)")


def test_a_resumed_session_says_what_it_trained_and_a_finished_run_that_it_is(tmp_path,
                                                                            capsys):
    _, out = finished_tiny_run(tmp_path, 0)     # 2 epochs of 4 steps
    last = out / "checkpoints" / "last.npz"
    before = snapshot(tmp_path)
    for extra in ([], ["--evaluate", "20"]):    # not scored again either
        status, printed, err = run(["train", "--resume", last, *extra], capsys)
        assert (status, err) == (0, "")
        assert printed == (f"nothing to do: the run in {last} is finished (step 8, 2 of 2 "
                           "epochs done); nothing was trained, scored or written. To train it "
                           f"further: minigan train --resume {last} --out {out} --epochs 4\n")
        assert snapshot(tmp_path) == before    # no resumes.jsonl line, no summary, nothing

    first = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    status, printed, _ = run(["train", "--resume", last, "--epochs", "3"], capsys)
    assert status == 0
    assert re.search(rf"^trained 4 steps in \d+ s \(steps 9-12 of the run, resumed at step 8\); "
                     rf"run directory: {re.escape(str(out))}$", printed, re.M), printed
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in records[8:]] == [3, 3, 3, 3]
    # elapsed_s goes on from the first session's
    assert records[7]["elapsed_s"] == first[7]["elapsed_s"] < records[8]["elapsed_s"]
    assert len((out / "resumes.jsonl").read_text().splitlines()) == 1


def test_a_run_ended_by_max_steps_goes_on_with_more_steps(tmp_path, capsys):
    data = tiny_data(tmp_path / "data")
    out = tmp_path / "run"
    assert main(["train", "--data", data, *TINY, "--max-steps", "3", *QUIET, "--out",
                 str(out)]) == 0
    status, printed, _ = run(["train", "--resume", out / "checkpoints" / "last.npz"], capsys)
    assert status == 0 and "is finished (step 3 of --max-steps 3)" in printed
    assert printed.rstrip().endswith(f"--out {out} --max-steps 6")
    assert not (out / "resumes.jsonl").exists()
