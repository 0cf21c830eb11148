"""``assistant corpus fetch``: downloads checked, saved atomically, failures fast and explained.

The ``integration`` tests serve real PDFs and HTML pages from an http.server on 127.0.0.1
started by the test; the others need no server.
"""

from __future__ import annotations

import io
import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import make_settings

from assistant.config import Settings
from assistant.documents import fetch
from assistant.documents.fetch import fetch_missing
from assistant.documents.loaders import load_document
from assistant.documents.manifest import file_sha256, load_manifest
from assistant.errors import FetchError

ARTICLE = ("Member States are recommended to adopt a European approach to micro-credentials. "
           "Micro-credentials should be described by the mandatory elements in Annex I. ")
NAV = "Skip to main content Legal notice Cookies policy Languages on our websites"


# -- helpers -----------------------------------------------------------------------------------
def make_pdf(text: str = ARTICLE, pages: int = 2) -> bytes:
    """A real PDF with a text layer, one paragraph per page."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    for n in range(1, pages + 1):
        y = 800
        c.drawString(72, y, f"Page {n}")
        for sentence in text.split(". "):
            y -= 18
            c.drawString(72, y, sentence.strip())
        c.showPage()
    c.save()
    return buf.getvalue()


def eurlex_page(article: str = ARTICLE) -> str:
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>EUR-Lex</title></head>
<body><nav class="navbar">{NAV}</nav>
<div id="header-menu"><a href="/">Home</a> Advanced search</div>
<div id="document1"><p class="oj-doc-ti">COUNCIL RECOMMENDATION of 16 June 2022</p>
<p class="oj-ti-art">Article 1</p><p>{article * 3}</p></div>
<footer>European Union, 2022 Contact</footer></body></html>"""


Route = tuple[int, str | None, bytes, bool]  # status, content type, body, send Content-Length


class _Handler(BaseHTTPRequestHandler):
    routes: dict[str, Route] = {}

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        status, ctype, body, with_length = self.routes.get(
            self.path, (404, "text/plain", b"not here", True))
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        if with_length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


class Server:
    """Routes served from 127.0.0.1 on a free port."""

    def __init__(self, httpd: ThreadingHTTPServer, routes: dict[str, Route]) -> None:
        self.httpd, self.routes = httpd, routes
        self.base = f"http://127.0.0.1:{httpd.server_address[1]}"

    def add(self, path: str, body: bytes, ctype: str | None, status: int = 200,
            length: bool = True) -> str:
        self.routes[path] = (status, ctype, body, length)
        return self.base + path


@pytest.fixture
def server() -> Iterator[Server]:
    routes: dict[str, Route] = {}
    handler = type("Handler", (_Handler,), {"routes": routes})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield Server(httpd, routes)
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


def write_manifest(settings: Settings, *docs: dict[str, object]) -> None:
    """A corpus.toml with the given documents (id, path, urls=[(url, format)], ...)."""
    out = []
    for d in docs:
        out.append("[[document]]")
        out.append(f'id = "{d["id"]}"')
        out.append(f'title = "{d.get("title", d["id"])}"')
        out.append(f'source = "{d.get("source", "a test source")}"')
        out.append(f'path = "{d["path"]}"')
        urls = d.get("urls", [])
        assert isinstance(urls, list)
        if urls:
            out.append("urls = [" + ", ".join(
                f'{{ url = "{u}", format = "{f}" }}' for u, f in urls) + "]")
        out.append("")
    settings.manifest_path.write_text("\n".join(out), encoding="utf-8")


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def leftovers(settings: Settings) -> list[str]:
    docs = settings.corpus_path / "documents"
    return [p.name for p in docs.iterdir() if ".part" in p.name] if docs.is_dir() else []


def lock(settings: Settings) -> dict[str, dict[str, object]]:
    path = settings.corpus_path / "fetched.json"
    return json.loads(path.read_text()) if path.exists() else {}


# -- integration: a local HTTP server ----------------------------------------------------------
@pytest.mark.integration
def test_good_pdf_is_fetched_recorded_and_ingestible(tmp_path: Path, server: Server) -> None:
    s = make_settings(tmp_path, copy_corpus=False)
    pdf = make_pdf()
    url = server.add("/rec.pdf", pdf, "application/pdf")
    write_manifest(s, {"id": "rec", "path": "documents/rec.pdf", "urls": [(url, "pdf")]})

    report = fetch_missing(s)

    target = s.corpus_path / "documents" / "rec.pdf"
    assert report.ok, report.lines()
    assert list(report.fetched) == ["rec"]
    assert target.read_bytes() == pdf
    entry = lock(s)["rec"]
    assert entry["sha256"] == file_sha256(target)
    assert entry["url"] == url
    assert entry["bytes"] == len(pdf)
    assert entry["fetched_at"]
    doc = load_document(target, load_manifest(s.manifest_path)[0], s)
    assert len(doc.pages) == 2
    assert "mandatory elements in Annex I" in doc.text
    assert report.lines()[0].startswith("fetched  rec: saved")
    assert leftovers(s) == []
    # A second run leaves the present file alone.
    again = fetch_missing(s)
    assert list(again.skipped) == ["rec"]
    assert "--force" in again.lines()[0]


@pytest.mark.integration
def test_pdf_sent_as_octet_stream_is_accepted(tmp_path: Path, server: Server) -> None:
    s = make_settings(tmp_path, copy_corpus=False)
    url = server.add("/rec", make_pdf(), "application/octet-stream")
    write_manifest(s, {"id": "rec", "path": "documents/rec.pdf", "urls": [(url, "pdf")]})
    assert fetch_missing(s).ok


@pytest.mark.integration
def test_wrong_content_type_is_rejected(tmp_path: Path, server: Server) -> None:
    s = make_settings(tmp_path, copy_corpus=False)
    url = server.add("/rec.pdf", eurlex_page().encode(), "text/html; charset=utf-8")
    write_manifest(s, {"id": "rec", "path": "documents/rec.pdf", "urls": [(url, "pdf")]})

    report = fetch_missing(s)

    assert not report.ok
    assert "sent text/html, not a PDF" in report.failed["rec"]
    assert "by hand and save it as" in report.failed["rec"]
    assert not (s.corpus_path / "documents" / "rec.pdf").exists()
    assert leftovers(s) == []
    assert lock(s) == {}


@pytest.mark.integration
def test_corrupt_pdf_with_force_keeps_the_good_file(tmp_path: Path, server: Server) -> None:
    s = make_settings(tmp_path, copy_corpus=False)
    target = s.corpus_path / "documents" / "rec.pdf"
    target.parent.mkdir(parents=True)
    good = make_pdf()
    target.write_bytes(good)
    url = server.add("/rec.pdf", b"%PDF-1.7\n" + b"\x00garbage" * 500, "application/pdf")
    write_manifest(s, {"id": "rec", "path": "documents/rec.pdf", "urls": [(url, "pdf")]})

    report = fetch_missing(s, force=True)

    assert not report.ok
    assert "did not give a usable document" in report.failed["rec"]
    assert target.read_bytes() == good
    assert leftovers(s) == []
    assert lock(s) == {}


@pytest.mark.integration
@pytest.mark.parametrize("with_length", [True, False], ids=["content-length", "streamed"])
def test_oversize_body_is_rejected(tmp_path: Path, server: Server, with_length: bool) -> None:
    s = make_settings(tmp_path, copy_corpus=False, fetch_max_mb=0.002)  # about 2 KB
    body = make_pdf(ARTICLE * 2, pages=6)
    assert len(body) > 0.002 * 1048576
    url = server.add("/big.pdf", body, "application/pdf", length=with_length)
    write_manifest(s, {"id": "big", "path": "documents/big.pdf", "urls": [(url, "pdf")]})

    report = fetch_missing(s)

    assert "over the 0.002 MB limit" in report.failed["big"]
    assert "ASSISTANT_FETCH_MAX_MB" in report.failed["big"]
    assert not (s.corpus_path / "documents" / "big.pdf").exists()
    assert leftovers(s) == []


@pytest.mark.integration
def test_html_page_is_fetched_as_main_text(tmp_path: Path, server: Server) -> None:
    s = make_settings(tmp_path, copy_corpus=False)
    page = eurlex_page("Qualifications obtained abroad are recognised within 90 days. " * 2)
    page = page.replace("2022</p>", "2022 \u2013 r\u00e9sum\u00e9</p>")
    url = server.add("/law", page.encode("iso-8859-1", errors="replace"),
                     "text/html; charset=iso-8859-1")
    write_manifest(s, {"id": "law", "path": "documents/law.html", "urls": [(url, "html")]})

    report = fetch_missing(s)

    assert report.ok, report.lines()
    target = s.corpus_path / "documents" / "law.html"
    doc = load_document(target, load_manifest(s.manifest_path)[0], s)
    assert "recognised within 90 days" in doc.text
    assert "r\u00e9sum\u00e9" in doc.text  # re-saved as UTF-8, the loader's encoding
    assert "Cookies policy" not in doc.text
    assert "Advanced search" not in doc.text
    assert lock(s)["law"]["sha256"] == file_sha256(target)


@pytest.mark.integration
def test_html_page_without_text_is_rejected(tmp_path: Path, server: Server) -> None:
    s = make_settings(tmp_path, copy_corpus=False)
    url = server.add("/law", b"<html><body><p>Please enable JavaScript.</p></body></html>",
                     "text/html")
    write_manifest(s, {"id": "law", "path": "documents/law.html", "urls": [(url, "html")]})
    report = fetch_missing(s)
    assert "only 25 characters of text" in report.failed["law"]
    assert not (s.corpus_path / "documents" / "law.html").exists()


@pytest.mark.integration
def test_http_error_then_next_url_is_tried(tmp_path: Path, server: Server) -> None:
    s = make_settings(tmp_path, copy_corpus=False)
    missing = server.base + "/gone.pdf"
    good = server.add("/mirror.pdf", make_pdf(), "application/pdf")
    html = server.add("/page", eurlex_page().encode(), "text/html")
    write_manifest(s, {"id": "rec", "path": "documents/rec.pdf",
                       "urls": [(html, "html"), (missing, "pdf"), (good, "pdf")]})

    report = fetch_missing(s)

    assert report.ok, report.lines()
    assert lock(s)["rec"]["url"] == good
    # Only urls whose format fits the path are used; the html one was never requested.
    server.routes.clear()
    write_manifest(s, {"id": "rec", "path": "documents/rec.pdf",
                       "urls": [(missing, "pdf")]})
    failed = fetch_missing(s, force=True)
    assert "HTTP 404" in failed.failed["rec"]
    assert "by hand" in failed.failed["rec"]


@pytest.mark.integration
def test_cli_fetch_success_exits_0(
    tmp_path: Path, server: Server, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from assistant.cli import main

    s = make_settings(tmp_path, copy_corpus=False)
    url = server.add("/rec.pdf", make_pdf(), "application/pdf")
    write_manifest(s, {"id": "rec", "path": "documents/rec.pdf", "urls": [(url, "pdf")]})
    for key, value in {"CORPUS_DIR": s.corpus_path, "INDEX_DIR": tmp_path / "index",
                       "DATA_DIR": tmp_path / "data"}.items():
        monkeypatch.setenv(f"ASSISTANT_{key}", str(value))

    assert main(["corpus", "fetch", "rec"]) == 0
    assert capsys.readouterr().out.startswith("fetched  rec: saved corpus/documents/rec.pdf")


# -- without a server --------------------------------------------------------------------------
def test_unreachable_host_fails_fast_with_a_fix(tmp_path: Path) -> None:
    s = make_settings(tmp_path, copy_corpus=False)
    url = f"http://127.0.0.1:{closed_port()}/rec.pdf"
    write_manifest(s, {"id": "rec", "path": "documents/rec.pdf", "urls": [(url, "pdf")]})

    t0 = time.monotonic()
    report = fetch_missing(s)
    elapsed = time.monotonic() - t0

    assert elapsed < 5
    reason = report.failed["rec"]
    assert reason.startswith("cannot reach 127.0.0.1 (connection refused)")
    assert f"download {url} by hand and save it as {s.corpus_path / 'documents' / 'rec.pdf'}" \
        in reason


def test_unresolvable_name_fails_fast(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No network at all: the name look-up fails, and nothing else is tried."""

    def no_dns(*args: object, **kwargs: object) -> object:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    s = make_settings(tmp_path, copy_corpus=False)
    write_manifest(
        s,
        {"id": "a", "path": "documents/a.pdf", "urls": [("https://eur-lex.example/a", "pdf")]},
        {"id": "b", "path": "documents/b.html", "urls": [("https://eur-lex.example/b", "html")]},
    )
    report = fetch_missing(s)
    assert set(report.failed) == {"a", "b"}
    assert report.failed["a"].startswith("cannot reach eur-lex.example (name not resolved")
    assert [ln.split()[0] for ln in report.lines()] == ["FAILED", "FAILED"]


def test_hanging_dns_is_cut_short(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A resolver that never answers costs the probe timeout once, not a timeout per url."""

    def slow_dns(*args: object, **kwargs: object) -> object:
        time.sleep(3)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", slow_dns)
    monkeypatch.setattr(fetch, "PROBE_TIMEOUT_S", 0.3)
    s = make_settings(tmp_path, copy_corpus=False)
    write_manifest(s, *[
        {"id": f"d{i}", "path": f"documents/d{i}.pdf",
         "urls": [(f"https://host{i % 2}.example/d{i}", "pdf")]}
        for i in range(4)
    ])
    t0 = time.monotonic()
    report = fetch_missing(s)
    assert time.monotonic() - t0 < 1.5
    assert len(report.failed) == 4
    assert "no answer within 0.3 s" in report.failed["d0"]


def test_document_without_url_is_listed_not_failed(tmp_path: Path) -> None:
    s = make_settings(tmp_path, copy_corpus=False)
    write_manifest(s, {"id": "am-law", "path": "documents/am-law.pdf",
                       "source": "arlis.am, HO-297"})
    report = fetch_missing(s)
    assert report.ok
    assert report.no_source == {"am-law": "arlis.am, HO-297"}
    assert report.lines() == ["manual   am-law: no download address: arlis.am, HO-297"]


def test_url_format_must_match_the_path(tmp_path: Path) -> None:
    s = make_settings(tmp_path, copy_corpus=False)
    write_manifest(s, {"id": "rec", "path": "documents/rec.pdf",
                       "urls": [("http://127.0.0.1:9/rec", "html")]})
    reason = fetch_missing(s).failed["rec"]
    assert reason.startswith("no url gives a .pdf file (skipped 1 html url(s)")
    assert "change its path in corpus.toml" in reason


def test_unknown_id_names_the_valid_ones(tmp_path: Path) -> None:
    s = make_settings(tmp_path, copy_corpus=False)
    write_manifest(s, {"id": "rec", "path": "documents/rec.pdf"},
                   {"id": "law", "path": "documents/law.html"})
    with pytest.raises(FetchError, match="unknown document id nope; the manifest lists: rec, law"):
        fetch_missing(s, ids=["rec", "nope"])


def test_cli_failure_is_one_line_without_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from assistant.cli import main

    s = make_settings(tmp_path, copy_corpus=False)
    url = f"http://127.0.0.1:{closed_port()}/rec.pdf"
    write_manifest(s, {"id": "rec", "path": "documents/rec.pdf", "urls": [(url, "pdf")]})
    for key, value in {"CORPUS_DIR": s.corpus_path, "INDEX_DIR": tmp_path / "index",
                       "DATA_DIR": tmp_path / "data"}.items():
        monkeypatch.setenv(f"ASSISTANT_{key}", str(value))

    assert main(["corpus", "fetch"]) == 1
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("FAILED   rec: cannot reach 127.0.0.1")
    assert "Traceback" not in captured.out + captured.err

    assert main(["corpus", "fetch", "nope"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: unknown document id nope")
    assert "Traceback" not in err
