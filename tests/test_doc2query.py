"""Questions written per passage by a local model (scripts/doc2query.py): parsing the model's
reply and the cache (resume, keyed by the passage text). On fakes: the local model is a function
that records its prompts."""

from __future__ import annotations

import sys
from pathlib import Path

from conftest import REPO

from assistant.prompts import load_prompt
from assistant.types import Passage

sys.path.insert(0, str(REPO))
from scripts import doc2query  # noqa: E402


def passage(pid: str, text: str) -> Passage:
    return Passage(id=pid, doc_id=f"d-{pid}", title="Report", text=text)


def test_parse_questions_strips_numbering_and_drops_what_is_not_a_question() -> None:
    reply = ("Here are the questions:\n1. How many institutions answered the survey?\n"
             "2) When was it run?\n- How many institutions answered the survey?\n"
             "* Which city hosted it?\nQuestion 4: Who paid?\n" + "Why " + "x" * 300 + "?")
    assert doc2query.parse_questions(reply, 3) == [
        "How many institutions answered the survey?", "When was it run?",
        "Which city hosted it?"]
    assert doc2query.parse_questions(reply, 5)[-1] == "Who paid?"
    assert doc2query.parse_questions("No questions here.", 3) == []
    two_on_a_line = "What is the business case? How can resources be allocated?\nWhy now?"
    assert doc2query.parse_questions(two_on_a_line, 2) == [
        "What is the business case?", "How can resources be allocated?"]


def test_cache_resumes_and_is_keyed_by_the_passage_text(tmp_path: Path) -> None:
    cache = tmp_path / "questions.jsonl"
    prompt = load_prompt(REPO / "prompts", "doc2query", ("passage", "n"))
    asked: list[str] = []

    def write(text: str) -> str:
        asked.append(text)
        return "1. What does this passage say?\n2. Why does it matter?"

    first = [passage("a", "Text one."), passage("b", "Text two."),
             passage("a-copy", "Text one.")]  # same text, other id: asked once
    doc2query.generate(first, write, prompt, 2, cache, "sha", log=lambda s: None)
    assert len(asked) == 2
    got = doc2query.load(cache)
    assert set(got) == {doc2query.text_key("Text one."), doc2query.text_key("Text two.")}
    assert got[doc2query.text_key("Text one.")].questions == (
        "What does this passage say?", "Why does it matter?")
    assert got[doc2query.text_key("Text one.")].prompt_version == prompt.version
    # A re-ingest gives passages new ids: their texts are cached, only the new text is asked.
    with cache.open("a", encoding="utf-8") as fh:
        fh.write('{"key": "torn')  # a run stopped mid-line loses nothing else
    doc2query.generate([passage("x", "Text two."), passage("y", "Text three.")], write, prompt,
                       2, cache, "sha", log=lambda s: None)
    assert len(asked) == 3
    assert "Text three." in asked[-1]
    assert len(doc2query.load(cache)) == 3
