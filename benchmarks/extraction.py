"""Compare PDF text extractors on real PDFs: right page, glued words, ligatures, speed.

Run: ``python benchmarks/extraction.py [FILE.pdf ...]`` (default: the Debian documentation PDFs
that ``make install-test`` installs). Extractors that are not installed are reported and skipped;
docs/how-it-works.md's comparison also used ``pip install pdfplumber==0.11.10 pdftotext==4.0.0``
(the latter needs ``apt-get install libpoppler-cpp-dev``).

Right page: one random run of six plain words is sampled from each page of poppler's
``pdftotext -layout -f N -l N`` output (the command-line tool, poppler-utils); a method is right
when it puts that phrase on page N (whitespace folded, NFKC, line-end hyphens joined). Because
the reference is poppler, the pdftotext rows are favoured. Glued page: a page whose words
average more than 9 letters, or with 3 or more words of 20 letters or more.
"""

from __future__ import annotations

import gzip
import random
import re
import subprocess
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

DOC = Path("/usr/share/doc")
DEFAULT = [DOC / "auto-multiple-choice/auto-multiple-choice.en.pdf",
           DOC / "camlidl/camlidl-1.04.doc.pdf",
           DOC / "docbook-xsl-doc-pdf/doc/reference.pdf.gz",
           DOC / "python-reportlab-doc/reportlab-userguide.pdf",
           DOC / "why3-doc-pdf/manual.pdf",
           DOC / "auto-multiple-choice/latex/automultiplechoice.pdf"]


def m_pypdf(path: str) -> list[str]:
    from pypdf import PdfReader

    return [p.extract_text() or "" for p in PdfReader(path).pages]


def m_pypdf_layout(path: str) -> list[str]:
    from pypdf import PdfReader

    return [p.extract_text(extraction_mode="layout") or "" for p in PdfReader(path).pages]


def m_pdfplumber(path: str) -> list[str]:
    import pdfplumber

    with pdfplumber.open(path) as pdf:
        return [p.extract_text() or "" for p in pdf.pages]


def m_pdftotext(path: str, raw: bool = False) -> list[str]:
    import pdftotext

    with open(path, "rb") as f:
        return list(pdftotext.PDF(f, raw=raw))


def m_pdftotext_raw(path: str) -> list[str]:
    return m_pdftotext(path, raw=True)


def m_pypdfium2(path: str) -> list[str]:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(path)
    out = []
    for page in doc:
        tp = page.get_textpage()
        out.append(tp.get_text_range())
        tp.close()
        page.close()
    return out


METHODS = {"pypdf": m_pypdf, "pypdf layout": m_pypdf_layout, "pdfplumber": m_pdfplumber,
           "pdftotext": m_pdftotext, "pdftotext raw": m_pdftotext_raw, "pypdfium2": m_pypdfium2}


def norm(s: str) -> str:
    s = unicodedata.normalize("NFKC", s.replace("\ufffe", ""))
    s = re.sub(r"(\w)-\s*\n\s*(\w)", r"\1\2", s)
    return re.sub(r"\s+", " ", s).lower()


def samples_of(path: str, npages: int) -> list[tuple[int, str]]:
    """One six-word phrase per page, from poppler's pdftotext command line (the reference)."""
    rng = random.Random(7)
    out = []
    for n in range(1, npages + 1):
        ref = subprocess.run(["pdftotext", "-layout", "-f", str(n), "-l", str(n), path, "-"],
                             capture_output=True, text=True, check=False).stdout
        words = norm(ref).split(" ")
        starts = [i for i in range(len(words) - 6)
                  if all(re.fullmatch(r"[a-z]{2,14}", w) for w in words[i : i + 6])]
        if starts:
            i = rng.choice(starts)
            out.append((n, " ".join(words[i : i + 6])))
    return out


def glued(page: str) -> bool:
    toks = re.findall(r"[A-Za-z]+", unicodedata.normalize("NFKC", page))
    if not toks:
        return False
    return sum(len(x) >= 20 for x in toks) >= 3 or sum(map(len, toks)) / len(toks) > 9


def main() -> int:
    paths = [Path(a) for a in sys.argv[1:]] or DEFAULT
    with tempfile.TemporaryDirectory() as tmp:
        for path in paths:
            if path.suffix == ".gz":
                plain = Path(tmp) / path.stem
                plain.write_bytes(gzip.decompress(path.read_bytes()))
                path = plain
            samples = samples_of(str(path), len(m_pypdfium2(str(path))))
            for name, fn in METHODS.items():
                t = time.perf_counter()
                try:
                    pages = fn(str(path))
                except ImportError:
                    print(f"{path.name:28s} {name:14s} not installed")
                    continue
                dt = time.perf_counter() - t
                lig = sum(len(re.findall("[\ufb00-\ufb06]", p)) for p in pages)
                folded = [norm(p) for p in pages]
                right = wrong = 0
                for n, phrase in samples:
                    hits = [i + 1 for i, p in enumerate(folded) if phrase in p]
                    right += n in hits
                    wrong += bool(hits) and n not in hits
                print(f"{path.name:28s} {name:14s} pages {len(pages):3d}  right page "
                      f"{right}/{len(samples)} (wrong {wrong})  glued pages "
                      f"{sum(map(glued, pages))}  ligatures {lig}  {dt:.2f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
