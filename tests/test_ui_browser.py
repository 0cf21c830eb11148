"""The chat page in a real browser: Playwright driving Debian's chromium against `python app.py`.

Screenshots go to artifacts/ (gitignored). The page must fetch nothing from outside.
"""

from __future__ import annotations

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


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python app.py` on 127.0.0.1, its index built at start, an injected file among uploads."""
    tmp = tmp_path_factory.mktemp("ui_browser")
    s = make_settings(tmp)
    s.uploads_path.mkdir(parents=True)
    (s.uploads_path / "injected.md").write_text(INJECTED, encoding="utf-8")
    try:
        proc, url = appserver.start_app(tmp, settings_env(s))
    except RuntimeError as exc:
        pytest.fail(str(exc))
    try:
        yield url
    finally:
        appserver.stop_app(proc)


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


@pytest.fixture
def page(browser: Any, app_url: str) -> Iterator[Any]:
    """A fresh page on the app; fails the test if the page asked for anything outside."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = ctx.new_page()
    outside: list[str] = []
    pg.on("request", lambda r: None if r.url.startswith(LOCAL) else outside.append(r.url))
    pg.goto(app_url, wait_until="load")
    pg.locator("#question textarea").wait_for(timeout=30_000)
    yield pg
    ctx.close()
    assert outside == [], f"the page fetched outside resources: {outside}"


def _ask(page: Any, question: str) -> None:
    page.locator("#question textarea").fill(question)
    page.get_by_role("button", name="Ask", exact=True).click()


def test_ask_shows_answer_and_highlighted_source(page: Any) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "first_visit.png"), full_page=True)
    assert page.get_by_text("When was the Georgian questionnaire available?").count() >= 1
    _ask(page, "How many scientific institutions took part in the Armenian survey?")
    mark = page.locator("#sources mark").first
    mark.wait_for(state="visible", timeout=60_000)
    assert "22 Scientific institutions" in mark.inner_text()
    bubble = page.locator("#chatbot").get_by_text("22 Scientific institutions").first
    bubble.wait_for(timeout=10_000)
    assert "[1]" in page.locator("#chatbot").inner_text()
    page.get_by_role("button", name="Copy answer with references").click()
    refs = page.locator("#refs textarea")
    page.wait_for_function(
        "() => document.querySelector('#refs textarea').value.includes('References')",
        timeout=10_000,
    )
    assert "[1]" in refs.input_value()
    page.screenshot(path=str(ARTIFACTS / "chat.png"), full_page=True)


def test_corrupt_pdf_upload_shows_its_reason(page: Any, tmp_path: Path) -> None:
    bad = tmp_path / "corrupt.pdf"
    bad.write_bytes(b"%PDF-1.4 garbage")
    page.get_by_role("tab", name="Corpus").click()
    table = page.locator("#corpus-table")
    table.get_by_text("d11-armenia").wait_for(timeout=10_000)
    assert "indexed (" in table.inner_text()
    page.locator("#upload input[type=file]").set_input_files(str(bad))
    msg = page.locator("#upload-msg")
    msg.get_by_text("corrupt.pdf was not added").wait_for(timeout=60_000)
    assert "PDF" in msg.inner_text()
    assert "corrupt" not in table.inner_text()  # a bad file changes nothing
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "corpus_upload_error.png"), full_page=True)


def test_script_in_a_passage_is_shown_as_text(page: Any) -> None:
    _ask(page, "What did the Zorblat council discuss?")
    sources = page.locator("#sources")
    sources.get_by_text("<script>", exact=False).first.wait_for(timeout=60_000)
    assert "<script>window.__xss=1</script>" in sources.inner_text()
    assert page.evaluate("window.__xss") is None
    assert sources.locator("script").count() == 0
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "script_as_text.png"), full_page=True)
