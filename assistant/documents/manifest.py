"""The corpus manifest (corpus.toml), uploaded documents' records, and what the corpus holds."""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from assistant.config import Settings
from assistant.errors import ConfigError
from assistant.text import countries_in, tokens
from assistant.types import DocumentInfo, SourceURL

# --------------------------------------------------------------------------------------------
# Manifest
# --------------------------------------------------------------------------------------------
# A law the question calls new or a draft is not the listed one ("the new Law on Higher
# Education and Science" is not the 2004 Law on Higher and Postgraduate Professional Education).
_NEW_LAW = re.compile(
    r"\b(?:new|draft|proposed|forthcoming|upcoming|future)\s+(?:[\w'-]+\s+){0,2}$", re.I)
# A mention whose words go on as a longer title: "and" and a capitalised word ("… Higher
# Education and Science"), which names a different document.
_LONGER_TITLE = re.compile(r"\s*(?:and|&)\s+([A-Z][\w-]*)")


def names_document(info: DocumentInfo, question: str) -> bool:
    """Does the question name this listed document? One of its ``mentions`` patterns matches,
    and not as part of a different title: a law called new or a draft, or a mention that goes
    on with words the document's title does not have ("Law on Higher Education and Science")."""
    title = set(tokens(info.title))
    for rx in info.mentions:
        for m in re.finditer(rx, question, re.I):
            if _NEW_LAW.search(question[: m.start()]):
                continue
            more = _LONGER_TITLE.match(question, m.end())
            if more and not countries_in(more.group(1)) and not set(tokens(more.group(1))) <= (
                    title):
                continue
            return True
    return False

# --------------------------------------------------------------------------------------------
def load_manifest(path: Path) -> list[DocumentInfo]:
    """Read ``corpus.toml``: one ``[[document]]`` table per document the assistant covers."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"No corpus manifest at {path}; set ASSISTANT_CORPUS_DIR.") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
    docs = []
    for i, entry in enumerate(data.get("document", []), 1):
        try:
            urls = tuple(SourceURL(url=u["url"], format=u["format"]) for u in entry.get("urls", []))
            docs.append(
                DocumentInfo(
                    id=entry["id"],
                    title=entry["title"],
                    country=entry.get("country", "XX"),
                    doc_type=entry.get("doc_type", "other"),
                    year=entry.get("year"),
                    issuer=entry.get("issuer", ""),
                    source=entry.get("source", ""),
                    path=entry.get("path", ""),
                    urls=urls,
                    aliases=tuple(entry.get("aliases", [])),
                    sha256=entry.get("sha256", ""),
                    mentions=tuple(entry.get("mentions", [])),
                )
            )
        except KeyError as exc:
            raise ConfigError(f"{path}: document #{i} lacks the field {exc}") from exc
    ids = [d.id for d in docs]
    if len(ids) != len(set(ids)):
        raise ConfigError(f"{path}: document ids must be unique, got {ids}")
    return docs


def document_path(info: DocumentInfo, settings: Settings) -> Path:
    """Where a document's file lives (manifest paths are relative to the corpus folder)."""
    p = Path(info.path)
    return p if p.is_absolute() else settings.corpus_path / p


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def slugify(name: str) -> str:
    """A readable ASCII slug; Armenian, Georgian and Cyrillic are transliterated (anyascii)."""
    from anyascii import anyascii

    ascii_name = anyascii(unicodedata.normalize("NFC", name))
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug[:60].strip("-") or "document"


def upload_id(name: str) -> str:
    """A stored upload's id: readable slug, type, and a short hash of the exact file name.

    Two different names (``a b.md`` and ``a_b.md``, ``Закон.md`` and ``ფაილი.md``) never share
    an id, and the same stored file always gets the same one.
    """
    path = Path(name)
    digest = hashlib.sha256(unicodedata.normalize("NFC", path.name).encode()).hexdigest()[:8]
    kind = path.suffix.lstrip(".").lower() or "file"
    return f"upload-{slugify(path.stem)}-{kind}-{digest}"


def info_for_upload(path: Path, record: dict[str, str] | None = None) -> DocumentInfo:
    """Metadata for a file that is not in the manifest: id and title from its name.

    The title, country and type a user gave on the page are kept beside the file, in
    ``.<name>.json``, and take precedence.
    """
    stem = path.stem
    record = record or {}
    info = DocumentInfo(
        id=upload_id(path.name),
        title=stem.replace("_", " ").replace("-", " ").strip() or path.name,
        country="XX",
        doc_type="other",
        source=f"uploaded file {path.name}",
        path=str(path),
        origin="upload",
        uploaded_by=record.get("uploaded_by", ""),
        uploaded_at=record.get("uploaded_at", ""),
    )
    try:
        given = json.loads((path.parent / f".{path.name}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return info
    keep = {k: str(v) for k, v in given.items() if k in {"title", "country", "doc_type"} and v}
    return replace(info, **keep)  # type: ignore[arg-type]


def registry_path(settings: Settings) -> Path:
    """data/uploads.json: where each stored upload came from, who added it and when."""
    return settings.data_path / "uploads.json"


def upload_records(settings: Settings) -> dict[str, dict[str, str]]:
    """Stored file name → {"source", "sha256", "uploaded_by", "uploaded_at"} of each upload."""
    try:
        data = json.loads(registry_path(settings).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): dict(v) for k, v in data.items() if isinstance(v, dict)}


def save_upload_records(settings: Settings, records: dict[str, dict[str, str]]) -> None:
    """Write the registry whole (temporary file, fsync, rename): never half a file."""
    import os

    path = registry_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.part")
    with tmp.open("w", encoding="utf-8") as fh:
        json.dump(records, fh, ensure_ascii=False, indent=1, sort_keys=True)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)


# --------------------------------------------------------------------------------------------
# The corpus as a whole
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CorpusEntry:
    """A document the assistant knows of, and the file that holds it (if any)."""

    info: DocumentInfo
    path: Path
    in_manifest: bool

    @property
    def present(self) -> bool:
        return self.path.is_file()


def corpus_entries(settings: Settings) -> list[CorpusEntry]:
    """Manifest documents, then uploaded documents (data/documents), in a stable order."""
    entries = [
        CorpusEntry(info, document_path(info, settings), True)
        for info in load_manifest(settings.manifest_path)
    ]
    known = {e.path.resolve() for e in entries}
    up = settings.uploads_path
    if up.is_dir():
        records = upload_records(settings)
        for f in sorted(up.iterdir()):
            if f.is_file() and f.resolve() not in known and not f.name.startswith("."):
                info = replace(info_for_upload(f, records.get(f.name)), path=str(f))
                entries.append(CorpusEntry(info, f, False))
    return entries


def alias_map(entries: Iterable[CorpusEntry]) -> dict[str, str]:
    """Document id or alias → document id."""
    out: dict[str, str] = {}
    for e in entries:
        out[e.info.id] = e.info.id
        for a in e.info.aliases:
            out[a] = e.info.id
    return out
