"""The answer step: from a question to a cited answer or a plain abstention.

Modules, in the order an answer passes through them:

- ``questions``   input checks, follow-ups, language, countries, the asked slot
- ``extractive``  sentence scoring and choice, with its constants in one place
- ``abstain``     every rule that makes the assistant decline, each with a named reason
- ``grounded``    the checks that keep a language model grounded, and the yes/no judge
- ``modes``       the registry of answer modes (extractive, verify, llm)
- ``evidence``    what an ``evidence`` outcome shows; a comparison's closest passage per country
- ``audit``       the audit record of an answer
- ``llm``         the chat model (an OpenAI-compatible server or a local GGUF)
- ``core``        :class:`Assistant`, which runs them

May import: the shared top, `assistant.documents`, `assistant.store` and `assistant.retrieve`.
"""

from assistant.answer.core import Assistant, verify_quote
from assistant.answer.grounded import split_answer_sentences
from assistant.answer.modes import MODE_NAMES, MODES, available_modes
from assistant.answer.questions import (
    History,
    check_question,
    condense_rule_based,
    looks_like_injection,
)
from assistant.prompts import ABSTAIN_TEXT

__all__ = [
    "ABSTAIN_TEXT",
    "MODES",
    "MODE_NAMES",
    "Assistant",
    "History",
    "available_modes",
    "check_question",
    "condense_rule_based",
    "looks_like_injection",
    "split_answer_sentences",
    "verify_quote",
]
