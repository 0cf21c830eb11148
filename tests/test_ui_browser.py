"""The chat page in a real browser: Playwright driving Debian's chromium against `python app.py`.

Desktop (1280×800) and phone (390×844). Screenshots go to artifacts/ (gitignored, kept by CI).
The page must fetch nothing from outside and log no console errors.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import appserver
import pytest
from conftest import REPO, make_settings, settings_env

pytestmark = [pytest.mark.integration, pytest.mark.browser]

ARTIFACTS = REPO / "artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
INJECTED = ("# Injected\n\nThe Zorblat council met <script>window.__xss=1</script> in Yerevan "
            "to discuss zorblat credentials.\n")
LOCAL = ("http://127.0.0.1", "data:", "blob:", "about:")
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
QUESTIONS = [
    "How many scientific institutions took part in the Armenian survey?",
    # The page's second and third examples (the questionnaire dates, the challenges in both
    # countries) get an `evidence` outcome from the answer model retrained on the enlarged tune
    # part (docs/known-gaps.md); these tests need three answers with citations, so they ask
    # questions the model answers.
    "How many higher education institutions took part in the Georgian survey?",
    "What is the main challenge in Georgia?",
]

# Every visible form control must have an accessible name.
UNLABELLED_JS = """
() => {
  const bad = [];
  for (const el of document.querySelectorAll('input, textarea, select, button')) {
    if (el.type === 'hidden' || !el.offsetParent) continue;
    const name = (el.getAttribute('aria-label') || el.getAttribute('title') ||
      (el.labels && [...el.labels].map(l => l.innerText).join(' ')) ||
      (el.getAttribute('aria-labelledby') || '').split(' ').map(
        id => (document.getElementById(id) || {}).innerText || '').join(' ') ||
      (el.tagName === 'BUTTON' ? el.innerText : '') || el.getAttribute('placeholder') || '');
    if (!name.trim()) bad.push(el.outerHTML.slice(0, 160));
  }
  return bad;
}
"""


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python app.py` on 127.0.0.1, its index built at start, an injected file among uploads."""
    tmp = tmp_path_factory.mktemp("ui_browser")
    s = make_settings(tmp)
    s.uploads_path.mkdir(parents=True)
    (s.uploads_path / "injected.md").write_text(INJECTED, encoding="utf-8")
    yield from appserver.running_app(tmp, settings_env(s))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    exe = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(exe).exists():
        pytest.fail("chromium is missing: apt-get install -y chromium")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _open(browser: Any, app_url: str, viewport: dict[str, int]) -> Iterator[Any]:
    ctx = browser.new_context(viewport=viewport)
    ctx.grant_permissions(["clipboard-read", "clipboard-write"], origin=app_url)
    pg = ctx.new_page()
    outside: list[str] = []
    errors: list[str] = []
    pg.on("request", lambda r: None if r.url.startswith(LOCAL) else outside.append(r.url))
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(app_url, wait_until="load")
    pg.locator("#question textarea").wait_for(timeout=30_000)
    # "Ready: N documents indexed; M listed documents not indexed (see Corpus)." ("Ready"
    # alone also matched the loading line's "…when ready.": get_by_text ignores case)
    pg.locator("#status").get_by_text("Ready:").wait_for(timeout=120_000)
    yield pg
    ctx.close()
    assert outside == [], f"the page fetched outside resources: {outside}"
    assert errors == [], f"console errors: {errors}"


@pytest.fixture
def page(browser: Any, app_url: str) -> Iterator[Any]:
    """A fresh desktop page (1280×800) on the app, ready to answer."""
    yield from _open(browser, app_url, DESKTOP)


@pytest.fixture
def phone(browser: Any, app_url: str) -> Iterator[Any]:
    """A fresh phone-sized page (390×844)."""
    yield from _open(browser, app_url, PHONE)


def _ask(page: Any, question: str, turn: int, answered: bool = True) -> Any:
    """Ask and wait for reply ``turn`` (an answer empties the box); the bot message's locator."""
    page.locator("#question textarea").fill(question)
    page.get_by_role("button", name="Ask", exact=True).click()
    page.wait_for_function(
        "([n, answered]) => document.querySelectorAll('#chatbot .bot').length >= n && "
        "(!answered || document.querySelector('#question textarea').value === '')",
        arg=[turn, answered], timeout=90_000)
    return page.locator("#chatbot .bot").nth(turn - 1)


def _in_viewport(page: Any, locator: Any) -> bool:
    box = locator.bounding_box()
    vp = page.viewport_size
    return (bool(box) and box["y"] >= -2 and box["y"] + min(box["height"], 40) <= vp["height"]
            and box["x"] >= -2 and box["x"] + min(box["width"], 40) <= vp["width"])


IN_VIEWPORT_JS = """
(el) => { const r = el.getBoundingClientRect();
          return r.top >= -2 && r.top + Math.min(r.height, 40) <= window.innerHeight
              && r.left >= -2 && r.left + Math.min(r.width, 40) <= window.innerWidth; }
"""

# Records every sources card that gets the flash class, however briefly it keeps it.
WATCH_FLASH_JS = """
() => { window.__flashed = new Set();
        new MutationObserver(ms => { for (const m of ms)
            if (m.target.classList && m.target.classList.contains('flash'))
                window.__flashed.add(m.target); })
          .observe(document.querySelector('#sources'),
                   {subtree: true, attributes: true, attributeFilter: ['class']}); }
"""


def _wait_in_viewport(page: Any, locator: Any, timeout: float = 20_000) -> None:
    """Wait (scrolling may be smooth and the machine busy) until ``locator`` is on screen."""
    page.wait_for_function(IN_VIEWPORT_JS, arg=locator.element_handle(), timeout=timeout)
    assert _in_viewport(page, locator), locator.bounding_box()


def _clipboard_text(page: Any, deadline_s: float = 30) -> str:
    """The clipboard once something has been copied to it (polled: reading it is async, and a
    wait_for_function predicate that returns a promise would pass at once)."""
    import time

    end = time.monotonic() + deadline_s
    while True:
        text = str(page.evaluate("navigator.clipboard.readText()"))
        if text or time.monotonic() > end:
            return text
        time.sleep(0.2)


def _visible_answer(bubble: Any) -> str:
    """The answer text as a reader sees it in the bubble (its sources fold excluded)."""
    return str(bubble.evaluate(
        "(el) => { const c = el.cloneNode(true);"
        " c.querySelectorAll('details').forEach(d => d.remove());"
        " c.querySelectorAll('button').forEach(d => d.remove());"
        " return c.innerText; }"))


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _download(page: Any, button: str, folder: Path) -> Path:
    """Click a download button and save what the browser downloads into ``folder``."""
    with page.expect_download(timeout=30_000) as dl:
        page.locator(button).click()
    path = folder / dl.value.suggested_filename
    dl.value.save_as(str(path))
    return path


def test_downloads_are_written_when_clicked(page: Any, tmp_path: Path) -> None:
    """Issue 19: an answer writes no file; each button writes its own when clicked, and the
    browser downloads it (the answer on screen, or the whole conversation)."""
    from docx import Document

    _ask(page, QUESTIONS[0], 1)
    _ask(page, QUESTIONS[1], 2)
    page.locator("#dl-md").wait_for(state="visible", timeout=30_000)
    answer = _download(page, "#dl-md", tmp_path)
    assert answer.name == "answer-2.md"
    assert "References" in answer.read_text(encoding="utf-8")
    assert answer.read_text(encoding="utf-8").startswith(f"Question: {QUESTIONS[1]}")
    conversation = _download(page, "#conv-md", tmp_path).read_text(encoding="utf-8")
    assert QUESTIONS[0] in conversation
    assert QUESTIONS[1] in conversation
    docx = _download(page, "#conv-docx", tmp_path)
    assert docx.name == "conversation-2.docx"
    text = "\n".join(p.text for p in Document(str(docx)).paragraphs)
    assert QUESTIONS[1] in text
    one = Document(str(_download(page, "#dl-docx", tmp_path)))
    assert QUESTIONS[0] not in "\n".join(p.text for p in one.paragraphs)


def test_desktop_citations_copy_and_controls(page: Any) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "desktop_first_visit.png"), full_page=True)
    assert page.get_by_text("When was the Georgian questionnaire available?").count() >= 1
    for turn, q in enumerate(QUESTIONS, 1):
        bubble = _ask(page, q, turn)
    page.wait_for_function(
        "() => document.querySelector('#refs textarea').value.includes('References')",
        timeout=20_000)
    page.screenshot(path=str(ARTIFACTS / "desktop_three_answers.png"), full_page=True)

    # The copied text is the question and the answer on screen, with one reference per [n].
    page.evaluate("navigator.clipboard.writeText('')")
    assert page.locator("#copy-note").inner_text() == ""
    page.get_by_role("button", name="Copy answer with references").click()
    # A visible confirmation, in a status line a screen reader announces (a trial saw none).
    note = page.locator("#copy-note")
    note.get_by_text("Copied").wait_for(timeout=30_000)
    assert note.is_visible()
    assert note.get_attribute("role") == "status"
    assert note.get_attribute("aria-live") == "polite"
    copied = _clipboard_text(page)
    question, _, copied_answer = copied.partition("\n\n")
    assert question == f"Question: {QUESTIONS[-1]}", copied  # a trial's paste had no question
    # The bubble opens with its outcome label ("Answer"); the copied text is the answer itself.
    from assistant.prompts import OUTCOME_LABELS

    label, _, rest = _visible_answer(bubble).strip().partition("\n")
    assert label.strip() == OUTCOME_LABELS["answer"], label
    on_screen = _norm(rest)
    body, _, refs = copied_answer.partition("\nReferences\n")
    assert _norm(body) == on_screen, (copied, on_screen)
    numbers = sorted(set(re.findall(r"\[(\d+)\]", on_screen)))
    assert numbers, on_screen
    ref_lines = [ln for ln in refs.splitlines() if ln.strip()]
    assert [re.match(r"\[(\d+)\]", ln).group(1) for ln in ref_lines] == numbers  # type: ignore[union-attr]
    assert "**" not in copied
    assert "…" not in "".join(ref_lines)
    assert copied == page.locator("#refs textarea").input_value()

    # A clicked [n] scrolls its highlighted quote into view and flashes its card.
    page.mouse.wheel(0, -5000)
    link = bubble.locator('a[href^="#src-3-"]').last
    n = link.get_attribute("href").rsplit("-", 1)[1]
    page.evaluate(WATCH_FLASH_JS)
    link.click()
    mark = page.locator(f"#sources mark.q{n}").first
    _wait_in_viewport(page, mark)
    # the flash lasts 2 s: it is recorded when it is set, not looked for after a guessed delay
    page.wait_for_function("() => window.__flashed.size >= 1", timeout=20_000)
    assert page.evaluate("window.__flashed.size") == 1
    page.screenshot(path=str(ARTIFACTS / "desktop_clicked_citation.png"))

    # Open document: the side view shows the document at the passage.
    card = mark.locator("xpath=ancestor::div[contains(concat(' ', @class, ' '), ' src ')][1]")
    card.get_by_role("button", name=re.compile("Open")).click()
    view = page.locator("#doc-view .doc-passage")
    view.wait_for(timeout=20_000)
    _wait_in_viewport(page, view)
    page.screenshot(path=str(ARTIFACTS / "desktop_open_document.png"))
    # It closes by Escape and by a plain "Close document" button, not only gradio's chevron.
    page.keyboard.press("Escape")
    page.wait_for_function(_PANEL_CLOSED_JS, timeout=20_000)
    card.get_by_role("button", name=re.compile("Open")).click()
    page.wait_for_function(f"() => {_PANEL_OPEN}", timeout=20_000)
    close = page.locator("#doc-sidebar").get_by_role("button", name="Close document")
    _wait_in_viewport(page, close)  # at the panel's top, while the document is scrolled down
    close.click()
    page.wait_for_function(_PANEL_CLOSED_JS, timeout=20_000)

    # No raw Markdown or HTML in what the reader sees.
    visible = page.evaluate("document.body.innerText")
    assert "**" not in visible
    assert "<sup>" not in visible
    # Disabled controls say why: the llm mode is off here, with its reason.
    page.get_by_text("Filters and answer mode").click()
    mode = page.locator("#mode")
    mode.wait_for()
    assert "verify and llm are off" in mode.inner_text()
    assert "ASSISTANT_LLM_BASE_URL" in mode.inner_text()
    assert mode.locator("input").first.is_disabled()
    assert page.evaluate(UNLABELLED_JS) == []


def test_filters_that_exclude_everything_say_which(page: Any) -> None:
    page.get_by_text("Filters and answer mode").click()
    countries = page.locator("#countries")
    countries.wait_for()
    assert "European Union" not in countries.inner_text()  # no EU document is indexed
    assert "Council Recommendation" in page.locator("#filters-missing").inner_text()
    countries.get_by_label("Georgia").check()
    page.locator("#docs input").click()
    page.get_by_role("option", name=re.compile("D1.1 Armenia")).click()
    page.keyboard.press("Escape")
    bubble = _ask(page, QUESTIONS[0], 1, answered=False)
    text = bubble.inner_text()
    assert "documents chosen (Micro-GEAR D1.1 Armenia (2024))" in text
    assert "countries ticked (Georgia)" in text


def test_phone_layout_sources_under_each_answer(phone: Any) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    phone.screenshot(path=str(ARTIFACTS / "phone_first_visit.png"), full_page=True)
    bubble = _ask(phone, QUESTIONS[0], 1)
    assert not phone.locator("#sources").is_visible()  # the side panel gives way
    fold = bubble.locator("details.msg-sources")
    assert fold.is_visible()
    box, answer_box = fold.bounding_box(), bubble.bounding_box()
    assert box["y"] - answer_box["y"] < 600, (box, answer_box)  # right below the answer
    link = bubble.locator('a[href^="#src-1-"]').first
    link.click()
    mark = bubble.locator("details.msg-sources mark").first
    mark.wait_for(state="visible", timeout=20_000)
    _wait_in_viewport(phone, mark)
    # Examples, filters and feedback are folded away.
    assert not phone.get_by_role("button", name="👍").is_visible()
    phone.screenshot(path=str(ARTIFACTS / "phone_answer.png"), full_page=True)
    assert "**" not in phone.evaluate("document.body.innerText")


def test_corrupt_pdf_upload_shows_its_reason(page: Any, tmp_path: Path) -> None:
    bad = tmp_path / "corrupt.pdf"
    bad.write_bytes(b"%PDF-1.4 garbage")
    page.get_by_role("tab", name="Corpus").click()
    table = page.locator("#corpus-table")
    table.get_by_text("d11-armenia").wait_for(timeout=10_000)
    assert "indexed (" in table.inner_text()
    assert table.locator("a[href^='https://eur-lex.europa.eu']").count() >= 1
    page.locator("#upload input[type=file]").set_input_files(str(bad))
    msg = page.locator("#upload-msg")
    msg.get_by_text("corrupt.pdf was not added").wait_for(timeout=60_000)
    assert "PDF" in msg.inner_text()
    assert "save or export it again" in msg.inner_text()  # and how to fix it (a trial: only what)
    assert "corrupt" not in table.inner_text()  # a bad file changes nothing
    assert page.evaluate(UNLABELLED_JS) == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "corpus_upload_error.png"), full_page=True)


def test_script_in_a_passage_is_shown_as_text(page: Any) -> None:
    _ask(page, "What did the Zorblat council discuss?", 1)
    sources = page.locator("#sources")
    sources.get_by_text("<script>", exact=False).first.wait_for(timeout=60_000)
    assert "<script>window.__xss=1</script>" in sources.inner_text()
    assert page.evaluate("window.__xss") is None
    assert sources.locator("script").count() == 0
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "script_as_text.png"), full_page=True)


def test_evaluation_tab_at_desktop_width(page: Any) -> None:
    page.get_by_role("tab", name="Evaluation").click()
    slider = page.locator("#eval-limit input[type=range]")
    slider.wait_for()
    assert slider.get_attribute("max") == "130"  # the test part of the known and user sets
    assert page.evaluate(UNLABELLED_JS) == []
    page.screenshot(path=str(ARTIFACTS / "evaluation_tab.png"), full_page=True)


# -- issue 18: sticky sources, the page's fold, labels, the upload title ---------------------------
MESSAGE_LABELS_JS = """
() => [...document.querySelectorAll('#chatbot [aria-label*="s message: "]')]
        .map(e => e.getAttribute('aria-label'))
"""


def test_above_the_fold_and_table_headers(page: Any) -> None:
    vp = page.viewport_size
    box = page.locator("#question textarea").bounding_box()
    assert box["y"] + box["height"] <= vp["height"], box  # the question box is on screen
    examples = page.get_by_text("Examples").first.bounding_box()
    assert examples["y"] + 20 <= vp["height"], examples  # the examples start above the fold
    page.get_by_role("tab", name="Corpus").click()
    header = page.locator("#corpus-table th", has_text="Country").first
    header.wait_for(timeout=20_000)
    hb = header.bounding_box()
    line = page.evaluate("(el) => parseFloat(getComputedStyle(el).lineHeight) || 20",
                         header.element_handle())
    assert hb["height"] < 2.5 * line, hb  # one line, not one letter per line


def test_sources_stay_beside_the_answer(page: Any) -> None:
    bubble = _ask(page, QUESTIONS[0], 1)
    assert page.evaluate(
        "getComputedStyle(document.getElementById('sources-col')).position") == "sticky"
    page.mouse.wheel(0, 400)  # the reader has scrolled a little
    page.wait_for_function("() => window.scrollY > 0 || "
                           "document.scrollingElement.scrollHeight <= window.innerHeight",
                           timeout=10_000)
    y_before = page.evaluate("window.scrollY")
    link = bubble.locator('a[href^="#src-1-"]').last
    n = link.get_attribute("href").rsplit("-", 1)[1]
    link.click()
    mark = page.locator(f"#sources mark.q{n}").first
    _wait_in_viewport(page, mark)
    assert page.evaluate("window.scrollY") == y_before  # only the sources column scrolled
    assert _in_viewport(page, bubble.locator("a[href^='#src-1-']").last)  # the answer stays
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "desktop_sticky_sources.png"))


def test_tall_sources_stay_in_their_column(page: Any) -> None:
    """Sources taller than the window scroll inside the column; they never wrap into a second
    flex column off the right edge (a trial saw an empty column for every `evidence`)."""
    _ask(page, "What challenges did institutions in both countries report?", 1)
    first = page.locator("#sources .src").first
    first.wait_for(timeout=30_000)
    assert page.evaluate("document.querySelector('#sources').scrollHeight") > 0
    col = page.locator("#sources-col").bounding_box()
    box = first.bounding_box()
    assert col
    assert box
    assert box["x"] >= col["x"] - 2, (col, box)
    assert box["x"] + box["width"] <= col["x"] + col["width"] + 2, (col, box)
    assert _in_viewport(page, first)


def test_messages_and_feedback_buttons_are_labelled_in_words(page: Any) -> None:
    _ask(page, QUESTIONS[0], 1)
    # Screen readers get the words of each message, not its HTML.
    page.wait_for_function(
        f"() => {{ const l = ({MESSAGE_LABELS_JS})(); "
        "return l.length >= 2 && l.every(x => x.indexOf('<') < 0); }", timeout=20_000)
    labels = page.evaluate(MESSAGE_LABELS_JS)
    assert not any("<details" in x or "class=" in x for x in labels), labels
    assert any(QUESTIONS[0] in x for x in labels), labels
    # The feedback buttons carry words beside the emoji.
    assert page.get_by_role("button", name="👍 Helpful").is_visible()
    assert page.get_by_role("button", name="👎 Not helpful").is_visible()


def test_a_refusal_after_an_answer_is_its_own_message(page: Any) -> None:
    """A trial read "⚠ The question is empty…" as a line of the answer above it: gradio drew
    consecutive assistant messages in one bubble."""
    first = _ask(page, QUESTIONS[0], 1)
    page.get_by_role("button", name="Ask", exact=True).click()  # the box is empty now
    page.wait_for_function(
        "() => [...document.querySelectorAll('#chatbot .bot')]"
        ".some(b => b.innerText.includes('The question is empty'))", timeout=30_000)
    assert "The question is empty" not in first.inner_text()
    bots = page.locator("#chatbot .bot")
    assert bots.count() == 2


def test_upload_title_comes_from_the_first_heading(page: Any, tmp_path: Path) -> None:
    doc = tmp_path / "kite-notes.md"
    doc.write_text("# Kite study of short courses\n\n## Results\n\nThe kite council met.\n",
                   encoding="utf-8")
    page.get_by_role("tab", name="Corpus").click()
    page.locator("#upload input[type=file]").set_input_files(str(doc))
    page.wait_for_function(
        "() => (document.querySelector('#upload-title textarea, #upload-title input') || {})"
        ".value === 'Kite study of short courses'", timeout=60_000)


def test_phone_corpus_table_fits_the_screen(phone: Any) -> None:
    # A trial at 390 px saw only "C"/"A"/"G" of the Country column and no Type or State.
    phone.get_by_role("tab", name="Corpus").click()
    table = phone.locator("#corpus-table")
    table.get_by_text("d11-armenia").wait_for(timeout=10_000)
    width = phone.evaluate("document.documentElement.clientWidth")
    cells = table.locator("td")
    assert cells.count() >= 5
    for i in range(min(cells.count(), 10)):
        box = cells.nth(i).bounding_box()
        assert box is not None
        assert box["x"] + box["width"] <= width + 1, (i, box, width)
    # each line is labelled (generated content, which inner_text leaves out)
    label = phone.evaluate("getComputedStyle(document.querySelector("
                           "'#corpus-table td[data-label=Country]'), '::before').content")
    assert "Country" in label, label
    phone.screenshot(path=str(ARTIFACTS / "phone_corpus.png"), full_page=True)


def _add_upload(page: Any, path: Path) -> str:
    """Choose ``path``, press “Add to the library”, and return the upload's message."""
    chosen = page.locator("#upload button[aria-label='Clear']")
    if chosen.count():  # the file added before is still shown: clear it, as a user would
        chosen.click()
    page.locator("#upload input[type=file]").set_input_files(str(path))
    page.wait_for_function("() => !document.querySelector('#upload-add').disabled",
                           timeout=60_000)
    page.locator("#upload-add").click()
    page.wait_for_function(
        "() => /can be asked about|\u26a0/.test(document.querySelector('#upload-msg').innerText)",
        timeout=180_000)
    return str(page.locator("#upload-msg").inner_text())


def test_an_added_file_leaves_the_uploader_and_add_is_off(page: Any, tmp_path: Path) -> None:
    """A trial pressed "Add to the library" again after an add (to correct the country) and
    read "Something went wrong": the file stayed chosen, its temporary copy already gone."""
    page.get_by_role("tab", name="Corpus").click()
    doc = tmp_path / "heron-notes.md"
    doc.write_text("# Heron notes\n\nThe heron council met in March.\n", encoding="utf-8")
    msg = _add_upload(page, doc)
    assert msg.startswith("Added \u201cHeron notes\u201d (1 passage)"), msg
    page.wait_for_function("() => document.querySelector('#upload-add').disabled",
                           timeout=60_000)
    assert page.locator("#upload").get_by_text("heron-notes.md").count() == 0  # emptied
    assert page.locator("#upload input[type=file]").count() == 1  # ready for another file
    assert "can be asked about now" in page.locator("#upload-msg").inner_text()  # kept


def test_a_follow_up_shows_how_it_was_read(page: Any) -> None:
    _ask(page, QUESTIONS[0], 1)
    first = page.locator("#chatbot .bot").nth(0)
    assert first.locator(".read-as").count() == 0  # read as typed
    second = _ask(page, "And in Georgia?", 2)
    line = second.locator(".read-as")
    assert line.is_visible()
    text = line.inner_text()
    assert text.startswith("Read as: "), text
    assert "Georgia" in text
    assert "And in" not in text


def test_a_checked_draft_has_no_stray_bar(page: Any) -> None:
    """A trial saw an empty coloured bar under a checked sentence: the closed details' content
    box (a block) split the inline sentence into a second, empty, coloured fragment."""
    page.get_by_role("tab", name="Check a draft").click()
    page.locator("#draft-text textarea").fill(
        "45 scientific institutions took part in the Armenian survey.\n\n"
        "The Georgian questionnaire was available in 2024.\n")
    page.locator("#check-btn").click()
    page.locator("#check-report details.claim").first.wait_for(timeout=180_000)
    fragments = page.evaluate("() => [...document.querySelectorAll('#check-report "
                              "details.claim')].map(d => d.getClientRects().length)")
    assert fragments, "no sentence was checked"
    assert all(n == 1 for n in fragments), fragments
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#check-report").screenshot(path=str(ARTIFACTS / "draft_check.png"))
    page.locator("#check-report details.claim summary").first.click()
    assert page.locator("#check-report details.claim .detail").first.is_visible()


def test_a_later_upload_replaces_the_removed_message(page: Any, tmp_path: Path) -> None:
    """A trial removed an upload and then added another: "Removed …" stayed on the page."""
    page.get_by_role("tab", name="Corpus").click()
    first, second = tmp_path / "kite-first.md", tmp_path / "kite-second.md"
    first.write_text("# Kite first notes\n\nThe kite council met in May.\n", encoding="utf-8")
    second.write_text("# Kite second notes\n\nThe kite council met in June.\n",
                      encoding="utf-8")
    assert "Added \u201cKite first notes\u201d" in _add_upload(page, first)
    page.locator("#remove-choice input").click()
    page.get_by_role("option", name=re.compile("kite-first.md")).click()
    page.locator("#remove").click()
    removed = page.locator("#remove-msg")
    removed.get_by_text("Removed Kite first notes").wait_for(timeout=60_000)
    assert "Added \u201cKite second notes\u201d" in _add_upload(page, second)
    assert "Removed" not in removed.inner_text()  # the upload's message replaced it


LABELS_JS = """
(word) => [...document.querySelectorAll('body *')].filter(e => e.offsetParent !== null &&
    [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim() === word)).length
"""


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_examples_are_labelled_once_and_shown_in_full(browser: Any, app_url: str,
                                                      viewport: dict[str, int]) -> None:
    """A trial saw "Examples" twice and the first example cut off ("…the Armenian s...")."""
    from assistant.web.chat_tab import EXAMPLES

    for pg in _open(browser, app_url, viewport):
        fold = pg.locator("button.label-wrap", has_text="Examples")
        if viewport is PHONE:  # folded on a phone (page.js folds it once it is drawn)
            pg.wait_for_function(
                "() => ![...document.querySelectorAll('.fold-mobile button.label-wrap.open')]"
                ".some(b => b.innerText.includes('Examples'))", timeout=30_000)
            fold.click()
        shown = [pg.get_by_text(q, exact=True) for q in EXAMPLES]  # every question in full
        shown[-1].wait_for(state="visible", timeout=30_000)
        assert pg.evaluate(LABELS_JS, "Examples") == 1
        width = pg.evaluate("document.documentElement.clientWidth")
        for q, example in zip(EXAMPLES, shown, strict=True):
            box = example.bounding_box()
            assert box, q
            assert box["x"] >= 0
            assert box["x"] + box["width"] <= width + 1, (q, box, width)
        if viewport is DESKTOP:  # all of them above the fold
            last = shown[-1].bounding_box()
            assert last
            assert last["y"] + last["height"] <= viewport["height"], last
        shown[0].click()
        pg.wait_for_function(
            "(q) => document.querySelector('#question textarea').value === q",
            arg=EXAMPLES[0], timeout=20_000)
        ARTIFACTS.mkdir(exist_ok=True)
        pg.screenshot(path=str(ARTIFACTS / f"examples_{viewport['width']}.png"))


# Whatever part of the element lies past the viewport's right edge (0 when it all fits).
PAST_RIGHT_EDGE_JS = """
(sel) => { const w = document.documentElement.clientWidth; let worst = [0, ''];
  const note = (px, el) => { if (px > worst[0]) worst = [px, el.outerHTML.slice(0, 120)]; };
  for (const root of document.querySelectorAll(sel))
    for (const el of [root, ...root.querySelectorAll('*')]) {
      const r = el.getBoundingClientRect();
      if (r.width && el.offsetParent !== null) note(r.right - w, el);
      if (el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX !== 'visible')
        note(el.scrollWidth - el.clientWidth, el);
    }
  return worst; }
"""


_PANEL_OPEN = "document.querySelector('#doc-sidebar').classList.contains('open')"
_PANEL_CLOSED_JS = f"() => !{_PANEL_OPEN}"


def _phone_opener(phone: Any) -> Any:
    """An answer's first "Open document" on a phone (its sources fold opened), visible."""
    bubble = _ask(phone, QUESTIONS[0], 1)
    fold = bubble.locator("details.msg-sources")
    if fold.get_attribute("open") is None:
        fold.locator("summary").first.click()
    opener = bubble.locator(".open-doc", has_text="Open document").first
    opener.wait_for(state="visible", timeout=20_000)
    return opener


def test_phone_opens_the_document_from_a_card_in_the_answer(phone: Any) -> None:
    """A trial on a phone found no way to open the whole document: the sources column (with
    its "Open document" buttons) is hidden there and the cards in the answer had none."""
    opener = _phone_opener(phone)
    opener.click()
    view = phone.locator("#doc-view .doc-passage")
    view.wait_for(state="visible", timeout=30_000)
    _wait_in_viewport(phone, view)
    ARTIFACTS.mkdir(exist_ok=True)
    phone.screenshot(path=str(ARTIFACTS / "phone_open_document.png"))
    panel = phone.locator("#doc-sidebar")
    box = panel.bounding_box()
    assert box, "no document panel"
    assert box["x"] >= -1, box
    assert box["x"] + box["width"] <= PHONE["width"] + 1, box
    assert box["width"] >= PHONE["width"] * 0.8, box  # readable: not a 46% sliver of 390 px
    text = view.bounding_box()
    assert text, "no marked passage"
    assert text["width"] >= 250, text
    assert _in_viewport(phone, panel.get_by_role("button", name="Close document"))
    close = panel.locator(".toggle-button").first
    assert close.is_visible()
    assert _in_viewport(phone, close)
    close.click()
    phone.wait_for_function(_PANEL_CLOSED_JS, timeout=20_000)
    # closed: nothing of the panel is left over the answer
    phone.wait_for_function(
        "(w) => document.querySelector('#doc-sidebar').getBoundingClientRect().left >= w - 1",
        arg=PHONE["width"], timeout=20_000)
    assert phone.evaluate(UNLABELLED_JS) == []


def test_desktop_shows_one_open_document_button_per_card(page: Any) -> None:
    """The answer's own cards are hidden beside the sources column: no second button."""
    _ask(page, QUESTIONS[0], 1)
    column = page.locator("#sources .open-doc")
    column.first.wait_for(state="visible", timeout=20_000)
    shown = page.evaluate("() => [...document.querySelectorAll('#chatbot .open-doc')]"
                          ".filter(b => b.offsetParent !== null).length")
    assert shown == 0
    page.screenshot(path=str(ARTIFACTS / "desktop_answer_sources.png"))


def test_phone_draft_summary_wraps(phone: Any) -> None:
    """A trial at 390 px saw the draft check's count labels run off the right edge (or, as
    seen here, cut in two across lines)."""
    phone.get_by_role("button", name="More tabs").click()  # 390 px: the tab is in its menu
    phone.get_by_role("button", name="Check a draft").click()
    phone.locator("#draft-text textarea").fill(
        "45 scientific institutions took part in the Armenian survey. "
        "The Georgian survey obtained responses from 27 respondents. "
        "The Georgian questionnaire was available in 2024. "
        "Kites are flown in Tbilisi every May.\n")
    phone.locator("#check-btn").click()
    phone.locator("#check-report details.claim").first.wait_for(timeout=180_000)
    phone.locator("#check-report .chip").first.scroll_into_view_if_needed()
    ARTIFACTS.mkdir(exist_ok=True)
    phone.screenshot(path=str(ARTIFACTS / "phone_draft_summary.png"))
    past, where = phone.evaluate(PAST_RIGHT_EDGE_JS, "#check-msg, #check-report")
    assert past <= 1, (past, where)
    # the line wraps between labels: none is cut in two ("partly | supported: 0")
    lines = phone.evaluate("() => [...document.querySelectorAll('#check-report .chip')]"
                           ".map(c => [c.innerText, c.getClientRects().length])")
    assert len(lines) >= 4, lines
    assert all(n == 1 for _, n in lines), lines


# Every line of the document's text painted on screen (its part inside every box that clips
# it and the window) that lies under the panel's close bar or gradio's chevron.
TEXT_UNDER_CONTROLS_JS = """
() => {
  const close = document.querySelector('#close-doc-btn');
  const controls = [document.querySelector('#doc-bar') || close, close,
                    document.querySelector('#doc-sidebar .toggle-button')]
    .map(e => e.getBoundingClientRect());
  const cut = (a, b) => ({left: Math.max(a.left, b.left), top: Math.max(a.top, b.top),
                          right: Math.min(a.right, b.right), bottom: Math.min(a.bottom, b.bottom)});
  const empty = r => r.right - r.left < 1 || r.bottom - r.top < 1;
  const view = document.querySelector('#doc-view');
  const hits = [];
  const walk = document.createTreeWalker(view, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  while (walk.nextNode()) {
    const node = walk.currentNode;
    if (!node.textContent.trim()) continue;
    let clip = {left: 0, top: 0, right: innerWidth, bottom: innerHeight};
    for (let a = node.parentElement; a; a = a.parentElement) {
      const st = getComputedStyle(a);
      if (st.overflowX !== 'visible' || st.overflowY !== 'visible')
        clip = cut(clip, a.getBoundingClientRect());
    }
    range.selectNodeContents(node);
    for (const line of range.getClientRects()) {
      const shown = cut(line, clip);
      if (empty(shown)) continue;
      for (const c of controls)
        if (!empty(cut(shown, c)))
          hits.push([node.textContent.trim().slice(0, 40), Math.round(line.top), Math.round(c.top),
                     Math.round(c.bottom)]);
    }
  }
  return hits;
}
"""


def _document_panel_keeps_clear_of_the_text(page: Any, name: str) -> None:
    """After "Open document": no line of the document under the close bar or the chevron, the
    marked passage starting right below the bar; the same after the document is scrolled."""
    page.locator("#doc-view .doc-passage").wait_for(state="visible", timeout=30_000)
    page.wait_for_function(f"() => {_PANEL_OPEN}", timeout=20_000)
    # the panel slides in and the passage is scrolled to: wait until the passage stops moving
    page.wait_for_function(
        "() => { const y = document.querySelector('#doc-view .doc-passage')"
        ".getBoundingClientRect().top; const same = window.__lastY === y; window.__lastY = y;"
        " return same && y < innerHeight / 2; }", polling=250, timeout=30_000)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}_document_panel.png"))
    under_at_open = page.evaluate(TEXT_UNDER_CONTROLS_JS)
    bar = page.locator("#close-doc-btn").bounding_box()
    chevron = page.locator("#doc-sidebar .toggle-button").bounding_box()
    top = page.locator("#doc-view .doc-passage").bounding_box()["y"]
    view = page.locator("#doc-view")
    box = view.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, min(box["y"] + box["height"], 600) - 40)
    page.mouse.wheel(0, -137)  # up a little: the text before the passage reaches the top
    page.wait_for_function(
        "() => { const y = document.querySelector('#doc-view .doc-passage')"
        ".getBoundingClientRect().top; return y > window.__lastY + 20; }", timeout=20_000)
    page.screenshot(path=str(ARTIFACTS / f"{name}_document_panel_scrolled.png"))
    under_scrolled = page.evaluate(TEXT_UNDER_CONTROLS_JS)
    assert under_at_open == [], under_at_open
    assert under_scrolled == [], under_scrolled
    below = max(bar["y"] + bar["height"], chevron["y"] + chevron["height"])
    assert below <= top <= below + 60, (bar, chevron, top)  # right below the bar, not under it


def test_desktop_document_panel_keeps_clear_of_the_text_and_takes_focus(page: Any) -> None:
    """A trial saw "Close document ✕" and the chevron on the document's text, cutting words
    ("…ger periods"), and focus stayed on "Open document" behind the panel."""
    _ask(page, QUESTIONS[0], 1)
    opener = page.locator("#sources .open-doc").first
    opener.wait_for(state="visible", timeout=20_000)
    opener.evaluate("(b) => { window.__opener = b; }")
    opener.click()
    _document_panel_keeps_clear_of_the_text(page, "desktop")
    page.wait_for_function("() => document.activeElement.id === 'close-doc-btn'", timeout=20_000)
    page.keyboard.press("Escape")
    page.wait_for_function(_PANEL_CLOSED_JS, timeout=20_000)
    page.wait_for_function("() => document.activeElement === window.__opener", timeout=20_000)
    # by its close button, too
    page.keyboard.press("Enter")  # the opener has focus: it opens the panel again
    page.wait_for_function(f"() => {_PANEL_OPEN}", timeout=20_000)
    page.wait_for_function("() => document.activeElement.id === 'close-doc-btn'", timeout=20_000)
    page.keyboard.press("Enter")
    page.wait_for_function(_PANEL_CLOSED_JS, timeout=20_000)
    page.wait_for_function("() => document.activeElement === window.__opener", timeout=20_000)


def test_phone_document_panel_keeps_clear_of_the_text_and_takes_focus(phone: Any) -> None:
    opener = _phone_opener(phone)
    opener.evaluate("(b) => { window.__opener = b; }")
    opener.click()
    _document_panel_keeps_clear_of_the_text(phone, "phone")
    phone.wait_for_function("() => document.activeElement.id === 'close-doc-btn'",
                            timeout=20_000)
    phone.locator("#close-doc-btn").click()
    phone.wait_for_function(_PANEL_CLOSED_JS, timeout=20_000)
    phone.wait_for_function("() => document.activeElement === window.__opener", timeout=20_000)
