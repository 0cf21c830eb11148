"""Generated corpora N times the bundled one: the reports plus renamed variants of them.

Each variant of a bundled report is the same text with its own fictional country, capital and
project name, and its own numbers (every number that is not a year is shifted), so that it is
a near-duplicate distractor with distinct names and facts. The bundled documents stay as they
are, so the questions of the evaluation set keep their answers. Variants are listed in the
manifest as country XX (unspecified), report type.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
_SYLLABLES = ["val", "mor", "den", "kas", "tur", "lin", "bra", "sol", "ve", "ran", "dor", "mi",
              "tal", "gor", "nes", "pel", "ur", "ka", "zan", "tre"]
_NUMBER = re.compile(r"\b\d+\b")
_VARIANT_ID = re.compile(r"(.+)-v(\d{3})")


def fictional_name(i: int, salt: int) -> str:
    """A pronounceable name, distinct for each (i, salt)."""
    n = i * 7 + salt * 3 + 11
    parts = []
    for _ in range(3):
        parts.append(_SYLLABLES[n % len(_SYLLABLES)])
        n //= len(_SYLLABLES)
        n += i + salt
    return "".join(parts).capitalize()


def variant_text(text: str, v: int) -> str:
    """The bundled report renamed and renumbered for variant ``v`` (1, 2, ...)."""
    country_a, country_g = fictional_name(v, 1), fictional_name(v, 2)
    swaps = {
        "Armenian": f"{country_a}ian", "Armenia": country_a,
        "Georgian": f"{country_g}ian", "Georgia": country_g,
        "Yerevan": fictional_name(v, 3), "Tbilisi": fictional_name(v, 4),
        "Micro-GEAR": f"Micro-{fictional_name(v, 5).upper()}",
    }
    swaps.update({k.upper(): v.upper() for k, v in swaps.items()})
    pattern = re.compile("|".join(sorted(map(re.escape, swaps), key=len, reverse=True)))
    text = pattern.sub(lambda m: swaps[m.group(0)], text)

    def shift(m: re.Match[str]) -> str:
        n = int(m.group(0))
        return m.group(0) if 1900 <= n <= 2100 else str(n + v)

    return _NUMBER.sub(shift, text)


def build_corpus(dst: Path, times: int) -> Path:
    """A corpus folder at ``dst`` with the bundled reports and ``times - 1`` variants of each.

    Returns the corpus folder (its ``corpus.toml`` lists the bundled reports and the variants).
    """
    src = REPO / "corpus"
    docs = dst / "documents"
    docs.mkdir(parents=True, exist_ok=True)
    shutil.copy(src / "synonyms.toml", dst / "synonyms.toml")
    manifest = src.joinpath("corpus.toml").read_text(encoding="utf-8")
    # Only the documents that are bundled (the others need a network to fetch).
    blocks = [b for b in manifest.split("[[document]]")[1:]
              if (src / re.search(r'path = "([^"]+)"', b).group(1)).exists()]  # type: ignore[union-attr]
    out = ["[[document]]" + b for b in blocks]
    for block in blocks:
        path = re.search(r'path = "([^"]+)"', block).group(1)  # type: ignore[union-attr]
        shutil.copy(src / path, docs / Path(path).name)
        doc_id = re.search(r'id = "([^"]+)"', block).group(1)  # type: ignore[union-attr]
        text = (src / path).read_text(encoding="utf-8")
        for v in range(1, times):
            name = f"{doc_id}-v{v:03d}"
            (docs / f"{name}.md").write_text(variant_text(text, v), encoding="utf-8")
            title = variant_text(re.search(r'title = "([^"]+)"', block).group(1), v)  # type: ignore[union-attr]
            out.append(f'[[document]]\nid = "{name}"\ntitle = "{title}"\ncountry = "XX"\n'
                       f'doc_type = "report"\nyear = 2024\npath = "documents/{name}.md"\n\n')
    dst.joinpath("corpus.toml").write_text("".join(out), encoding="utf-8")
    return dst


def holds_answer(passage: Any, sources: Sequence[Any], question: str) -> bool:
    """Does ``passage`` hold the answer to ``question``?

    A passage of a gold document holding its quote does (as ``assistant eval`` counts). So
    does a variant's copy of it, but only when that variant changes neither the question nor
    the quote: then the question names nothing the variant renamed or renumbered, the copy
    states the same fact in the same words, and no reader could tell which of the two
    documents the question meant. A variant that changes either (the question names Armenia,
    or the quote holds a number the variant shifted) never counts.
    """
    from assistant.evaluation.metrics import is_relevant
    from assistant.evaluation.qa import Source

    if is_relevant(passage, sources):
        return True
    m = _VARIANT_ID.fullmatch(passage.doc_id)
    if m is None:
        return False
    base, v = m.group(1), int(m.group(2))
    if variant_text(question, v) != question:
        return False
    return any(is_relevant(passage, [Source(passage.doc_id, s.quote)]) for s in sources
               if s.doc == base and variant_text(s.quote, v) == s.quote)
