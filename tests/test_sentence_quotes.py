"""Where a sentence ends next to an apostrophe or a closing quote (text.sentence_spans).

A trial's closest passage began "determinations, titles of the programme…": the Armenian
report's sentence "… name of the micro-credential, the providers'" | "determinations, …" is
broken by a page (a blank line) right after a possessive apostrophe, and the cut ended the
sentence there. An apostrophe or a closing quote after a word does not end a sentence; one
after . ! or ? does.
"""

from __future__ import annotations

import pytest

from assistant.text import sentence_spans


def _sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text)]


# The trial's sentence, as the Armenian report's text holds it (a page break after "providers'").
PROVIDERS = ("They consider that such a unified database/registry should contain information such "
             "as: name of the micro-credential, the providers'\n\ndeterminations, titles of the "
             "programme, workload in hours/ECTS credits, form of delivery.")


def test_the_trials_sentence_broken_after_an_apostrophe_is_one_sentence() -> None:
    text = f"A7. Most respondents want a registry. {PROVIDERS} Inclusion enables easier access."
    sentences = _sentences(text)
    assert PROVIDERS in sentences
    assert not any(s.startswith("determinations") for s in sentences)


@pytest.mark.parametrize("before", [
    "the learners’",  # typographic apostrophe
    "the so-called 'stackable'",  # single quotes around a word
    "the term “micro-credential”",  # closing double quote
    "the «Micro-GEAR»",  # guillemets
    "the so-called \"digital badge\"",  # straight double quotes
    "the “small, stackable,”",  # a comma inside the quote
])
def test_a_closing_quote_after_a_word_does_not_end_a_sentence_over_a_page(before: str) -> None:
    text = (f"The survey ran for two weeks. It asked about {before}\n\nrole in the new system. "
            "It ended.")
    sentences = _sentences(text)
    assert f"It asked about {before}\n\nrole in the new system." in sentences
    assert not any(s.startswith("role") for s in sentences)


@pytest.mark.parametrize("quoted", [
    "“They are useful.”",
    "'They are useful.'",
    "‘They are useful!’",
    "«They are useful?»",
    "\"They are useful.\"",
    "(They are useful.)",
])
def test_a_closing_quote_after_a_full_stop_ends_a_sentence(quoted: str) -> None:
    text = f"The respondents wrote {quoted} The ministry agreed."
    assert _sentences(text) == [f"The respondents wrote {quoted}", "The ministry agreed."]


@pytest.mark.parametrize("quoted",
                         ["“They are useful.”", "«They are useful.»", "'They are useful.'"])
def test_a_quote_that_ends_a_sentence_before_a_page_break_ends_it(quoted: str) -> None:
    """A lower-case line after the blank line does not join a sentence that ended in ." or .»"""
    text = f"The respondents wrote {quoted}\n\nmicro-credentials were then discussed."
    assert _sentences(text) == [f"The respondents wrote {quoted}",
                                "micro-credentials were then discussed."]


def test_a_sentence_after_an_opening_guillemet_starts_there() -> None:
    text = "The law was adopted in 2023. «Micro-credentials are new,» the ministry wrote."
    assert _sentences(text) == ["The law was adopted in 2023.",
                                "«Micro-credentials are new,» the ministry wrote."]
