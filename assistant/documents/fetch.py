"""``assistant corpus fetch``: download manifest documents from their official source.

Each download goes to a hidden ``.part`` file next to its target, is checked (content type,
size, and that it parses as the document the manifest expects), and only then replaces the
target. A failed download never touches an existing file. Hashes of fetched files are recorded
in ``corpus/fetched.json``; ``corpus.toml`` is never rewritten.

Without a network this fails within seconds: each host is looked up and connected to with a
short timeout before any download, and every failure says how to get the file by hand.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assistant import __version__
from assistant.config import Settings
from assistant.documents.loaders import SUPPORTED_SUFFIXES, load_document
from assistant.documents.manifest import document_path, file_sha256, load_manifest
from assistant.errors import DocumentError, FetchError
from assistant.types import DocumentInfo, SourceURL

LOCK_FILE = "fetched.json"
USER_AGENT = f"micro-gear-assistant/{__version__} (corpus fetch; Python urllib)"
PROBE_TIMEOUT_S = 3.0  # host look-up + connect, before any download
MIN_HTML_CHARS = 200
_BLOCK = 64 * 1024
_PDF_TYPES = {"application/pdf", "application/x-pdf"}
_OCTET_TYPES = {"application/octet-stream", "binary/octet-stream", "application/download",
                "application/force-download"}
_HTML_TYPES = {"text/html", "application/xhtml+xml"}

# opener(request, timeout) -> a response with .headers, .read(n), .geturl() and .close().
Opener = Callable[[urllib.request.Request, float], Any]


@dataclass
class FetchReport:
    """What ``fetch_missing`` did, one entry per manifest document it looked at."""

    fetched: dict[str, str] = field(default_factory=dict)  # doc id -> what was saved
    skipped: dict[str, str] = field(default_factory=dict)  # doc id -> present file
    no_source: dict[str, str] = field(default_factory=dict)  # doc id -> its source text
    failed: dict[str, str] = field(default_factory=dict)  # doc id -> reason and fix
    order: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed

    def lines(self) -> list[str]:
        """One human-readable line per document, in manifest order."""
        out = []
        for doc_id in self.order:
            if doc_id in self.fetched:
                out.append(f"fetched  {doc_id}: {self.fetched[doc_id]}")
            elif doc_id in self.skipped:
                out.append(f"present  {doc_id}: {self.skipped[doc_id]}")
            elif doc_id in self.no_source:
                out.append(f"manual   {doc_id}: no download address: {self.no_source[doc_id]}")
            elif doc_id in self.failed:
                out.append(f"FAILED   {doc_id}: {self.failed[doc_id]}")
        return out


class _DownloadError(Exception):
    """One url did not give a usable document (the message is the reason)."""


def fetch_missing(
    settings: Settings,
    ids: Sequence[str] | None = None,
    force: bool = False,
    opener: Opener | None = None,
) -> FetchReport:
    """Download each manifest document whose file is missing (every listed one with ``force``).

    ``opener`` replaces urllib's transport (tests); with it, the host reachability probe is
    skipped because the caller decides where requests go.
    """
    docs = _select(load_manifest(settings.manifest_path), ids)
    report = FetchReport(order=[d.id for d in docs])
    todo: list[tuple[DocumentInfo, Path]] = []
    for info in docs:
        target = document_path(info, settings)
        if target.is_file() and not force:
            report.skipped[info.id] = f"{_show(target, settings)} (use --force to download again)"
        elif not info.urls:
            report.no_source[info.id] = info.source or "(no source given in corpus.toml)"
        else:
            todo.append((info, target))
    if not todo:
        return report

    probe: dict[str, str | None] = {}
    if opener is None:
        hosts = {_probe_address(u.url) for info, t in todo for u in _matching(info, t)[0]}
        probe = _probe_hosts({h for h in hosts if h is not None},
                             min(PROBE_TIMEOUT_S, settings.fetch_timeout_s))
    open_url = opener or _default_opener()

    lock = _read_lock(settings)
    for info, target in todo:
        try:
            entry = _fetch_one(info, target, settings, open_url, probe)
        except _DownloadError as exc:
            report.failed[info.id] = str(exc)
            continue
        lock[info.id] = entry
        _write_lock(settings, lock)
        note = ""
        if info.sha256 and info.sha256 != entry["sha256"]:
            note = f"; sha256 differs from corpus.toml ({info.sha256[:12]}…): the source changed"
        report.fetched[info.id] = (
            f"saved {_show(target, settings)} ({entry['bytes'] / 1024:.0f} KB, "
            f"sha256 {entry['sha256'][:12]}…) from {entry['url']}{note}"
        )
    return report


def _select(docs: list[DocumentInfo], ids: Sequence[str] | None) -> list[DocumentInfo]:
    if not ids:
        return docs
    names = {d.id: d.id for d in docs} | {a: d.id for d in docs for a in d.aliases}
    unknown = [i for i in ids if i not in names]
    if unknown:
        raise FetchError(
            f"unknown document id {', '.join(unknown)}; the manifest lists: "
            f"{', '.join(d.id for d in docs)}"
        )
    wanted = {names[i] for i in ids}
    return [d for d in docs if d.id in wanted]


def _show(path: Path, settings: Settings) -> str:
    with contextlib.suppress(ValueError):
        return str(path.relative_to(settings.corpus_path.parent))
    return str(path)


def _matching(info: DocumentInfo, target: Path) -> tuple[list[SourceURL], list[SourceURL]]:
    """The urls whose format fits the target's suffix, and the others."""
    fmt = SUPPORTED_SUFFIXES.get(target.suffix.lower())
    good = [u for u in info.urls if u.format == fmt]
    return good, [u for u in info.urls if u.format != fmt]


# -- one document ------------------------------------------------------------------------------
def _fetch_one(
    info: DocumentInfo, target: Path, settings: Settings, open_url: Opener,
    probe: dict[str, str | None],
) -> dict[str, Any]:
    good, other = _matching(info, target)
    skipped = ""
    if other:
        fmts = ", ".join(sorted({u.format for u in other}))
        skipped = f" (skipped {len(other)} {fmts} url(s): the manifest path wants {target.suffix})"
    if not good:
        raise _DownloadError(
            f"no url gives a {target.suffix} file{skipped}; save the document by hand as "
            f"{target}, or change its path in corpus.toml"
        )
    errors: list[str] = []
    for src in good:
        host = urllib.parse.urlsplit(src.url).hostname or src.url
        problem = probe.get(_probe_address(src.url) or "")
        if problem:
            errors.append(f"cannot reach {host} ({problem})")
            continue
        try:
            return _download(src, target, settings, open_url)
        except _DownloadError as exc:
            errors.append(str(exc))
    raise _DownloadError(
        f"{'; '.join(errors)}: download {good[0].url} by hand and save it as {target}{skipped}"
    )


def _download(src: SourceURL, target: Path, settings: Settings, open_url: Opener
              ) -> dict[str, Any]:
    """Fetch one url into ``.<stem>.part<suffix>``, check it, then move it over ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    # The suffix stays last so that load_document can check the file as what it will be.
    part = target.with_name(f".{target.stem}.part{target.suffix}")
    host = urllib.parse.urlsplit(src.url).hostname or src.url
    limit = int(settings.fetch_max_mb * 1024 * 1024)
    req = urllib.request.Request(src.url, headers={
        "User-Agent": USER_AGENT,
        "Accept": "application/pdf" if src.format == "pdf" else "text/html,application/xhtml+xml",
    })
    try:
        try:
            resp = open_url(req, settings.fetch_timeout_s)
        except urllib.error.HTTPError as exc:
            raise _DownloadError(f"HTTP {exc.code} {exc.reason} from {src.url}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise _DownloadError(f"cannot reach {host} ({_why(exc)})") from exc
        with contextlib.closing(resp):
            ctype = resp.headers.get_content_type() if resp.headers else ""
            charset = resp.headers.get_content_charset() if resp.headers else None
            length = resp.headers.get("Content-Length") if resp.headers else None
            if length and length.isdigit() and int(length) > limit:
                raise _DownloadError(_too_big(int(length), settings, src.url))
            _stream(resp, part, limit, settings, src.url, host)
        _check_type(src, ctype, part)
        if src.format == "html":
            _to_utf8(part, charset, src.url)
        _verify(part, src, settings)
        sha, size = file_sha256(part), part.stat().st_size
        os.replace(part, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            part.unlink()
    return {
        "sha256": sha,
        "url": src.url,
        "bytes": size,
        "fetched_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _stream(resp: Any, part: Path, limit: int, settings: Settings, url: str, host: str) -> None:
    size = 0
    try:
        with part.open("wb") as fh:
            while block := resp.read(_BLOCK):
                size += len(block)
                if size > limit:
                    raise _DownloadError(_too_big(size, settings, url, partial=True))
                fh.write(block)
    except (urllib.error.URLError, OSError) as exc:
        raise _DownloadError(f"download from {host} broke off ({_why(exc)})") from exc
    if size == 0:
        raise _DownloadError(f"{url} sent an empty body")


def _too_big(size: int, settings: Settings, url: str, partial: bool = False) -> str:
    what = "more than " if partial else ""
    return (f"{url} is {what}{size / 1048576:.1f} MB, over the {settings.fetch_max_mb:g} MB "
            "limit (raise ASSISTANT_FETCH_MAX_MB to allow it)")


def _check_type(src: SourceURL, ctype: str, part: Path) -> None:
    with part.open("rb") as fh:
        head = fh.read(1024)
    if src.format == "pdf":
        if ctype in _PDF_TYPES or (ctype in _OCTET_TYPES and head.lstrip().startswith(b"%PDF")):
            return
        raise _DownloadError(
            f"{src.url} sent {ctype or 'no content type'}, not a PDF "
            "(a cookie or captcha page?)"
        )
    if src.format == "html" and ctype not in _HTML_TYPES:
        raise _DownloadError(f"{src.url} sent {ctype or 'no content type'}, not an HTML page")


_META_CHARSET = re.compile(rb"<meta[^>]+charset=[\"']?([A-Za-z0-9_.:-]+)", re.I)


def _to_utf8(part: Path, charset: str | None, url: str) -> None:
    """Save the page as UTF-8, the encoding the HTML loader reads."""
    raw = part.read_bytes()
    if not charset:
        m = _META_CHARSET.search(raw[:4096])
        charset = m.group(1).decode("ascii") if m else "utf-8"
    try:
        text = raw.decode(charset)
    except (LookupError, UnicodeDecodeError) as exc:
        raise _DownloadError(f"{url}: the page cannot be decoded as {charset} ({exc})") from exc
    part.write_text(text.lstrip("\ufeff"), encoding="utf-8")


def _verify(part: Path, src: SourceURL, settings: Settings) -> None:
    """The file must load as a document: a readable PDF with text, or a page with main text."""
    info = DocumentInfo(id="fetch-check", title=part.name)
    try:
        doc = load_document(part, info, settings)
    except DocumentError as exc:
        raise _DownloadError(f"{src.url} did not give a usable document: {exc.reason}") from exc
    if src.format == "html" and len(doc.text.strip()) < MIN_HTML_CHARS:
        raise _DownloadError(
            f"{src.url} gave a page with only {len(doc.text.strip())} characters of text "
            "(an error, cookie or captcha page?)"
        )


# -- network -----------------------------------------------------------------------------------
def _default_opener() -> Opener:
    director = urllib.request.build_opener()

    def open_url(req: urllib.request.Request, timeout: float) -> Any:
        return director.open(req, timeout=timeout)

    return open_url


def _probe_address(url: str) -> str | None:
    """``host:port`` the download will connect to first (the proxy, when one is set)."""
    parts = urllib.parse.urlsplit(url)
    if not parts.hostname:
        return None
    proxy = urllib.request.getproxies().get(parts.scheme)
    if proxy and not urllib.request.proxy_bypass(parts.hostname):
        p = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        if p.hostname:
            return f"{p.hostname}:{p.port or 80}"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.hostname}:{port}"


def _probe_hosts(addresses: set[str], timeout: float) -> dict[str, str | None]:
    """Look up and connect to each address at once; address -> problem, or None if reachable."""
    results: dict[str, str | None] = {}
    threads = []
    for addr in addresses:
        t = threading.Thread(target=_probe_one, args=(addr, timeout, results), daemon=True)
        t.start()
        threads.append((addr, t))
    deadline = time.monotonic() + timeout + 0.5
    for addr, t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
        if t.is_alive():
            results.setdefault(addr, f"no answer within {timeout:g} s: no network?")
    return results


def _probe_one(addr: str, timeout: float, results: dict[str, str | None]) -> None:
    host, _, port = addr.rpartition(":")
    try:
        infos = socket.getaddrinfo(host, int(port), type=socket.SOCK_STREAM)
        family, stype, proto, _, sockaddr = infos[0]
        with socket.socket(family, stype, proto) as sock:
            sock.settimeout(timeout)
            sock.connect(sockaddr)
    except OSError as exc:
        results[addr] = _why(exc)
    else:
        results[addr] = None


def _why(exc: BaseException) -> str:
    """A short human reason for a network error."""
    if isinstance(exc, urllib.error.URLError) and isinstance(exc.reason, BaseException):
        return _why(exc.reason)
    if isinstance(exc, socket.gaierror):
        return "name not resolved: no network, or DNS is blocked"
    if isinstance(exc, TimeoutError):
        return "timed out: no network, or a firewall drops the connection"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, OSError) and exc.errno in {errno.ENETUNREACH, errno.EHOSTUNREACH}:
        return "network unreachable"
    if isinstance(exc, urllib.error.URLError):
        return str(exc.reason)
    return str(exc) or type(exc).__name__


# -- lock file ---------------------------------------------------------------------------------
def _lock_path(settings: Settings) -> Path:
    return settings.corpus_path / LOCK_FILE


def _read_lock(settings: Settings) -> dict[str, Any]:
    path = _lock_path(settings)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise FetchError(f"{path} is not valid JSON ({exc}); delete it and fetch again") from exc
    return data if isinstance(data, dict) else {}


def _write_lock(settings: Settings, lock: dict[str, Any]) -> None:
    path = _lock_path(settings)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(lock, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)
