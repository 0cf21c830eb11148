"""A new user's trial of the chat page and the command line (session 9, branch trialfix): a
URL quoted from an autolink linked with the sentence's ``\\>).”``, "###" inside a highlight,
a server path in an upload's message, a possessive in the unknown-name message, a coverage
note for a different law of a similar name, and the draft check's closest sentence listed twice.

Unit tests on fakes: pure functions and the page's handlers.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

from assistant.config import Settings
from assistant.types import Passage, ScoredPassage

ACA = ("For example, the Armenian Code Academy has had more than 10,000 graduates from the "
       "regions and Yerevan (Source: <https://armenpress.am/hy/article/1124273>).")
ACA_URL = "https://armenpress.am/hy/article/1124273"


def _scored(text: str, section: str = "Policy background") -> ScoredPassage:
    p = Passage(id="d11#1", doc_id="d11", title="Micro-GEAR D1.1 Armenia", country="AM",
                section=section, text=text)
    return ScoredPassage(p, 1.0)


# ---- 1. autolinks and heading marks in quotes ------------------------------------------------
def test_a_quotes_display_form_shows_an_autolinks_url_without_its_brackets() -> None:
    from assistant.answer.spans import build_spans, clean_item

    assert clean_item(ACA).endswith(f"(Source: {ACA_URL}).")
    assert clean_item("See \\<https://x.org/a\\>.") == "See https://x.org/a."
    span = next(s for s in build_spans(_scored(ACA)) if s.kind == "sentence")
    assert "<https://armenpress.am/hy/article/1124273>" in span.quote  # verbatim, verified
    assert "<" not in span.shown
    assert ACA_URL in span.shown


def _links(markdown: str) -> list[tuple[str, str]]:
    return re.findall(r"\[([^\]]*)\]\(<([^>]*)>\)", markdown)


def test_the_chat_links_a_quoted_url_and_nothing_after_it() -> None:
    from assistant.web.sources import linked_text

    for shown in (f"“Yerevan (Source: {ACA_URL}).” [1]",
                  f"“Yerevan (Source: <{ACA_URL}>).” [1]",
                  f"“Yerevan (Source: {ACA_URL}\\>).” [1]"):
        out = linked_text(shown, 3)
        assert _links(out) == [(ACA_URL, ACA_URL)], out
        assert "[\\[1\\]](#src-3-1)" in out
    out = linked_text("See https://en.wikipedia.org/wiki/A_(b), www.x.org. and https:// x", 1)
    assert _links(out) == [("https://en.wikipedia.org/wiki/A\\_(b)",
                            "https://en.wikipedia.org/wiki/A_(b)"),
                           ("www.x.org", "https://www.x.org")]


def test_a_highlight_starting_at_a_heading_shows_no_heading_marks() -> None:
    from assistant.web.render import render_passage

    text = ("Intro.\n\n### **Foreign Universities and branches:**\n\n1. American University\n"
            "2. European Academy\n\nYerevan (Source: <https://armenpress.am/hy/article/1>).")
    out, found = render_passage(text, [(1, "### Foreign Universities and branches: 1. American "
                                           "University 2. European Academy")])
    assert found == [1]
    assert "#" not in out
    assert "<h3>" in out
    out, _ = render_passage(text, [(1, "2. European Academy")])
    assert '<li><mark class="q q1">European Academy</mark></li>' in out
    out, _ = render_passage(text, [(2, "Yerevan (Source: <https://armenpress.am/hy/article/1>).")])
    assert "(Source: https://armenpress.am/hy/article/1).</mark>" in out
    assert "&lt;" not in out


# ---- 2. an upload's messages name the file, never its server path -----------------------------
def _corrupt_upload(tmp_path: Path) -> tuple[Settings, Path]:
    from conftest import make_settings

    settings = make_settings(tmp_path, copy_corpus=False)
    path = settings.data_path / "page-uploads" / ("ab" * 32) / "corrupt.pdf"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage\n")
    return settings, path


def test_a_corrupt_draft_is_named_as_the_user_named_it(tmp_path: Path) -> None:
    from assistant.web.check_tab import check_for_page

    settings, path = _corrupt_upload(tmp_path)
    msg, _, files = check_for_page(SimpleNamespace(settings=settings), "", str(path), None)
    assert msg.startswith("⚠ corrupt.pdf: PDF cannot be read"), msg
    assert "page-uploads" not in msg
    assert str(tmp_path) not in msg
    assert files == []


def test_the_library_upload_names_a_refused_file_by_its_name(tmp_path: Path) -> None:
    from assistant.web.corpus_tab import make_prefill

    settings, path = _corrupt_upload(tmp_path)
    page = SimpleNamespace(settings=settings)
    _, msg, _ = make_prefill(page)(str(path))  # type: ignore[arg-type]
    assert msg.startswith("⚠ corrupt.pdf was not added"), msg
    assert "page-uploads" not in msg
    assert str(tmp_path) not in msg


def test_error_messages_show_no_server_path(tmp_path: Path) -> None:
    import tempfile

    from assistant.errors import DocumentError
    from assistant.web.common import safe_error

    settings, path = _corrupt_upload(tmp_path)
    gradio_copy = Path(tempfile.gettempdir()) / "gradio" / ("cd" * 32) / "my draft.docx"
    stored = settings.uploads_path / "notes.md"
    for exc, expected in ((DocumentError(path, "file is empty"), "corrupt.pdf: file is empty"),
                          (DocumentError(gradio_copy, "x"), "my draft.docx: x"),
                          (OSError(f"cannot write {stored}: disk full"),
                           "cannot write notes.md: disk full")):
        assert safe_error(settings, exc) == expected
    assert safe_error(settings, DocumentError(path, "bad"), path) == "corrupt.pdf: bad"


# ---- 3. an unknown name as the reader wrote it -----------------------------------------------
def test_an_unknown_name_is_said_whole_in_the_questions_order(tmp_path: Path,
                                                              bow_embeddings) -> None:  # noqa: ANN001
    from conftest import SURVEY_ALPHA, SURVEY_BETA, two_reports

    from assistant.answer import Assistant

    s, index = two_reports(tmp_path, SURVEY_ALPHA, SURVEY_BETA, bow_embeddings)
    bot = Assistant(s, index=index, audit_log=s.data_path / "audit.jsonl")
    ans = bot.ask("What is the survey's view of Zhanna Andreasyan's report?")
    assert ans.audit["abstain_code"] == "unknown_name"
    assert "never mention Zhanna Andreasyan." in ans.text, ans.text
    ans = bot.ask("Did the survey of Paris, Tbilisi and Paris ask Berlin\u2019s universities?")
    assert "never mention Paris, Tbilisi, Berlin." in ans.text, ans.text


# ---- 4. a coverage note only for the document the question names ------------------------------
def test_a_new_law_of_a_similar_name_is_not_the_listed_one() -> None:
    from conftest import REPO

    from assistant.documents.manifest import load_manifest, names_document

    docs = {d.id: d for d in load_manifest(REPO / "corpus" / "corpus.toml")}
    am = docs["am-law-higher-postgraduate-education"]
    for other in ("When will the new Armenian Law on Higher Education and Science enter into "
                  "force?", "What does the Law on Higher Education and Science say?",
                  "What did the draft law of the RA on higher education change?"):
        assert not names_document(am, other), other
    for named in ("What does the Armenian Law on Higher and Postgraduate Professional Education "
                  "say?", "What does the law on higher education say about credits?",
                  "Is the Law on Higher Education and Postgraduate Professional Education in "
                  "force?", "Do the Law on Higher Education and Georgia's rules agree?"):
        assert names_document(am, named), named


def test_the_coverage_note_leaves_out_a_different_law(tmp_path: Path,
                                                      bow_embeddings) -> None:  # noqa: ANN001
    from conftest import REPO, SURVEY_ALPHA, SURVEY_BETA, two_reports

    from assistant.answer import Assistant

    s, index = two_reports(tmp_path, SURVEY_ALPHA, SURVEY_BETA, bow_embeddings)
    listed = (REPO / "corpus" / "corpus.toml").read_text(encoding="utf-8").split("[[document]]")
    law = next(b for b in listed if 'id = "am-law-higher-postgraduate-education"' in b)
    s.manifest_path.write_text(s.manifest_path.read_text(encoding="utf-8") +
                               "\n[[document]]" + law, encoding="utf-8")
    bot = Assistant(s, index=index)
    asked = bot.ask("When will the new Armenian Law on Higher Education and Science apply?")
    assert "not in the index" not in asked.text, asked.text
    named = bot.ask("What does the Armenian Law on Higher and Postgraduate Professional "
                    "Education say?")
    assert "Postgraduate Professional Education (14 December 2004) is not in the index" in (
        named.text), named.text


# ---- 5. the draft check's closest sentences, each once ---------------------------------------
def test_a_closest_sentence_is_listed_once_under_a_claim() -> None:
    from assistant.check.draft import closest_passages
    from assistant.check.evidence import _Cand

    may = "The questionnaire was available from May 2nd to May 18th, 2024."
    intro = "The main institutions of Georgia took part in the project. "
    doc = intro + may + " Answers came from 27 institutions."

    def cand(pid: str, start: int, end: int, sentence: str, topic: float) -> _Cand:
        p = Passage(id=pid, doc_id="d11-georgia", title="Micro-GEAR D1.1 Georgia",
                    country="GE", section="2.2. Selection", text=doc[start:end],
                    start=start, end=end)
        s = p.text.index(sentence)
        return _Cand(ScoredPassage(p, topic), s, s + len(sentence), topic)

    overlap = len(intro)  # the second chunk starts where the first one's last sentence does
    first, second = (0, len(intro) + len(may)), (overlap, len(doc))
    cands = [cand("g#1", *first, may, 0.8),
             cand("g#2", *second, may, 0.7),  # the same sentence, from the overlapping chunk
             cand("g#2", *second, "Answers came from 27 institutions.", 0.6),
             cand("g#1", *first, intro.strip(), 0.5)]
    shown = [(e.passage.id, e.quote) for e in closest_passages(cands)]
    assert shown == [("g#1", may), ("g#2", "Answers came from 27 institutions.")], shown
    # the same words in another document's passage (the reports copy sentences) stay
    other = Passage(id="a#1", doc_id="d11-armenia", title="Armenia", country="AM",
                    text=may, start=0, end=len(may))
    cands.insert(1, _Cand(ScoredPassage(other, 0.75), 0, len(may), 0.75))
    assert [e.passage.id for e in closest_passages(cands)] == ["g#1", "a#1", "g#2"]


# ---- 6. gradio's status line says a word, not its i18n key -------------------------------------
def test_the_page_gives_gradios_complete_status_an_english_text(tmp_path: Path) -> None:
    from conftest import make_settings

    from assistant.web.server import launch_options

    options = launch_options(make_settings(tmp_path, copy_corpus=False), None)
    assert options["i18n"].translations_dict["en"]["common.complete"] == "Done"
