"""Armenian, Georgian and Russian question words read as the domain's English terms (issue 16).

The project's tokens are Latin letters and digits, so a question in another language had no
term at all: BM25, the ranker's and the answer model's word features saw nothing. The glossary
(``corpus/glossary.toml``) maps its words, inflected as users write them, to English terms.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import two_reports

from assistant.answer.questions import read_question
from assistant.answer.scorer import FEATURES, span_features
from assistant.answer.spans import build_spans
from assistant.config import Settings
from assistant.errors import ConfigError
from assistant.retrieve.glossary import load_glossary, matches
from assistant.retrieve.hybrid import HybridRetriever

BUNDLED = Settings().bundled_corpus_path / "glossary.toml"

ALPHA = """# Alpha country report

## Challenges

Employers named missing legislation and low awareness as the main challenges.

## Survey

The Alpha survey was answered by 41 universities and 9 colleges in total.
"""
BETA = """# Beta country report

## Survey

The Beta questionnaire was open from May 5th to May 20th, 2024.
"""
ASKED_RU = "Какие препятствия назвали работодатели?"  # "Which obstacles did employers name?"


@pytest.fixture(scope="module")
def glossary():  # noqa: ANN201
    return load_glossary(BUNDLED)


@pytest.mark.parametrize(("question", "expected"), [
    # Russian: genitive plural, adjective in the genitive, a changed ending
    ("Что такое микроквалификаций?", {"micro-credential"}),
    ("Уровни национальной квалификационной рамки", {"qualific", "framework", "national"}),
    ("Сколько кредитов ECTS в вузах?", {"credit", "univers"}),
    ("Кто отвечает за аккредитацию программ?", {"accredit", "programm"}),
    # Armenian: genitive (-ի, -ման), locative (-ում), plural with article (-ները)
    ("Որո՞նք են որակավորման ազգային շրջանակի մակարդակները", {"qualific", "framework",
                                                              "level"}),
    ("Ի՞նչ է միկրոհավաստագիրը:", {"micro-credential"}),
    ("համալսարաններում գործատուների", {"univers", "employ"}),
    # Georgian: genitive -ის, locative -ში, plural -ები (with a dropped stem vowel)
    ("კვალიფიკაციის ეროვნული ჩარჩოს დონეები", {"qualific", "national", "framework", "level"}),
    ("უნივერსიტეტებში სტუდენტები", {"univers", "stud"}),
    ("რას ფიქრობენ დამსაქმებლები?", {"employ"}),
])
def test_inflected_words_find_their_english_terms(glossary, question: str,  # noqa: ANN001
                                                  expected: set[str]) -> None:
    got = set(glossary.terms(question))
    assert expected <= got, got


@pytest.mark.parametrize("question", [
    "Должны ли мы это делать?",  # "должны" (must) shares only three letters with "доля"
    "Что это такое и где?",
    "What are the challenges?",  # English words are the tokenizer's, not the glossary's
])
def test_words_outside_the_domain_find_nothing(glossary, question: str) -> None:  # noqa: ANN001
    assert glossary.terms(question) == []


def test_a_short_form_does_not_swallow_a_longer_word() -> None:
    assert matches("процента", "процент", "ru")
    assert not matches("процесс", "процент", "ru")
    assert matches("вузах", "вуз", "ru")
    assert not matches("вузовскими", "вуз", "ru")  # five letters after a three-letter match
    assert not matches("որակավորում", "որակ", "hy")  # qualification is not quality


def test_a_phrase_or_a_word_in_another_script_is_refused_with_the_fix(tmp_path: Path) -> None:
    bad = tmp_path / "glossary.toml"
    bad.write_text('[[term]]\nen = ["law"]\nru = ["закон", "закон о"]\nhy = ["закон"]\n',
                   encoding="utf-8")
    with pytest.raises(ConfigError, match=r"single words .*: закон \(hy\), закон о \(ru\)"):
        load_glossary(bad)
    assert load_glossary(tmp_path / "missing.toml").terms("закон") == []


def test_a_russian_question_reaches_the_passage_by_its_english_terms(
        tmp_path: Path, bow_embeddings) -> None:  # noqa: ANN001
    s, index = two_reports(tmp_path, ALPHA, BETA, bow_embeddings)
    r = HybridRetriever(index, s).retrieve(ASKED_RU)
    assert {"challeng", "employ"} <= set(r.terms.translated)
    assert {"challeng", "employ"} <= set(r.terms.weights)
    # The glossary's terms are the question's terms: the ranker reads their word features.
    assert {"challeng", "employ"} <= set(r.terms.known)
    best = max(r.passages, key=lambda sp: sp.lexical or 0.0)
    assert best.passage.section.endswith("Challenges")
    assert (best.lexical or 0.0) > 0
    # The answer model's word features count the glossary terms as the question's.
    q = read_question(ASKED_RU, ASKED_RU)
    rows = span_features(q, r, list(build_spans(best)), "fused")
    coverage = FEATURES.index("coverage")
    assert max(row[coverage] for row in rows) > 0.5


def test_an_english_question_is_left_as_it_was(tmp_path: Path, bow_embeddings) -> None:  # noqa: ANN001
    s, index = two_reports(tmp_path, ALPHA, BETA, bow_embeddings)
    terms = HybridRetriever(index, s).terms("Which challenges did employers name?")
    assert terms.translated == ()
    assert {"challeng", "employ"} <= set(terms.known)
