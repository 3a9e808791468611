"""``metrics.jsonl``: one JSON object per generator step, read back strictly on resume.

A resumed run keeps the lines of the steps its checkpoint covers and drops the rest
(the steps after the checkpoint are trained again, identically). Reading them back is
the one place where a damaged file could silently lose data, so every complete line must
be a JSON object with an integer ``"step"``, steps increasing; anything else -- ``{}``,
``null``, bytes that are not UTF-8 -- stops the resume with the file and the line
number, before anything is written. Only the last line may be cut short without its
newline (a process killed in the middle of writing it); that piece is dropped.
"""

import json

from ..atomic import atomic_write
from ..errors import InputError


class MetricsFileError(InputError, ValueError):
    """A line of a run's metrics.jsonl is not a step record."""


def read_metrics(path, up_to_step):
    """The records of ``path`` with ``step <= up_to_step`` ([] if there is no file)."""
    try:
        with open(path, "rb") as file:
            data = file.read()
    except FileNotFoundError:
        return []
    lines = data.split(b"\n")
    lines.pop()  # after the last newline: empty, or a line cut by a kill
    records, previous = [], 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        record = _parse(path, number, line)
        if record["step"] <= previous:
            _fail(path, number, f"step {record['step']} after step {previous} (steps must "
                                "increase)")
        previous = record["step"]
        if record["step"] <= up_to_step:
            records.append(record)
    return records


def _parse(path, number, line):
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as error:
        _fail(path, number, f"not UTF-8 text ({error.reason} at byte {error.start})")
    try:
        record = json.loads(text)
    except ValueError as error:
        _fail(path, number, f"not JSON ({error})")
    step = record.get("step") if isinstance(record, dict) else None
    if not isinstance(step, int) or isinstance(step, bool) or step < 1:
        shown = text if len(text) <= 60 else text[:57] + "..."
        _fail(path, number, f"expected a JSON object with an integer 'step' >= 1, got {shown}")
    return record


def _fail(path, number, what):
    raise MetricsFileError(f"{path} line {number}: {what}; a resume keeps this file's lines "
                           "up to the checkpoint's step, so it must hold only step records: "
                           "repair or remove that line")


def check_metrics_reach(path, records, step, checkpoint):
    """Refuse a resume from ``checkpoint`` (at ``step``) whose metrics records (those of
    ``path`` up to ``step``) stop before it or skip steps: continuing would leave a hole in
    the run's record that nothing shows later. No records at all is allowed (a run branched
    off into a new directory starts its metrics at the checkpoint)."""
    if not records:
        return
    steps = [record["step"] for record in records]
    gap = next((b for a, b in zip(steps, steps[1:]) if b != a + 1), None)
    if gap is None and steps[-1] == step:
        return
    what = (f"jumps from step {steps[steps.index(gap) - 1]} to {gap}" if gap is not None
            else f"ends at step {steps[-1]}")
    raise MetricsFileError(
        f"{path} {what}, but the checkpoint {checkpoint} is at step {step}: the run's record "
        "of those steps is missing (a file cut short, or a rewind that was stopped); resume "
        "from a checkpoint the metrics reach, or into a new --out")


def write_metrics(path, records):
    """Replace ``path`` atomically with ``records``, one JSON line each."""
    with atomic_write(path, "w") as file:
        for record in records:
            file.write(json.dumps(record) + "\n")
