"""The corpus: manifest, loaders (Markdown, HTML, PDF), structure-aware chunking, settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.documents.chunking import chunk_document
from assistant.documents.html import html_to_text
from assistant.documents.loaders import LoadedDocument, load_document
from assistant.documents.manifest import corpus_entries, load_manifest
from assistant.errors import ConfigError, DocumentError
from assistant.types import SECTION_SEP, DocumentInfo, Passage

REPO = Path(__file__).resolve().parent.parent
MANIFEST = REPO / "corpus" / "corpus.toml"


# -- manifest ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def manifest() -> dict[str, DocumentInfo]:
    return {d.id: d for d in load_manifest(MANIFEST)}


def test_manifest_lists_the_seven_documents(manifest: dict[str, DocumentInfo]) -> None:
    assert len(manifest) == 7
    assert {"d11-armenia", "d11-georgia"} <= set(manifest)
    assert manifest["d11-armenia"].country == "AM"
    assert manifest["d11-georgia"].country == "GE"
    assert all(d.doc_type == "report" for k, d in manifest.items() if k.startswith("d11-"))


def test_manifest_ids_unique() -> None:
    ids = [d.id for d in load_manifest(MANIFEST)]
    assert len(ids) == len(set(ids))


def test_manifest_eu_recommendation(manifest: dict[str, DocumentInfo]) -> None:
    rec = manifest["eu-council-rec-2022-micro-credentials"]
    assert rec.doc_type == "recommendation"
    assert "32022H0627(02)" in rec.source
    assert rec.urls, "the recommendation needs download addresses"
    for u in rec.urls:
        assert u.url.startswith("https://eur-lex.europa.eu/")
        assert "CELEX:32022H0627(02)" in u.url
    assert {u.format for u in rec.urls} == {"pdf", "html"}


def test_manifest_georgian_laws(manifest: dict[str, DocumentInfo]) -> None:
    ge_laws = {k: d for k, d in manifest.items() if d.country == "GE" and d.doc_type == "law"}
    urls = {u.url for d in ge_laws.values() for u in d.urls}
    for number in ("32830", "93064"):
        assert any(f"matsne.gov.ge/en/document/view/{number}" in u for u in urls), number
    assert len(ge_laws) == 2


def test_manifest_armenian_laws(manifest: dict[str, DocumentInfo]) -> None:
    am_laws = sorted(k for k, d in manifest.items() if d.country == "AM" and d.doc_type == "law")
    assert am_laws == ["am-law-education", "am-law-higher-postgraduate-education"]


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ('[[document]]\nid = "x"\n', "lacks the field"),  # no title
        ('[[document]]\nid = "x"\ntitle = "X"\n[[document]]\nid = "x"\ntitle = "Y"\n', "unique"),
        ("[[document]\nid = 3", "not valid TOML"),
    ],
)
def test_bad_manifest_is_config_error(tmp_path: Path, content: str, needle: str) -> None:
    path = tmp_path / "corpus.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=needle):
        load_manifest(path)


def test_missing_manifest_says_how_to_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="ASSISTANT_CORPUS_DIR"):
        load_manifest(tmp_path / "nope.toml")


# -- the Markdown chunker on the real Armenian report ----------------------------------------------
def _load(doc_id: str, settings: Settings) -> LoadedDocument:
    entry = next(e for e in corpus_entries(settings) if e.info.id == doc_id)
    return load_document(entry.path, entry.info, settings)


@pytest.fixture(scope="module")
def armenia() -> tuple[LoadedDocument, list[Passage]]:
    s = Settings()
    doc = _load("d11-armenia", s)
    return doc, chunk_document(doc, s)


def test_chunks_are_exact_slices(armenia: tuple[LoadedDocument, list[Passage]]) -> None:
    doc, passages = armenia
    assert len(passages) > 50
    for p in passages:
        assert p.doc_id == "d11-armenia"
        assert p.text == doc.text[p.start : p.end]
        assert p.text.strip() == p.text
        assert p.text


def test_chunk_ids_stable_and_unique(armenia: tuple[LoadedDocument, list[Passage]]) -> None:
    doc, passages = armenia
    again = chunk_document(_load("d11-armenia", Settings()), Settings())
    assert [p.id for p in again] == [p.id for p in passages]
    assert len({p.id for p in passages}) == len(passages)


def test_chunk_size_respected(armenia: tuple[LoadedDocument, list[Passage]]) -> None:
    _, passages = armenia
    size = Settings().chunk_size
    # No slack needed: _hard_cut/_pack never emit more than chunk_size characters.
    assert max(len(p.text) for p in passages) <= size
    small = chunk_document(_load("d11-armenia", Settings(chunk_size=300)), Settings(chunk_size=300))
    assert max(len(p.text) for p in small) <= 300
    assert len(small) > len(passages)


def test_chunks_never_cross_documents() -> None:
    s = Settings()
    am, ge = _load("d11-armenia", s), _load("d11-georgia", s)
    ge_passages = chunk_document(ge, s)
    assert {p.doc_id for p in ge_passages} == {"d11-georgia"}
    assert all(p.text == ge.text[p.start : p.end] for p in ge_passages)
    assert all(p.end <= len(ge.text) for p in ge_passages)
    assert not {p.id for p in ge_passages} & {p.id for p in chunk_document(am, s)}


def test_section_path_of_survey_results(armenia: tuple[LoadedDocument, list[Passage]]) -> None:
    _, passages = armenia
    hits = [p for p in passages if "22 Scientific institutions" in p.text]
    assert hits
    assert all(p.section.startswith("II. Survey results") for p in hits)


def test_section_path_of_question(armenia: tuple[LoadedDocument, list[Passage]]) -> None:
    _, passages = armenia
    hits = [p for p in passages if "Question N12" in p.text]
    assert hits
    path = ["II. Survey results", "RECOGNITION", "Question N12"]
    assert hits[0].section == SECTION_SEP.join(path)


def test_front_matter_has_no_section(armenia: tuple[LoadedDocument, list[Passage]]) -> None:
    doc, passages = armenia
    first_heading = doc.text.index("## Document Information")
    front = [p for p in passages if p.start < first_heading]
    assert front
    assert all(p.section == "" for p in front)
    assert all(p.end <= first_heading for p in front)  # no chunk runs over a heading


# -- the legal splitter ------------------------------------------------------------------------
_PARA = ("The competent authority shall keep a public register of providers and of the short "
         "learning programmes they deliver, and shall publish it every year.")
# A SYNTHETIC law written for this test: it is not the text of any real law.
SYNTHETIC_LAW = "\n".join([
    "LAW ON SHORT LEARNING PROGRAMMES (synthetic test text)",
    "",
    "Chapter 1. General provisions",
    "",
    "Article 1. Scope",
    "",
    "This Law governs short learning programmes and the micro-credentials they lead to.",
    "",
    "Article 2. Register",
    "",
    *[f"{i}. Point {i}: {_PARA}\n" for i in range(1, 8)],
    "Chapter 2. Final provisions",
    "",
    "Article 3. Entry into force",
    "",
    "This Law enters into force on the day after its publication.",
    "",
    "Annex I. Standard elements",
    "",
    "Identification of the learner. Title of the micro-credential. Country of the issuer.",
    "",
])


@pytest.fixture(scope="module")
def law_passages() -> list[Passage]:
    info = DocumentInfo(id="syn-law", title="Synthetic law", doc_type="law", country="XX")
    doc = LoadedDocument(info=info, text=SYNTHETIC_LAW, fmt="txt", sha256="0" * 64)
    return chunk_document(doc, Settings(chunk_size=400, chunk_overlap=0))


def test_legal_sections(law_passages: list[Passage]) -> None:
    by_start = {p.text.split("\n", 1)[0]: p.section for p in law_passages}
    assert by_start["Article 1. Scope"].split(SECTION_SEP) == [
        "Chapter 1. General provisions", "Article 1"]
    assert by_start["Article 3. Entry into force"].split(SECTION_SEP) == [
        "Chapter 2. Final provisions", "Article 3"]
    art2 = [p for p in law_passages if "Article 2" in p.section]
    assert art2[0].section == f"Chapter 1. General provisions{SECTION_SEP}Article 2"


def test_long_article_split_at_points(law_passages: list[Passage]) -> None:
    art2 = [p for p in law_passages if "Article 2" in p.section]
    assert len(art2) >= 4  # the article is about 1,150 characters, chunks are 400
    point3 = [p for p in art2 if p.section.endswith(f"{SECTION_SEP}point 3")]
    assert len(point3) == 1
    assert point3[0].text.startswith("3. Point 3:")
    assert point3[0].section.startswith(f"Chapter 1. General provisions{SECTION_SEP}Article 2")


def test_annex_is_its_own_section(law_passages: list[Passage]) -> None:
    annex = [p for p in law_passages if "Identification of the learner" in p.text]
    assert len(annex) == 1
    assert annex[0].section == "Annex I. Standard elements"
    assert "Article 3" not in annex[0].text


def test_no_chunk_crosses_an_article(law_passages: list[Passage]) -> None:
    for p in law_passages:
        assert p.text == SYNTHETIC_LAW[p.start : p.end]
        assert p.text.count("Article ") <= 1
        assert len(p.text) <= 400
        if "Article " in p.text:
            assert p.text.startswith("Article ")  # an article only ever opens a chunk
    covered = "".join(p.text for p in law_passages)
    for i in range(1, 8):
        assert f"Point {i}:" in covered


# -- HTML --------------------------------------------------------------------------------------
EURLEX_LIKE = """<!DOCTYPE html>
<html><head><title>EUR-Lex - page title</title>
<script>var tracking = "SCRIPT-TEXT";</script><style>body { color: red; }</style></head>
<body>
<header><a href="/">EUR-Lex HEADER-TEXT</a></header>
<nav class="navbar"><ul><li>NAV-TEXT Home</li><li>Search</li></ul></nav>
<div class="breadcrumb">BREADCRUMB-TEXT</div>
<div id="document1">
  <h1>COUNCIL RECOMMENDATION of 16 June 2022</h1>
  <p>on a European approach to micro-credentials for lifelong learning &amp; employability</p>
  <h2>Article 1</h2>
  <p>Member States are recommended to adopt a European approach.</p>
  <ul><li>first item</li><li>second item</li></ul>
  <script>alert("INLINE-SCRIPT")</script>
</div>
<footer>FOOTER-TEXT Contact</footer>
</body></html>
"""


def test_html_keeps_only_main_text_and_headings() -> None:
    text = html_to_text(EURLEX_LIKE)
    for noise in ("SCRIPT-TEXT", "HEADER-TEXT", "NAV-TEXT", "BREADCRUMB-TEXT", "FOOTER-TEXT",
                  "INLINE-SCRIPT", "color: red", "page title"):
        assert noise not in text
    assert "# COUNCIL RECOMMENDATION of 16 June 2022" in text.splitlines()
    assert "## Article 1" in text.splitlines()
    assert "lifelong learning & employability" in text
    assert "- first item" in text
    assert "- second item" in text


def test_html_file_chunks_get_legal_sections(tmp_path: Path) -> None:
    path = tmp_path / "rec.html"
    path.write_text(EURLEX_LIKE, encoding="utf-8")
    info = DocumentInfo(id="rec", title="Rec", doc_type="recommendation", country="EU")
    s = Settings()
    doc = load_document(path, info, s)
    passages = chunk_document(doc, s)
    art = [p for p in passages if "Member States are recommended" in p.text]
    assert art
    assert art[0].section.endswith("Article 1")
    assert all(p.text == doc.text[p.start : p.end] for p in passages)


# -- PDF ---------------------------------------------------------------------------------------
PAGE_WORDS = {1: "alpha", 2: "bravo", 3: "charlie"}


def make_pdf(path: Path, pages: dict[int, str], roman_labels: bool = False,
             footers: dict[int, str] | None = None) -> None:
    """A real PDF, one paragraph of distinct words on each page (written by reportlab)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=A4)
    if roman_labels:
        c.addPageLabel(0, style="ROMAN_LOWER")
    for n in sorted(pages):
        y = 800
        for i in range(8):
            c.drawString(50, y, f"Line {i} of the {pages[n]} page of the synthetic test file.")
            y -= 16
        if footers:
            c.drawString(290, 40, footers[n])
        c.showPage()
    c.save()


def test_pdf_pages_and_offsets(tmp_path: Path) -> None:
    path = tmp_path / "three.pdf"
    make_pdf(path, PAGE_WORDS)
    s = Settings(chunk_size=300, chunk_overlap=0)
    doc = load_document(path, DocumentInfo(id="three", title="Three"), s)
    assert [sp.page for sp in doc.pages] == [1, 2, 3]
    assert [sp.label for sp in doc.pages] == [None, None, None]  # no number printed on them
    for sp in doc.pages:
        assert f"Line 0 of the {PAGE_WORDS[sp.page]} page" in doc.text[sp.start : sp.end]
    passages = chunk_document(doc, s)
    assert {p.page for p in passages} == {1, 2, 3}
    for p in passages:
        assert p.text == doc.text[p.start : p.end]
        assert p.page_label is None
        assert PAGE_WORDS[p.page] in p.text  # each chunk sits on the page it claims
        other = {w for n, w in PAGE_WORDS.items() if n != p.page}
        assert not any(w in p.text for w in other)


def test_pdf_printed_page_labels(tmp_path: Path) -> None:
    path = tmp_path / "roman.pdf"
    make_pdf(path, PAGE_WORDS, roman_labels=True, footers={1: "i", 2: "ii", 3: "iii"})
    doc = load_document(path, DocumentInfo(id="roman", title="Roman"), Settings())
    assert [sp.label for sp in doc.pages] == ["i", "ii", "iii"]
    assert [sp.page for sp in doc.pages] == [1, 2, 3]
    assert "iii" not in doc.text  # the footer is not part of the text


def test_pdf_label_table_that_disagrees_with_the_pages_is_not_shown(tmp_path: Path) -> None:
    path = tmp_path / "wrong.pdf"
    make_pdf(path, PAGE_WORDS, roman_labels=True, footers={1: "7", 2: "8", 3: "9"})
    doc = load_document(path, DocumentInfo(id="wrong", title="Wrong"), Settings())
    assert [sp.label for sp in doc.pages] == ["7", "8", "9"]


def test_pdf_label_table_without_printed_numbers_is_not_shown(tmp_path: Path) -> None:
    path = tmp_path / "unchecked.pdf"
    make_pdf(path, PAGE_WORDS, roman_labels=True)
    doc = load_document(path, DocumentInfo(id="unchecked", title="Unchecked"), Settings())
    assert [sp.label for sp in doc.pages] == [None, None, None]


def test_unsupported_suffix_is_document_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.docx"
    path.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(DocumentError, match="unsupported file type .docx"):
        load_document(path, DocumentInfo(id="n", title="N"), Settings())


# -- settings ----------------------------------------------------------------------------------
def test_settings_env_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_CHUNK_SIZE", "500")
    assert Settings().chunk_size == 500
    monkeypatch.setenv("ASSISTANT_CHUNK_SIZE", "10")
    with pytest.raises(ValueError, match="chunk_size"):
        Settings()


def test_a_chunk_never_ends_or_starts_inside_a_hyphenated_word() -> None:
    """The Georgian report breaks "micro-credentials" over a page ("micro-\\n\\ncredentials"):
    the chunker keeps the two halves of the word in one chunk, wherever the size limit falls."""
    para = "Filler sentence number {} says nothing of note here at all. "
    filler = "".join(para.format(i) for i in range(5))
    text = (filler + "It can be combined with other micro-\n\ncredentials for a wider "
            "qualification. " + filler)
    info = DocumentInfo(id="broken", title="Broken word", country="GE")
    doc = LoadedDocument(info=info, text=text, fmt="txt", sha256="0" * 64)
    cut = text.index("\n\n")
    for size in range(200, 700, 25):
        passages = chunk_document(doc, Settings(chunk_size=size, chunk_overlap=size // 4))
        for p in passages:
            assert p.end != cut, (size, p.text)
            assert p.start != cut + 2, (size, p.text)
            assert not p.text.endswith("micro-"), (size, p.text)
            assert not p.text.startswith("credentials"), (size, p.text)
