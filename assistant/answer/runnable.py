"""The answer step as a LangChain ``Runnable``: ``invoke``, ``stream`` and ``batch``.

``AnswerRunnable(Assistant(settings))`` takes a question (a string, or a dict with
``question`` and optionally ``history``, ``filters``, ``mode``, ``k``) and returns an
:class:`assistant.types.Answer`, which carries its citations and passages with their
provenance; ``stream`` yields partial answers while a language model writes (the last one is
final). ``cited_documents(answer)`` gives the cited passages as LangChain Documents with the
same metadata as ``PassageRetriever``'s. See docs/langchain.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from langchain_core.documents import Document
from langchain_core.runnables import Runnable, RunnableConfig
from langchain_core.runnables.config import ensure_config

from assistant.errors import InputError
from assistant.types import Answer

if TYPE_CHECKING:
    from assistant.answer.core import Assistant

Question = str | dict[str, Any]
_KEYS = ("history", "filters", "mode", "k")


class AnswerRunnable(Runnable[Question, Answer]):
    """``Assistant.ask`` as a Runnable: a question in, a cited answer (or an abstention) out."""

    def __init__(self, assistant: Assistant, **defaults: Any) -> None:
        unknown = set(defaults) - set(_KEYS)
        if unknown:
            raise InputError(f"Unknown answer options {sorted(unknown)}; use {list(_KEYS)}.")
        self.assistant = assistant
        self.defaults = defaults  # e.g. mode="extractive", filters={"country": ["AM"]}

    @property
    def InputType(self) -> type[Question]:  # noqa: N802 (LangChain's name)
        return Question  # type: ignore[return-value]

    @property
    def OutputType(self) -> type[Answer]:  # noqa: N802 (LangChain's name)
        return Answer

    def _arguments(self, question: Question) -> dict[str, Any]:
        if isinstance(question, str):
            return {"question": question, **self.defaults}
        if isinstance(question, dict) and isinstance(question.get("question"), str):
            extra = set(question) - {"question", *_KEYS}
            if extra:
                raise InputError(f"Unknown keys {sorted(extra)} in the input; "
                                 f"use 'question' and {list(_KEYS)}.")
            return {**self.defaults, **question}
        raise InputError("The input is a question: a string, or a dict with a 'question' string.")

    def _stream_answers(self, question: Question) -> Iterator[Answer]:
        yield from self.assistant.ask_stream(**self._arguments(question))

    def _ask(self, question: Question) -> Answer:
        *_, final = self._stream_answers(question)
        return final

    def invoke(self, input: Question, config: RunnableConfig | None = None,
               **kwargs: Any) -> Answer:
        """The final answer to one question."""
        return self._call_with_config(self._ask, input, ensure_config(config))

    def stream(self, input: Question, config: RunnableConfig | None = None,
               **kwargs: Any | None) -> Iterator[Answer]:
        """Partial answers while a language model writes; the last one is the final answer."""

        def answers(inputs: Iterator[Question]) -> Iterator[Answer]:
            for question in inputs:
                yield from self._stream_answers(question)

        yield from self._transform_stream_with_config(iter([input]), answers,
                                                      ensure_config(config))


def cited_documents(answer: Answer) -> list[Document]:
    """The passages an answer cites, as LangChain Documents, with the quote and its number."""
    return [c.passage.to_document(citation=c.n, quote=c.quote, verified=c.verified)
            for c in answer.citations]
