"""Reading a question: language, countries, the asked slot, follow-ups; the synonym table;
the answer-mode registry; what may be quoted as an answer. Pure functions, no index."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.answer.modes import MODE_NAMES, available_modes
from assistant.answer.questions import (
    condense_rule_based,
    countries_in,
    detect_language,
    detect_slot,
    is_follow_up,
    read_question,
)
from assistant.answer.spans import is_statement
from assistant.config import Settings
from assistant.errors import ConfigError
from assistant.retrieve.synonyms import SynonymTable, load_synonyms
from assistant.text import stem, tokens

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("question", "lang"),
    [("How many universities took part?", "en"),
     ("Сколько университетов участвовало в опросе в Армении?", "ru"),
     ("Քանի՞ համալսարան է մասնակցել հարցմանը։", "hy"),
     ("რამდენმა უნივერსიტეტმა მიიღო მონაწილეობა?", "ka"),
     ("Сколько ECTS нужно?", "ru")],
)
def test_language_is_read_from_the_script(question: str, lang: str) -> None:
    assert detect_language(question) == lang


@pytest.mark.parametrize(
    ("question", "countries"),
    [("How many universities answered in Armenia?", {"AM"}),
     ("Compare Armenian and Georgian universities", {"AM", "GE"}),
     ("Сколько вузов в Грузии?", {"GE"}),
     ("Какие проблемы в Армении?", {"AM"}),
     ("Քանի՞ համալսարան կա Հայաստանում", {"AM"}),
     ("რა გამოწვევებია საქართველოში?", {"GE"}),
     ("What does the EU Recommendation say?", {"EU"}),
     ("What is a micro-credential?", set())],
)
def test_countries_in_four_languages(question: str, countries: set[str]) -> None:
    assert countries_in(question) == countries


@pytest.mark.parametrize(
    ("question", "kind", "noun"),
    [("How many scientific institutions took part in the Armenian survey?", "count", "institution"),
     ("How many graduates did the course have?", "count", "graduat"),
     ("When was the Georgian questionnaire available?", "date", ""),
     ("Who is the Minister of Education of Armenia?", "person", ""),
     ("How much does a micro-credential cost at Ilia State University?", "money", ""),
     ("What percentage of respondents support micro-credentials?", "percent", ""),
     ("How long are the professional courses?", "duration", ""),
     ("Сколько университетов участвовало?", "count", ""),
     ("Когда проходил опрос?", "date", ""),
     ("რამდენი უნივერსიტეტი?", "count", ""),
     ("Ե՞րբ էր հասանելի հարցաթերթը", "date", ""),
     ("What are the main challenges in Georgia?", None, None),
     ("Which article of the law defines complimentary education?", None, None)],
)
def test_the_asked_slot(question: str, kind: str | None, noun: str | None) -> None:
    slot = detect_slot(question, detect_language(question))
    if kind is None:
        assert slot is None
        return
    assert slot is not None
    assert slot.kind == kind
    if noun:
        assert slot.noun == noun


def test_slot_values() -> None:
    count = detect_slot("How many graduates?")
    assert count is not None
    assert count.filled_by("The course had 120 graduates.")
    assert not count.filled_by("The course was introduced in 2024.")  # a year is no count
    assert not count.filled_by("7. Tbilisi State University")  # list numbering is no figure
    date = detect_slot("When did it start?")
    assert date is not None
    assert date.filled_by("It started on 2 May 2024.")
    assert not date.filled_by("It started after the reform.")
    person = detect_slot("Who is the Minister of Education of Armenia?")
    assert person is not None
    assert not person.filled_by("In 2024 Tirana Communique ministers committed to the reform.")
    assert person.filled_by("The minister, Dr. Zhanna Andreasyan, opened the event.")
    money = detect_slot("How much does the course cost?")
    assert money is not None
    assert money.filled_by("The course costs 300 EUR.")
    assert not money.filled_by("The course is offered by the university.")


def test_a_question_not_in_english_keeps_its_countries_and_slot() -> None:
    q = read_question("Сколько научных учреждений участвовало в опросе в Армении?",
                      "Сколько научных учреждений участвовало в опросе в Армении?")
    assert q.lang == "ru"
    assert q.asked_country == "AM"
    assert q.slot is not None
    assert q.slot.kind == "count"


def test_comparisons_ask_for_both_countries() -> None:
    q = read_question("Compare how Armenia and Georgia recognise prior learning",
                      "Compare how Armenia and Georgia recognise prior learning")
    assert q.both_countries
    assert q.asked_country is None
    one = read_question("What are the main challenges in Georgia?",
                        "What are the main challenges in Georgia?")
    assert one.asked_country == "GE"
    assert not one.both_countries
    # "both" about two kinds of QA, one country named: that country's documents answer it
    # (it was read as a comparison and quoted the Georgian figure for Armenia).
    both = "How many Armenian respondents supported both internal and external QA?"
    q = read_question(both, both)
    assert q.asked_country == "AM"
    assert not q.both_countries


# -- follow-ups --------------------------------------------------------------------------------
def test_follow_ups_are_recognised() -> None:
    assert is_follow_up("and in Armenia?")
    assert is_follow_up("how long did it run?")
    assert is_follow_up("what about quality assurance there?")
    assert is_follow_up("А в Армении?")
    assert not is_follow_up("When was the Georgian questionnaire open?")
    assert is_follow_up("Georgia?")
    # short questions of their own are not follow-ups (issue 18)
    assert not is_follow_up("What is ECTS?")
    assert not is_follow_up("Is there any legislation?")
    assert not is_follow_up("Are there national registers?")


def test_their_after_both_countries_points_to_them_not_to_the_earlier_question() -> None:
    # A trial: "How do Armenia and Georgia differ in their approach to micro-credentials?"
    # after a question on employers was read as "… (How are employers involved …)?".
    q = "How do Armenia and Georgia differ in their approach to micro-credentials?"
    assert not is_follow_up(q)
    assert condense_rule_based(q, [("How are employers involved?", "…")]) == q
    # one country named: "their" may still point back
    assert is_follow_up("What do Armenian universities think of their role?")
    assert is_follow_up("what are their main obstacles?")


def test_follow_up_with_a_pronoun_keeps_the_earlier_question() -> None:
    history = [("When was the Georgian questionnaire available?", "…")]
    standalone = condense_rule_based("how long did it run?", history)
    assert standalone.startswith("how long did it run")
    assert "Georgian questionnaire" in standalone


def test_follow_up_there_takes_the_earlier_country() -> None:
    history = [("What are the main obstacles to micro-credentials in Georgia?", "…")]
    standalone = condense_rule_based("what about quality assurance there?", history)
    assert "quality assurance in Georgia" in standalone


def test_follow_up_in_russian_swaps_the_country() -> None:
    history = [("How many institutions answered the survey in Georgia?", "…")]
    assert condense_rule_based("А в Армении?", history) == (
        "How many institutions answered the survey in Armenia?")


# -- what can be an answer ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("unit", "ok"),
    [("#### **g. Main challenges**", False),
     ("**Main challenges**", False),
     ("- ✓ quality of the study programme", False),
     ("Diagram 3. The main challenges for higher education institutions", False),
     # a trial saw "Question N2." highlighted as the closest passage's finding
     ("Question N2.", False),
     ("**Diagram N4. The current uptake of micro-credentials in AM legislation**", False),
     ("**17. Please indicate what are the main challenges facing your institution?**", False),
     ("- ✓ **Scientific institutions – 22**", True),
     ("The data shows that the main challenge in implementing micro-credential is the absence "
      "of an appropriate legal framework.", True),
     ("The institutions named the following challenges:", True),
     ("Please provide links to relevant information and documentation, if available.", False),
     ("The main challenges facing your institution for the implementation of "
      "micro-credentials23", False),
     ("Asking the question in this way had two purposes: 1.", False),
     ("To verify how the opinion on this issue was expressed, and 2.", False)],
)
def test_headings_options_and_fragments_are_not_answers(unit: str, ok: bool) -> None:
    assert is_statement(unit) is ok


# -- synonyms ----------------------------------------------------------------------------------
def test_stems_meet_across_number_and_spelling() -> None:
    assert stem("challenge") == stem("challenges")
    assert stem("recognise") == stem("recognised") == stem("recognize")
    assert stem("course") == stem("courses")
    assert tokens("organization") == tokens("organisations")


def test_synonym_table_links_words_by_stem() -> None:
    table = SynonymTable.of([["challenge", "obstacle", "hurdle"]])
    assert stem("challenges") in table.equivalents(stem("obstacles"))
    assert table.equivalents("unrelated") == frozenset()


def test_the_bundled_synonym_table_loads() -> None:
    table = load_synonyms(REPO / "corpus" / "synonyms.toml")
    assert stem("challenge") in table.equivalents(stem("barrier"))
    # two trials asked when a questionnaire was "open"; the reports say "available from … to …"
    assert stem("available") in table.equivalents(stem("open"))
    assert load_synonyms(REPO / "no-such-file.toml").groups == ()


def test_a_synonym_phrase_is_refused_with_the_fix(tmp_path: Path) -> None:
    bad = tmp_path / "syn.toml"
    bad.write_text('[[group]]\nwords = ["legal framework", "law"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="single words"):
        load_synonyms(bad)


# -- modes -------------------------------------------------------------------------------------
def test_modes_without_a_model_say_what_to_set() -> None:
    modes = available_modes(Settings())
    assert set(modes) == set(MODE_NAMES) == {"extractive", "verify", "llm"}
    assert modes["extractive"] is None
    assert "ASSISTANT_LLM_BASE_URL" in str(modes["verify"])
    configured = available_modes(Settings(llm_base_url="http://127.0.0.1:9/v1"))
    assert configured["verify"] is None
    assert configured["llm"] is None


def test_an_opener_with_a_subject_of_its_own_stands_alone() -> None:
    """A trial: "And since when has ANQA been in the IMINQA group?" after a question on who
    co-chairs a working group was read with that question, and a wrong date was answered."""
    prev = "Who co-chairs the Working Group on Micro-Credentials within the TPG on QA?"
    q = "And since when has ANQA been in the IMINQA group?"
    assert condense_rule_based(q, [(prev, "…")]) == q
    # the same names as the earlier question, or a word pointing back: still a follow-up
    assert condense_rule_based("And since when has it been in the group?", [(prev, "…")]) != (
        "And since when has it been in the group?")
    assert "Armenia" in condense_rule_based(
        "and how many said via a national register?",
        [("How do people in Armenia find out if a micro-credential is quality assured?", "…")])
    # a short "what about X?" leans on the earlier question
    assert "(" in condense_rule_based("what about ECTS?", [(prev, "…")])


def test_a_follow_up_that_names_its_country_drops_the_earlier_one_never_swaps_it() -> None:
    """A trial: "…Georgian respondents … such courses?" after a question on the Armenian Code
    Academy was read with "the Georgian Code Academy", which does not exist."""
    q = "What percentage of Georgian respondents already had experience with such courses?"
    standalone = condense_rule_based(q, [("How many graduates has the Armenian Code Academy had?",
                                          "…")])
    assert "Code Academy" in standalone
    assert "Georgian Code Academy" not in standalone
    assert "Armenian" not in standalone
    possessive = condense_rule_based("What share of Georgian universities had such obstacles?",
                                     [("What are Armenia's main obstacles?", "…")])
    assert possessive.endswith("(What are main obstacles)?")
