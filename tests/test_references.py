"""The reference style, the pasted/downloaded answer, and the safe rendering of passages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from assistant.types import (
    Answer,
    Citation,
    Passage,
    ScoredPassage,
    answer_markdown,
    format_reference,
    markers,
    page_of,
    short_title,
)
from assistant.web.exports import conversation_markdown, write_docx
from assistant.web.render import render_passage

D11_AM = ("Micro-GEAR D1.1: Analysis of Existing Micro-Credential Practices in Higher Education "
          "System of Armenia")


def _p(text: str = "x", **kw: Any) -> Passage:
    base: dict[str, Any] = {"id": "p1", "doc_id": "d11-armenia", "title": D11_AM,
                            "country": "AM", "year": 2024}
    base.update(kw)
    return Passage(text=text, **base)


def _answer(cits: list[Citation], text: str, q: str = "q") -> Answer:
    return Answer(question=q, text=text, citations=cits,
                  passages=[ScoredPassage(c.passage, 0.1) for c in cits], abstained=False,
                  mode="extractive")


def test_reference_style_for_policy_documents() -> None:
    p = _p(section="II. Survey results › **Question N8**", page=14, page_label="14")
    assert format_reference(Citation(1, p, "q")) == (
        "Micro-GEAR D1.1 Armenia (2024), II. Survey results › Question N8, p. 14")
    # No page where the document has none; the printed label wins over the PDF index.
    assert format_reference(_p(section="Intro")) == "Micro-GEAR D1.1 Armenia (2024), Intro"
    assert page_of(_p(page=3, page_label="iii")) == "iii"
    assert page_of(_p()) is None
    # Georgia's report gets its own name; a law keeps its full title and its year is not doubled.
    ge = _p(title=D11_AM.replace("Armenia", "Georgia"), country="GE")
    assert short_title(ge) == "Micro-GEAR D1.1 Georgia (2024)"
    law = _p(title="Law of Georgia on Higher Education (No 688, 21 December 2004)", country="GE",
             year=2004)
    assert short_title(law) == "Law of Georgia on Higher Education (No 688, 21 December 2004)"


def test_answer_markdown_has_clean_text_and_every_reference() -> None:
    p1 = _p("**22 Scientific** institutions took part.", section="II. Results", page=4)
    p2 = _p("It ran from May to June.", id="p2", section="I. Method")
    ans = _answer([Citation(1, p1, "22 Scientific institutions took part."),
                   Citation(2, p2, "It ran from May to June.")],
                  "“22 Scientific institutions took part.” [1]\n\n“It ran from May to June.” [2]")
    md = answer_markdown(ans)
    assert "**" not in md
    assert md.splitlines()[:3] == ["Question: q", "", "“22 Scientific institutions took part.” [1]"]
    assert "[1] Micro-GEAR D1.1 Armenia (2024), II. Results, p. 4: “22 Scientific" in md
    assert "[2] Micro-GEAR D1.1 Armenia (2024), I. Method: “It ran" in md
    assert markers(ans.text) == [1, 2]
    assert ans.references_markdown() == md  # the one style, also for Answer's own method
    conv = conversation_markdown([ans, _answer([], "No.", q="second?")])
    assert conv.count("## ") == 2
    assert "## 2. second?" in conv


def test_evidence_taken_away_says_where_its_quotes_are_from(tmp_path: Path) -> None:
    """An `evidence` outcome quotes the closest passage's best sentences: pasted or downloaded,
    those quotes carry the passage's reference (a trial found them unattributed)."""
    from docx import Document

    p = _p("The questionnaire was available from May 2nd to May 18th, 2024.",
           section="II. Methodology › 2.2. Selection", page=7)
    quote = "The questionnaire was available from May 2nd to May 18th, 2024."
    text = f"The documents discuss this subject.\n\n\u201c{quote}\u201d"
    ans = Answer(question="When?", text=text,
                 citations=[], passages=[ScoredPassage(p, 0.1)], abstained=True,
                 mode="extractive", outcome="evidence", highlights=[Citation(1, p, quote)])
    md = answer_markdown(ans)
    # taken away, it keeps the label the page shows above it (a trial pasted it as an answer)
    assert md.splitlines()[2] == "Evidence: may not answer the exact question"
    assert "References" in md
    assert ("[1] Micro-GEAR D1.1 Armenia (2024), II. Methodology › 2.2. Selection, p. 7: "
            "\u201cThe questionnaire was available") in md
    text = "\n".join(par.text for par in Document(
        str(write_docx([ans], tmp_path / "e.docx"))).paragraphs)
    assert "II. Methodology › 2.2. Selection, p. 7" in text
    assert text.startswith("Question: When?\nEvidence: may not answer the exact question")
    # an abstention that quotes nothing still has no references
    none = Answer(question="Fee?", text="Not found.", citations=[], passages=[], abstained=True,
                  mode="extractive", outcome="none")
    assert "References" not in answer_markdown(none)
    assert answer_markdown(none).startswith(
        "Question: Fee?\n\nNo answer in the indexed documents\n\nNot found.")


def test_docx_holds_the_same_text(tmp_path: Path) -> None:
    from docx import Document

    p = _p("Text with a quote here.", section="S", page=2)
    ans = _answer([Citation(1, p, "a quote here.")], "“a quote here.” [1]")
    path = write_docx([ans], tmp_path / "a.docx")
    paras = [x.text for x in Document(str(path)).paragraphs]
    assert "“a quote here.” [1]" in paras
    assert "[1] Micro-GEAR D1.1 Armenia (2024), S, p. 2: “a quote here.”" in paras


def test_render_passage_allows_a_few_tags_and_escapes_the_rest() -> None:
    text = ("## Results\n\nThe **council** met in colleges<sup>1</sup> <script>alert(1)</script>"
            ' <img src=x onerror="alert(2)"> in Yerevan.\n\n- one\n- two')
    out, found = render_passage(text, [(1, "The council met in colleges1")])
    assert found == [1]
    assert "<script>" not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert "<img" not in out
    assert "onerror" not in out or "&lt;img" in out
    assert "<strong>" in out
    assert "<sup><mark class=\"q q1\">1</mark></sup>" in out
    assert "**" not in out
    assert "<h2>Results</h2>" in out
    assert '<mark class="q q1">The </mark><strong><mark class="q q1">council</mark></strong>' in out


def test_several_quotes_in_one_passage_across_blocks() -> None:
    text = "First point here.\n\nSecond point\n\n- item one\n- item two\n\nThird point."
    out, found = render_passage(text, [(1, "First point here. Second point"),
                                       (3, "Third point.")])
    assert found == [1, 3]
    assert out.count('<mark class="q q1">') == 2  # reopened in the next paragraph
    assert '<mark class="q q3">Third point.</mark>' in out
    # Marks never straddle a tag: every opening has its closing before the next tag.
    import re

    for m in re.finditer(r"<mark[^>]*>([^<]*)</mark>", out):
        assert "<" not in m.group(1)
    assert out.count("<mark") == out.count("</mark>")
    # A quote that is not there is reported as not found.
    _, found = render_passage(text, [(2, "absent words")])
    assert found == []


def test_unbalanced_emphasis_left_by_a_chunk_cut_is_not_shown() -> None:
    out, _ = render_passage("- A total of 50 institutions (50 in total);**\n- **State - 13**")
    assert "**" not in out
    assert "<strong>State - 13</strong>" in out
    assert "50 in total);" in out


def test_a_quote_inside_another_quote_is_found_and_marked() -> None:
    """A trial saw "(quote not found in the passage)" beside a verified Compare quote: two
    citations of one card, the second's quote inside the first's, were merged into one mark
    that kept only the first number."""
    text = "Thus, there is no national legislation. Nevertheless, universities offer short courses."
    out, found = render_passage(text, [(20, text), (21, "Nevertheless, universities offer")])
    assert sorted(found) == [20, 21]
    assert '<mark class="q q20 q21">' in out  # page.js finds mark.q21 as well as mark.q20


def test_a_pdf_passage_card_shows_code_as_stored() -> None:
    """A trial saw a camlidl card drop the asterisks of C comments and set text in italics:
    PDF text is not Markdown, so its card shows every character as stored, quotes marked."""
    from assistant.types import Passage
    from assistant.web.sources import _card

    text = ("Both C-style comments /* ... */ and Java-style comments // ... are supported.\n"
            "C-style comments are introduced by /* and terminated by */. Use int *p and **q.")
    pdf = Passage(id="c1", doc_id="caml", title="camlidl", text=text, page=3)
    quote = "C-style comments are introduced by /* and terminated by */."
    html_out = _card(pdf, (Citation(1, pdf, quote),), 1, False)
    assert "<em>" not in html_out
    assert "<strong>" not in html_out
    assert "/* ... */ and Java-style" in html_out
    assert "int *p and **q." in html_out
    marked = '<mark class="q q1">C-style comments are introduced by /* and terminated by */.'
    assert marked in html_out
    # A Markdown document's emphasis is still rendered.
    md = Passage(id="m1", doc_id="r", title="report", text="A **bold** claim.")
    assert "<strong>bold</strong>" in _card(md, (), 1, False)


def test_the_answer_taken_away_holds_its_question(tmp_path: Path) -> None:
    """A trial pasted an answer and downloaded `answer-1.md` without the question it replies
    to: both start with it, and a rewritten follow-up also with the form it was read as."""
    from docx import Document

    from assistant.web.exports import write_export

    p = _p("22 scientific institutions took part.", section="II. Results", page=4)
    first = _answer([Citation(1, p, "22 scientific institutions took part.")],
                    "“22 scientific institutions took part.” [1]",
                    q="How many scientific institutions took part in the Armenian survey?")
    md = answer_markdown(first)
    assert md.splitlines()[:2] == [
        "Question: How many scientific institutions took part in the Armenian survey?", ""]
    assert "Read as" not in md  # not a follow-up: the question once
    assert md.splitlines()[2] == "“22 scientific institutions took part.” [1]"
    assert "[1] Micro-GEAR D1.1 Armenia (2024), II. Results, p. 4:" in md

    follow = Answer(question="And in Georgia?", text="Not found.", citations=[], passages=[],
                    abstained=True, mode="extractive", outcome="none",
                    standalone_question="How many scientific institutions took part in the "
                                        "survey in Georgia?")
    md = answer_markdown(follow)
    assert md.splitlines()[:4] == [
        "Question: And in Georgia?",
        "Read as: How many scientific institutions took part in the survey in Georgia?",
        "", "No answer in the indexed documents"]  # the outcome label kept
    file_md = answer_markdown(follow, markdown_file=True)
    assert file_md.startswith("Question: And in Georgia?\nRead as: How many")

    # answer-N.md and answer-N.docx, as the page's downloads write them
    folder = tmp_path / "x"
    written = write_export("answer-md", [first, follow], folder).read_text(encoding="utf-8")
    assert written.startswith("Question: And in Georgia?\nRead as: ")
    assert "Armenian survey" not in written  # only the answer on screen
    paras = [x.text for x in Document(str(write_export("answer-docx", [first, follow],
                                                        folder))).paragraphs]
    assert paras[:2] == ["Question: And in Georgia?", "Read as: How many scientific "
                         "institutions took part in the survey in Georgia?"]
    # the conversation's heading names the question; the rewritten form follows it once
    conv = conversation_markdown([first, follow])
    assert conv.count("Question: ") == 0
    assert conv.count("Read as: ") == 1
    assert "## 2. And in Georgia?\n\nRead as: How many" in conv
