"""Text that leaves the program carries no markup an attacker planted (issue 18).

An XSS corpus goes through ``text.display``, ``text.plain`` and every export: the answer box
("Answer with references"), answer-N.md, conversation-N.md and the .docx. Plain outputs must
hold no tag at all (nh3's parser finds none); Markdown files, once rendered by a CommonMark
renderer, must hold no tag, no handler and no javascript: link.
"""

from __future__ import annotations

import re
from pathlib import Path

import nh3
import pytest

from assistant.text import display, md_escape, plain
from assistant.types import Answer, Citation, Passage, ScoredPassage, answer_markdown
from assistant.web.exports import conversation_markdown, write_docx

XSS = [
    "Kite <scr<script>ipt>alert(document.cookie)</script> <x onclick=alert(3)>notes</x>",
    "<scr<script>ipt>x</script>",
    "<script\n>alert(1)</script\n>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<x onclick=alert(3)>notes</x>",
    "<details open ontoggle=alert(1)>",
    "<img src=x onerror=alert(1)>",
    "<svg/onload=alert(1)>",
    "<a href=\"javascript:alert(1)\">click</a>",
    "[click](javascript:alert(1))",
    "<iframe srcdoc='<script>alert(1)</script>'>",
    "<div title=\"" + "a" * 5000 + "\" onmouseover=alert(1)>long</div>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&amp;lt;script&amp;gt;alert(1)",
    "<<script>script>alert(1)<</script>/script>",
    "<!--<script>alert(1)//-->",
    "<style>body{background:url(javascript:alert(1))}</style>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
]


def _tags(text: str) -> bool:
    return bool(nh3.is_html(text))


@pytest.mark.parametrize("attack", XSS)
def test_display_and_plain_leave_no_tag(attack: str) -> None:
    for out in (display(attack), plain(attack)):
        assert not _tags(out), (attack, out)
        assert "<script" not in out.lower()
        assert not re.search(r"<\w[^>]*\son\w+\s*=", out, re.I)
    assert display("<scr<script>ipt>x</script>") != "<script>x"


def test_ordinary_text_is_unchanged() -> None:
    for text in ("5 < 10 and 7 > 3", "R&D in Armenia", "The ECTS (60 credits) rule",
                 "snake_case and a*b"):
        assert plain(text) == text
    assert display("**Bold** and <b>tag</b> & co") == "Bold and tag & co"


def _rendered(markdown: str) -> str:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").render(markdown)


def _no_active_html(html: str) -> None:
    lowered = html.lower()
    assert "<script" not in lowered, html
    assert "<img" not in lowered
    assert "<svg" not in lowered
    assert "<iframe" not in lowered
    assert "<x " not in lowered
    assert "<details" not in lowered
    assert "<style" not in lowered
    assert not re.search(r"<[a-z][^>]*\son\w+\s*=", lowered), html
    assert 'href="javascript:' not in lowered


def _answer(attack: str) -> Answer:
    p = Passage(id="p1", doc_id="kite", title=attack, text=f"The kite report: {attack} ends.",
                country="AM", year=2024, section=attack, origin="upload")
    quote = f"The kite report: {attack} ends."
    return Answer(question=f"What about {attack}?", text=f"\u201c{quote}\u201d [1]",
                  citations=[Citation(1, p, quote)], passages=[ScoredPassage(p, 0.5)],
                  abstained=False, mode="extractive")


@pytest.mark.parametrize("attack", XSS)
def test_exports_carry_no_markup(attack: str, tmp_path: Path) -> None:
    ans = _answer(attack)
    box = answer_markdown(ans)  # the "Answer with references" box and the clipboard
    assert not _tags(box), box
    assert "[1]" in box
    assert "\nReferences\n" in box
    for md in (answer_markdown(ans, markdown_file=True), conversation_markdown([ans, ans])):
        _no_active_html(_rendered(md))
        assert "[1]" in md
    from docx import Document

    path = write_docx([ans, ans], tmp_path / "c.docx", title="Conversation")
    text = "\n".join(p.text for p in Document(str(path)).paragraphs)
    assert not _tags(text), text
    assert "[1]" in text


def test_markdown_escape_keeps_the_words() -> None:
    out = md_escape("Kite <scr<script>ipt>alert(document.cookie)</script> [x](y) *z*")
    html = _rendered(out)
    _no_active_html(html)
    assert "Kite" in html
    assert "[x](y)" in html  # shown as written, not a link
    assert "<em>" not in html


def test_markdown_autolinks_are_text_and_quotes_stay_verbatim() -> None:
    from assistant.text import contains_quote

    passage = "See the decree <https://matsne.gov.ge/ka/document/view/32830?publication=110> now."
    assert display(passage) == passage
    assert contains_quote(passage, display(passage))
    assert plain("<https://shorturl.at/FW7tp>") == "<https://shorturl.at/FW7tp>"
    html = _rendered(md_escape(passage))
    assert "<a " not in html  # escaped: shown, not linked
