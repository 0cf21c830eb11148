"""PDF and HTML extraction: page-exact citations, checked labels, sections, readable quotes.

The integration cases run on real PDFs that no one here wrote: Debian documentation packages
that ``make install-test`` installs (see the Makefile's ``pdfdocs`` target). Every expected page
below was checked against poppler's ``pdftotext -f N -l N`` (an independent extractor) and the
page number printed on the page.
"""

from __future__ import annotations

import gzip
import random
import re
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest
from langchain_core.embeddings import Embeddings

from assistant.config import Settings
from assistant.documents.chunking import chunk_document
from assistant.documents.html import decode_html, html_to_text
from assistant.documents.loaders import LoadedDocument, load_document
from assistant.documents.manifest import corpus_entries
from assistant.documents.pdf import (
    assemble_pdf_text,
    checked_labels,
    printed_page_numbers,
    readability_problem,
    roman_to_int,
)
from assistant.errors import DocumentError
from assistant.text import contains_quote, normalize
from assistant.types import SECTION_SEP, Answer, Citation, DocumentInfo, Passage


# -- printed page numbers and labels --------------------------------------------------------------
def test_roman_numerals() -> None:
    assert [roman_to_int(s) for s in ("i", "iv", "ix", "xiv", "XL")] == [1, 4, 9, 14, 40]
    assert roman_to_int("mix") == 1009  # a well-formed numeral (M + IX), in either case
    assert roman_to_int("MMXXIV") == 2024
    for malformed in ("iiii", "vv", "ic", "xm", "mmmm"):
        assert roman_to_int(malformed) is None, malformed
    assert roman_to_int("civil") is None
    assert roman_to_int("") is None


def _pages(headers: list[str]) -> list[list[str]]:
    body = ["Body text about micro-credentials.", "Chapter 2 says more.", "See section 4.",
            "More text."]
    return [[h, *body] for h in headers]


def test_label_table_off_by_four_is_replaced_by_printed_numbers() -> None:
    # Front matter i..iv, then body pages printed 1, 2, 3 …; the PDF's table says 5, 6, 7 ….
    headers = ["Manual", "Manual ii", "Manual iii", "Manual iv"] + [
        f"Manual {n} / 9" for n in range(1, 10)]
    printed = printed_page_numbers(_pages(headers))
    assert printed[1] == "ii"
    assert printed[3] == "iv"
    assert printed[4] == "1"
    assert printed[12] == "9"
    table: list[str | None] = ["i", "ii", "iii", "iv"] + [str(n) for n in range(5, 14)]
    labels = checked_labels(table, printed)
    assert labels[4:] == [str(n) for n in range(1, 10)]
    assert labels[0] is None  # the table was wrong elsewhere: its "i" cannot be trusted


def test_label_table_that_agrees_is_used_on_unnumbered_pages() -> None:
    printed = {1: "2", 2: "3", 3: "4"}
    assert checked_labels(["1", "2", "3", "4"], printed) == ["1", "2", "3", "4"]


def test_no_printed_numbers_means_no_label() -> None:
    assert checked_labels(["i", "ii", "iii"], {}) == [None, None, None]


# -- assembling pages: normalisation and the character → page map ----------------------------------
def _assembled() -> tuple[str, list]:  # type: ignore[type-arg]
    raw = [
        "Guide 1 / 3\nThe ﬁrst page deﬁnes the ﬁelds and ends in the middle of a sen\ufffe\n"
        "tence that runs on",
        "Guide 2 / 3\nover the page break. Then the second page says something else entirely.",
        "Guide 3 / 3\nThe third page closes the document.\n3",
    ]
    doc = assemble_pdf_text(raw, [None, None, None], [], [], Path("x.pdf"))
    return doc.text, doc.pages


def test_ligatures_hyphens_and_running_headers_are_normalised() -> None:
    text, pages = _assembled()
    assert "\ufb01" not in text
    assert "first page defines the fields" in text
    assert "sentence that runs on" in text
    assert "Guide" not in text  # running header with the page number
    assert not text.rstrip().endswith("3")  # bare page number in the footer
    assert [p.label for p in pages] == ["1", "2", "3"]


def test_every_character_maps_to_its_page() -> None:
    text, pages = _assembled()
    assert "second page says" in text[pages[1].start : pages[1].end]
    assert "third page closes" in text[pages[2].start : pages[2].end]
    info = DocumentInfo(id="g", title="Guide")
    doc = LoadedDocument(info=info, text=text, fmt="pdf", sha256="0" * 64, pages=pages)
    passages = chunk_document(doc, Settings(chunk_size=300, chunk_overlap=0))
    p = next(p for p in passages if "runs on" in p.text and "over the page" in p.text)
    assert p.page == 1
    assert p.page_breaks
    across = Citation(1, p, "a sentence that runs on over the page break.")
    assert across.page_display == "pp. 1\u20132"
    assert across.page_label == "1\u20132"
    assert across.to_dict()["pages"] == [1, 2]
    second = Citation(2, p, "Then the second page says something else entirely.")
    assert (second.page, second.page_label, second.page_display) == (2, "2", "p. 2")
    first = Citation(3, p, "The first page defines the fields")
    assert first.page == 1
    assert first.to_dict()["page"] == 1
    answer = Answer(question="q", text="a [1] [2]", citations=[across, second], passages=[],
                    abstained=False, mode="extractive")
    refs = answer.references_markdown()
    assert "[1] Guide, pp. 1\u20132:" in refs
    assert "[2] Guide, p. 2:" in refs
    assert across.location() == "Guide, pp. 1\u20132"


def test_page_breaks_survive_the_metadata_round_trip() -> None:
    p = Passage(id="x", doc_id="d", title="T", text="one two three", page=4, page_label="iv",
                page_breaks=((4, 5, "v"), (8, 6, "")))
    meta = p.to_metadata()
    assert all(isinstance(v, (str, int, float, bool)) for v in meta.values())
    back = Passage.from_metadata("x", p.text, meta)
    assert back == p
    assert Citation(1, back, "three").pages == [(6, None)]
    assert Citation(1, back, "two three").page_display == "pp. v\u20136"
    plain = Passage(id="y", doc_id="d", title="T", text="no pages")
    assert Passage.from_metadata("y", plain.text, plain.to_metadata()) == plain
    assert Citation(1, plain, "no pages").page_display == ""


def test_glued_words_are_reported() -> None:
    glued = "Thisdocumentcanbeusedaccordingtothetermsofthelicense " * 10
    assert readability_problem(glued)
    assert readability_problem("This document can be used according to the terms. " * 10) is None


# -- Markdown sections ----------------------------------------------------------------------------
def test_hash_in_fenced_code_and_list_items_are_not_headings() -> None:
    text = "\n".join([
        "# Title", "", "## 1. Setup", "", "Run this:", "", "```sh", "# install the tool",
        "make install", "```", "", "Members:", "", "1. First member", "2. Second member", "",
        "## 3. Third member", "", "## 2. Usage", "", "Use it daily.", "",
    ])
    info = DocumentInfo(id="m", title="M")
    doc = LoadedDocument(info=info, text=text, fmt="md", sha256="0" * 64)
    passages = chunk_document(doc, Settings(chunk_size=200, chunk_overlap=0))
    sections = {p.section for p in passages}
    assert not any("install the tool" in s for s in sections)
    assert not any("Third member" in s for s in sections)
    usage = next(p for p in passages if "Use it daily" in p.text)
    assert usage.section == "2. Usage"


@pytest.fixture(scope="module")
def report_sections() -> dict[str, list[str]]:
    s = Settings()
    out: dict[str, list[str]] = {}
    for e in corpus_entries(s):
        if e.info.id.startswith("d11-"):
            out[e.info.id] = [p.section for p in
                              chunk_document(load_document(e.path, e.info, s), s)]
    return out


def test_bundled_reports_list_items_own_no_sections(report_sections: dict[str, list[str]]) -> None:
    for sections in report_sections.values():
        assert not any("GRENA" in s for s in sections)
        for s in sections:
            for part in s.split(SECTION_SEP):
                assert part != "credentials?"


def test_bundled_reports_chapters_are_top_level(report_sections: dict[str, list[str]]) -> None:
    ge = set(report_sections["d11-georgia"])
    assert "III. Survey results" in ge
    assert f"II. Methodology{SECTION_SEP}2.2. Selection" in ge
    assert any(s.startswith("IV. Findings") for s in ge)
    am = set(report_sections["d11-armenia"])
    assert f"II. Survey results{SECTION_SEP}Scientific organizations" in am
    assert any(s.startswith("III. Findings") for s in am)
    assert f"II. Survey results{SECTION_SEP}RECOGNITION{SECTION_SEP}Question N12" in am


# -- HTML -----------------------------------------------------------------------------------------
def test_declared_charset_is_honoured(tmp_path: Path) -> None:
    html = ('<html><head><meta http-equiv="Content-Type" content="text/html; '
            'charset=ISO-8859-1"></head><body><p>Le caf\xe9 de l\'universit\xe9 d\xe9livre '
            'des micro-certifications.</p></body></html>')
    path = tmp_path / "latin1.html"
    path.write_bytes(html.encode("latin-1"))
    doc = load_document(path, DocumentInfo(id="l", title="L"), Settings())
    assert "Le café de l'université délivre" in doc.text


def test_undeclared_charset_is_detected(tmp_path: Path) -> None:
    body = ("<html><body><p>" + "Le café de l'université délivre des micro-certifications "
            "reconnues par l'État et les employeurs. " * 4 + "</p></body></html>")
    raw = body.encode("cp1252")
    assert "université" in decode_html(raw, tmp_path / "x.html")


def test_undecodable_html_is_refused_with_a_reason(tmp_path: Path) -> None:
    path = tmp_path / "noise.html"
    path.write_bytes(bytes(range(128, 256)) * 3)
    with pytest.raises(DocumentError, match="encoding|no text"):
        load_document(path, DocumentInfo(id="n", title="N"), Settings())


def test_table_rows_stay_rows() -> None:
    html = ("<main><table><caption>Credits by level</caption>"
            "<tr><th>Level</th><th>ECTS</th></tr>"
            "<tr><td>Bachelor</td><td><p>180</p><p>to 240</p></td></tr>"
            "<tr><td>Master</td><td>60&ndash;120</td></tr></table></main>")
    lines = html_to_text(html).splitlines()
    assert "Credits by level" in lines
    assert "Level | ECTS" in lines
    assert "Bachelor | 180 to 240" in lines
    assert "Master | 60\u2013120" in lines


FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _html_passages(name: str, doc_type: str) -> tuple[LoadedDocument, list[Passage]]:
    s = Settings(chunk_size=400, chunk_overlap=0)
    info = DocumentInfo(id=name, title=name, doc_type=doc_type)
    doc = load_document(FIXTURES / name, info, s)
    return doc, chunk_document(doc, s)


def test_eurlex_shaped_html_gives_article_and_point_sections() -> None:
    doc, passages = _html_passages("eurlex_like.html", "recommendation")
    assert "Cookie" not in doc.text
    assert "Search EUR-Lex" not in doc.text

    def section_of(needle: str) -> str:
        return next(p.section for p in passages if needle in p.text)

    assert section_of("This Regulation lays down").endswith("Article 1")
    assert section_of("the learning outcomes are assessed").endswith(
        f"Article 2{SECTION_SEP}point b")
    assert section_of("Member States shall ensure").endswith(f"Article 3{SECTION_SEP}point 2")
    assert "(b) the learning outcomes are assessed" in doc.text  # the point table is one line


def test_matsne_shaped_html_gives_article_and_point_sections() -> None:
    doc, passages = _html_passages("matsne_like.html", "law")
    assert "Legislative Herald" not in doc.text

    def section_of(needle: str) -> str:
        return next(p.section for p in passages if needle in p.text)

    assert section_of("This Law determines").endswith("Article 1")
    assert section_of("a learner who completes a short cycle").endswith(
        f"Article 2{SECTION_SEP}point a")
    assert section_of("short educational programme of up to").startswith("Chapter II")


# -- quotes keep text that merely looks like markup -----------------------------------------------
def test_tag_like_text_is_content_not_markup() -> None:
    passage = 'Synopsis <xsl:param name="callout.graphics.path">images/</xsl:param> Description'
    assert contains_quote(passage, '<xsl:param name="callout.graphics.path">images/</xsl:param>')
    assert not contains_quote(passage, '<xsl:param name="other">images/</xsl:param>')
    assert normalize("a <sup>4</sup> b") == "a 4 b"


# -- real PDFs from Debian documentation packages -------------------------------------------------
DOC = Path("/usr/share/doc")
REAL_PDFS = {
    # 101 pages, roman front matter, a page-label table that is 4 too high, running headers
    "amc": DOC / "auto-multiple-choice/auto-multiple-choice.en.pdf",
    # 104 pages, LaTeX, one page number glued onto the last line of its page
    "amc-latex": DOC / "auto-multiple-choice/latex/automultiplechoice.pdf",
    # 26 pages with tables, no outline: sections from numbered headings
    "camlidl": DOC / "camlidl/camlidl-1.04.doc.pdf",
    # 95 pages of dense reference, 2,552 ligatures, <xsl:param> text
    "docbook": DOC / "docbook-xsl-doc-pdf/doc/reference.pdf.gz",
    # 134 pages, ReportLab, chapter running footers
    "reportlab": DOC / "python-reportlab-doc/reportlab-userguide.pdf",
    # 184 pages, Sphinx/LaTeX, roman front matter after two unnumbered pages
    "why3": DOC / "why3-doc-pdf/manual.pdf",
}

# (pdf, quote, pages, printed labels, section path or "" for none)
KNOWN = [
    ("amc", "The AMC utilities have been written for Linux.", [10], ["1"],
     f"Prerequisites{SECTION_SEP}Operating system"),
    ("amc", "Presentation: Please answer the following questions the best you can.", [11, 12],
     ["2", "3"], "AMC-TXT syntax"),
    ("amc", "This document describes its use", [9], ["ix"], ""),
    ("amc-latex", "so that the answer sheet is on a separate sheet even when printing in duplex "
     "mode.", [17], ["17"], f"3 Usage{SECTION_SEP}3.6 Separate answer sheet"),
    ("camlidl", "For instance, int x declares an identifier x of type int, while int (*x)[] "
     "declares an identifier x that is a pointer to an array of integers.", [5, 6], ["5", "6"],
     f"2 IDL syntax{SECTION_SEP}2.4 Types and declarators"),
    ("reportlab", "Finally we thank Michal Kosmulski for the DarkGarden font for and Bitstream "
     "Inc. for the Vera fonts.", [7, 8], ["7", "8"],
     f"Chapter 1 Introduction{SECTION_SEP}1.5 Acknowledgements"),
    ("why3", "will claim that there is no solution extending this prefix.", [30, 31],
     ["24", "25"], f"Why3 by Examples{SECTION_SEP}Problem 4: N-Queens"),
    ("docbook", '<xsl:param name="callout.graphics.path">images/callouts/</xsl:param>', [6],
     ["6"], ""),
]


def _real_pdf(name: str, tmp: Path) -> Path:
    path = REAL_PDFS[name]
    if not path.exists():
        pytest.fail(f"{path} is missing: run make install-test (it apt-get installs the Debian "
                    "documentation packages these tests read)")
    if path.suffix == ".gz":
        out = tmp / path.stem
        if not out.exists():
            with gzip.open(path) as src, out.open("wb") as dst:
                shutil.copyfileobj(src, dst)
        return out
    return path


@pytest.fixture(scope="module")
def real_docs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[LoadedDocument,
                                                                             list[Passage]]]:
    tmp = tmp_path_factory.mktemp("pdfs")
    s = Settings()
    out = {}
    for name in REAL_PDFS:
        doc = load_document(_real_pdf(name, tmp), DocumentInfo(id=name, title=name), s)
        out[name] = (doc, chunk_document(doc, s))
    return out


@pytest.mark.integration
@pytest.mark.parametrize(("name", "quote", "pages", "labels", "section"), KNOWN)
def test_real_pdf_quote_cites_its_page_label_and_section(
    real_docs: dict[str, tuple[LoadedDocument, list[Passage]]],
    name: str, quote: str, pages: list[int], labels: list[str], section: str,
) -> None:
    doc, passages = real_docs[name]
    hits = [p for p in passages if contains_quote(p.text, quote)]
    assert hits, f"{quote!r} is in no passage of {name}"
    cited = [Citation(1, p, quote) for p in hits]
    # The known place is among the citations (a quote may also recur elsewhere) …
    known = [c for c in cited if [pg for pg, _ in c.pages] == pages]
    assert known, [c.pages for c in cited]
    assert [lab for _, lab in known[0].pages] == labels
    assert known[0].passage.section == section
    # … and every citation's quote is verbatim in the normalised text of the page(s) it cites.
    for c in cited:
        spans = [sp for sp in doc.pages if sp.page in {pg for pg, _ in c.pages}]
        assert normalize(quote) in normalize(doc.text[spans[0].start : spans[-1].end])


def _fold(s: str) -> str:
    s = unicodedata.normalize("NFKC", s)
    s = re.sub(r"(\w)-\s*\n\s*(\w)", r"\1\2", s)
    return re.sub(r"\s+", " ", s).lower()


@pytest.mark.integration
def test_real_pdfs_phrases_land_on_their_pages(
    real_docs: dict[str, tuple[LoadedDocument, list[Passage]]], tmp_path: Path
) -> None:
    """≥ 95% of six-word phrases sampled from poppler's text of page N are on page N of ours.

    poppler's command-line pdftotext is an independent extractor; a phrase it sees in a running
    header that we remove counts against us, so this is a lower bound."""
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext is missing: run make install-test (apt-get install poppler-utils)")
    total = right = 0
    for name, (doc, _) in real_docs.items():
        path = str(_real_pdf(name, tmp_path))
        ours = [_fold(doc.text[sp.start : sp.end]) for sp in doc.pages]
        rng = random.Random(11)
        for n in range(1, len(doc.pages) + 1):
            ref = subprocess.run(["pdftotext", "-layout", "-f", str(n), "-l", str(n), path, "-"],
                                 capture_output=True, text=True, check=True).stdout
            words = _fold(ref).split(" ")
            starts = [k for k in range(len(words) - 6)
                      if all(re.fullmatch(r"[a-z]{2,14}", w) for w in words[k : k + 6])]
            if starts:
                k = rng.choice(starts)
                total += 1
                right += " ".join(words[k : k + 6]) in ours[n - 1]
    assert total > 500
    assert right / total >= 0.95, f"{right} of {total}"


@pytest.mark.integration
def test_real_pdfs_labels_are_right_or_absent(
    real_docs: dict[str, tuple[LoadedDocument, list[Passage]]],
) -> None:
    amc = real_docs["amc"][0].pages
    assert amc[0].label is None  # title page: no printed number, and the table is wrong
    assert [sp.label for sp in amc[1:9]] == ["ii", "iii", "iv", "v", "vi", "vii", "viii", "ix"]
    assert [sp.label for sp in amc[9:]] == [str(n) for n in range(1, 93)]
    why3 = real_docs["why3"][0].pages
    assert [sp.label for sp in why3[2:7]] == ["i", "ii", "iii", "iv", "1"]
    assert why3[29].label == "24"
    latex = real_docs["amc-latex"][0]
    assert [sp.label for sp in latex.pages] == [str(n) for n in range(1, 105)]
    p61 = latex.pages[60]
    assert latex.text[p61.start : p61.end].endswith("separateanswersheet op")  # "61" removed


@pytest.mark.integration
def test_real_pdfs_are_clean_text(
    real_docs: dict[str, tuple[LoadedDocument, list[Passage]]],
) -> None:
    for name, (doc, passages) in real_docs.items():
        assert not any("\ufb00" <= ch <= "\ufb06" for ch in doc.text), name  # ligatures
        assert "\ufffe" not in doc.text, name
        if name != "docbook":  # the only file without an outline or numbered headings
            empty = sum(not p.section for p in passages)
            assert empty / len(passages) < 0.1, (name, empty)
    amc = real_docs["amc"][0].text
    assert amc.count("/ 92") == 0  # the running header "Auto Multiple Choice 62 / 92"
    rl = real_docs["reportlab"][0].text
    assert "User Guide Chapter 2 Graphics and Text with pdfgen" not in rl
    assert "\ufb01" not in real_docs["docbook"][0].text
    assert "fields" in real_docs["docbook"][0].text


@pytest.mark.integration
def test_real_pdf_markdown_like_comments_are_not_headings(
    real_docs: dict[str, tuple[LoadedDocument, list[Passage]]],
) -> None:
    _, passages = real_docs["amc"]
    assert not any("AMC-TXT source file" in p.section for p in passages)
    assert not any(s.startswith("#") for p in passages for s in p.section.split(SECTION_SEP))


@pytest.mark.integration
def test_unreadable_pages_are_reported_with_their_numbers(
    real_docs: dict[str, tuple[LoadedDocument, list[Passage]]],
) -> None:
    for name in ("amc", "camlidl", "reportlab"):
        assert real_docs[name][0].problems == [], name
    problems = real_docs["why3"][0].problems  # the index pages print LaTeX macro names
    assert problems
    assert all(p.startswith("page ") and "no word breaks" in p for p in problems)


def _mixed_pdf(tmp_path: Path) -> Path:
    """Page 1 has text, page 2 is only an image (a scan without OCR)."""
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    png = tmp_path / "dot.png"
    png.write_bytes(bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360f8cfc0f01f0005000200d4b1b5e90000000049454e44ae426082"))
    path = tmp_path / "mixed.pdf"
    c = canvas.Canvas(str(path))
    c.drawString(72, 720, "A page with real text about micro-credentials and their recognition.")
    c.showPage()
    c.drawImage(ImageReader(str(png)), 72, 72, 400, 600)
    c.showPage()
    c.save()
    return path


def test_image_only_pages_name_ocr(tmp_path: Path) -> None:
    doc = load_document(_mixed_pdf(tmp_path), DocumentInfo(id="m", title="M"), Settings())
    assert len(doc.pages) == 2
    assert any(p.startswith("page 2:") and "OCR" in p for p in doc.problems)


def test_ingest_reports_unreadable_pages_and_keeps_the_rest(
    settings: Settings, fake_embeddings: Embeddings, tmp_path: Path
) -> None:
    from assistant.store.index import Index
    from assistant.store.ingest import ingest

    pdf = _mixed_pdf(tmp_path)
    report = ingest(settings, paths=[pdf], index=Index(settings, embeddings=fake_embeddings))
    assert len(report.added) == 1, report.summary()  # the text page is ingested
    (problems,) = report.warnings.values()
    assert problems == [p for p in problems if p.startswith("page 2:")]
    assert "OCR" in problems[0]


@pytest.mark.integration
def test_real_pdf_page_breaks_survive_chroma(
    settings: Settings, fake_embeddings: Embeddings, tmp_path: Path
) -> None:
    from assistant.store.index import Index
    from assistant.store.ingest import ingest

    index = Index(settings, embeddings=fake_embeddings)
    report = ingest(settings, paths=[_real_pdf("camlidl", tmp_path)], index=index)
    assert report.added, report.summary()
    quote = next(q for n, q, *_ in KNOWN if n == "camlidl")
    stored = [p for p in index.passages(where={"doc_id": report.added[0]})
              if contains_quote(p.text, quote)]
    assert stored
    assert Citation(1, stored[0], quote).to_dict()["pages"] == [5, 6]
    assert Citation(1, stored[0], quote).page_display == "pp. 5\u20136"


def test_law_pdf_without_outline_gets_article_and_point_sections(tmp_path: Path) -> None:
    from reportlab.pdfgen import canvas

    path = tmp_path / "law.pdf"
    c = canvas.Canvas(str(path))
    lines = ["LAW ON SYNTHETIC PROGRAMMES (test text)", "Chapter I General provisions",
             "Article 1", "1. Providers shall publish the learning outcomes of every",
             "programme before learners enrol and keep that information up to date",
             "for as long as the programme is offered to learners in the country.",
             "2. Institutions shall recognise micro-credentials issued by providers",
             "that meet these requirements, following the same principles as full",
             "qualifications, for further learning and for employment in the country.",
             "Article 2", "This Law enters into force on the day after its publication."]
    y = 780
    for line in lines:
        c.drawString(60, y, line)
        y -= 18
    c.showPage()
    c.save()
    s = Settings(chunk_size=200, chunk_overlap=0)
    doc = load_document(path, DocumentInfo(id="law", title="Law", doc_type="law"), s)
    passages = chunk_document(doc, s)

    def section_of(needle: str) -> str:
        return next(p.section for p in passages if needle in p.text)

    assert section_of("Institutions shall recognise") == SECTION_SEP.join(
        ["Chapter I. General provisions", "Article 1", "point 2"])
    assert section_of("enters into force") == SECTION_SEP.join(
        ["Chapter I. General provisions", "Article 2"])


def test_a_line_of_dashes_is_not_a_running_head_and_does_not_crash() -> None:
    # A rule made of dashes splits into no tokens (found in r-doc-pdf's R-intro.pdf).
    from assistant.documents.pdf import _is_running

    assert _is_running("-- --", {}, 10, "3") is False
