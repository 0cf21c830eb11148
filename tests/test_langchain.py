"""The LangChain seam: the hybrid retriever as a BaseRetriever, the answer step as a Runnable.

Unit tests run on test_answer's synthetic corpus (bag-of-words fake embeddings, fake chat
model); the integration test runs docs/langchain.md's example on the bundled corpus with the
real embedding model.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from langchain_core.documents import Document
from langchain_core.language_models import FakeListChatModel
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableLambda
from test_answer import assistant  # noqa: F401  (the fixture: a small synthetic corpus)

from assistant.answer import Assistant
from assistant.answer.runnable import AnswerRunnable, cited_documents
from assistant.errors import InputError
from assistant.retrieve.langchain_retriever import PassageRetriever
from assistant.types import Passage

DOC = Path(__file__).resolve().parent.parent / "docs" / "langchain.md"
QUESTION = "How many universities answered the Alpha survey?"
PROVENANCE = ("passage_id", "doc_id", "title", "section", "start", "end")


def example_code() -> str:
    """The code block of docs/langchain.md that follows its ``example: chain`` marker."""
    text = DOC.read_text(encoding="utf-8")
    m = re.search(r"<!-- example: chain.*?-->\s*```python\n(.*?)```", text, re.S)
    assert m, "docs/langchain.md has no example block"
    return m.group(1)


def run_example(bot: Assistant, llm: Any, question: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {"assistant": bot, "llm": llm, "question": question}
    exec(compile(example_code(), str(DOC), "exec"), namespace)  # noqa: S102 (our own docs)
    return namespace


def test_the_retriever_returns_documents_with_provenance(assistant: Assistant) -> None:  # noqa: F811
    retriever = PassageRetriever(retriever=assistant.retriever, k=2)
    assert isinstance(retriever, BaseRetriever)
    docs = retriever.invoke(QUESTION)
    assert 1 <= len(docs) <= 2
    top = docs[0]
    assert isinstance(top, Document)
    assert top.metadata["doc_id"] == "alpha"
    assert all(key in top.metadata for key in PROVENANCE)
    assert top.id == top.metadata["passage_id"]
    assert top.metadata["rank"] == 1
    # The same passage as the assistant's own retrieval, and back again without loss.
    own = assistant.retriever.retrieve(QUESTION, k=2).passages[0].passage
    assert Passage.from_document(top) == own
    assert top.page_content == own.text


def test_the_retriever_applies_filters(assistant: Assistant) -> None:  # noqa: F811
    retriever = PassageRetriever(retriever=assistant.retriever, filters={"country": ["GE"]})
    docs = retriever.invoke(QUESTION)
    assert docs
    assert {d.metadata["doc_id"] for d in docs} == {"beta"}


def test_the_answer_runnable_invokes_streams_and_batches(assistant: Assistant) -> None:  # noqa: F811
    answerer = AnswerRunnable(assistant)
    assert isinstance(answerer, Runnable)
    answer = answerer.invoke(QUESTION)
    direct = assistant.ask(QUESTION)
    assert answer.text == direct.text
    assert not answer.abstained
    assert "41 universities" in answer.text
    assert [a.text for a in answerer.batch([QUESTION, {"question": QUESTION}])] == [direct.text] * 2
    assert [a.text for a in answerer.stream(QUESTION)][-1] == direct.text
    declined = answerer.invoke({"question": QUESTION, "filters": {"country": ["GE"]}})
    assert "41 universities" not in declined.text  # the filter reached the assistant


def test_streaming_yields_partial_answers_while_a_model_writes(assistant: Assistant) -> None:  # noqa: F811
    reply = "The Alpha survey was answered by 41 universities and 9 colleges."
    llm = FakeListChatModel(responses=[reply])
    writer = Assistant(assistant.settings, index=assistant.index, llm=llm)
    partials = list(AnswerRunnable(writer, mode="llm").stream(QUESTION))
    assert len(partials) > 1
    assert not partials[-1].abstained
    assert partials[-1].citations
    assert len(partials[0].text) < len(partials[-1].text)


def test_cited_documents_carry_the_quote_and_the_same_provenance(assistant: Assistant) -> None:  # noqa: F811
    answer = AnswerRunnable(assistant).invoke(QUESTION)
    docs = cited_documents(answer)
    assert [d.metadata["citation"] for d in docs] == [c.n for c in answer.citations]
    first, citation = docs[0], answer.citations[0]
    assert first.metadata["quote"] == citation.quote
    assert citation.quote in first.page_content
    assert Passage.from_document(first) == citation.passage
    assert all(key in first.metadata for key in PROVENANCE)


def test_bad_input_is_refused_with_a_reason(assistant: Assistant) -> None:  # noqa: F811
    answerer = AnswerRunnable(assistant)
    with pytest.raises(InputError, match="a dict with a 'question' string"):
        answerer.invoke({"q": QUESTION})  # type: ignore[arg-type]
    with pytest.raises(InputError, match="Unknown keys"):
        answerer.invoke({"question": QUESTION, "colour": "red"})
    with pytest.raises(InputError, match="Unknown answer options"):
        AnswerRunnable(assistant, temperature=0)


def test_the_documented_example_runs(assistant: Assistant) -> None:  # noqa: F811
    llm = FakeListChatModel(responses=["Forty-one universities."])
    seen: list[str] = []
    spy = RunnableLambda(lambda p: seen.append(p.to_string()) or p) | llm
    out = run_example(assistant, spy, QUESTION)
    assert out["rag_text"] == "Forty-one universities."
    assert "Alpha report" in seen[0]  # the retrieved passages, with provenance, reached the model
    assert "chars " in seen[0]
    assert "41 universities" in out["result"]["text"]
    assert out["result"]["sources"][0].metadata["doc_id"] == "alpha"
    assert out["partials"][-1].text == out["result"]["text"]
    assert len(out["answers"]) == 2


@pytest.mark.integration
def test_the_documented_example_runs_on_the_real_model(real_assistant: Assistant) -> None:
    question = "How many scientific institutions took part in the Armenian survey?"
    llm = FakeListChatModel(responses=["22."])  # the chat model is the user's; ours is extractive
    out = run_example(real_assistant, llm, question)
    assert "22 Scientific institutions" in out["result"]["text"]
    sources = out["result"]["sources"]
    assert sources[0].metadata["doc_id"] == "d11-armenia"
    assert sources[0].metadata["quote"] in sources[0].page_content
    docs = out["retriever"].invoke(question)
    assert any(d.metadata["doc_id"] == "d11-armenia" for d in docs)
    assert all(d.metadata["end"] > d.metadata["start"] for d in docs)
