"""The game pages run: every ```python block of docs/game.md, docs/quizzes.md and
docs/misconceptions.md executes and its assertions hold (the pages' numbers are
measured, not typed); every quiz question has a collapsible answer with a reason."""

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent.parent / "docs"
PAGES = ["game.md", "quizzes.md", "misconceptions.md"]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def blocks():
    for name in PAGES:
        for i, code in enumerate(BLOCK.findall((DOCS / name).read_text(encoding="utf-8"))):
            yield pytest.param(name, code, id=f"{name}-{i + 1}")


@pytest.mark.parametrize("name, code", list(blocks()))
def test_page_code_runs(name, code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    exec(compile(code, f"docs/{name}", "exec"), {"__name__": "__doc_block__"})


def test_every_page_has_code_to_run():
    counts = {name: len(BLOCK.findall((DOCS / name).read_text(encoding="utf-8")))
              for name in PAGES}
    assert counts["game.md"] >= 1 and counts["quizzes.md"] >= 1
    assert counts["misconceptions.md"] >= 6, counts


def test_every_quiz_question_has_a_collapsible_answer_with_a_reason():
    text = (DOCS / "quizzes.md").read_text(encoding="utf-8")
    answers = re.findall(r"<details><summary>Answer</summary>\n(.*?)</details>", text,
                         flags=re.DOTALL)
    questions = re.findall(r"^\*\*\d+\.\d+\*\* |^## \d+\. Match|^## \d+\. Binary", text,
                           flags=re.MULTILINE)
    assert len(answers) == len(questions) >= 15
    for answer in answers:
        assert len(answer.split()) >= 25, f"an answer without a reason: {answer[:80]!r}"
    for claim in ["Training a GAN is equivalent to playing a game",
                  "After some time, the equilibrium is always reached",
                  "Game theory is a subfield of deep learning",
                  "discriminator loss reaches 0"]:
        assert claim in text
