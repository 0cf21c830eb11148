"""Question words in Armenian, Georgian and Russian read as the English terms of this domain.

The documents are English, and the project's tokens are Latin letters and digits only, so a
question asked in another language shares no word with them: BM25 and every term feature see
nothing, and only the multilingual dense similarity works. The glossary is data,
``corpus/glossary.toml``: concepts of the domain ("qualification", "framework", "employer"),
each with its forms in the three languages. A question's words in those scripts are matched to
the forms (``matches``), and the English words of every concept matched join the question's
terms where the synonym table's do (``HybridRetriever.terms``).

Matching: the three languages inflect by endings (Russian "квалификационной рамки", Armenian
"որակավորման", Georgian "უნივერსიტეტებში"), so a word matches a form of its own script when
they share a long enough prefix (``need``): the form less its last three letters, and at least
six letters or the form's stem (the form less a final vowel) when that is shorter; a form whose
stem is under four letters must be matched whole. A match of fewer than five letters allows at
most five more letters after it ("вуз" → "вузах", not a long unrelated word).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from os.path import commonprefix
from pathlib import Path

from assistant.errors import ConfigError
from assistant.text import tokens

LANGUAGES = ("hy", "ka", "ru")
_LETTERS = {
    "hy": "\u0561-\u0587",  # Armenian lower case (and the ligature "և")
    "ka": "\u10d0-\u10ff",  # Georgian Mkhedruli (Mtavruli capitals lower-case to it)
    "ru": "\u0430-\u044f\u0451",  # Cyrillic lower case
}
_VOWELS = {"hy": "աեէըիոօ", "ka": "აეიოუ", "ru": "аеёиоуыэюяьй"}
_SCRIPT = {lang: re.compile(f"^[{letters}]+$") for lang, letters in _LETTERS.items()}
_FOREIGN = "".join(_LETTERS.values())
_WORD = re.compile(f"[{_FOREIGN}]+(?:-[{_FOREIGN}]+)*")
# Armenian writes its question, emphasis and exclamation marks over a letter inside the word
# ("Ի՞նչ", "որակավորո՞ւմ"): they are dropped before matching.
_ARMENIAN_MARKS = str.maketrans("", "", "\u055b\u055c\u055e")


def language_of(word: str) -> str | None:
    """hy, ka or ru by the script ``word`` is written in (lower case), else None."""
    for lang, rx in _SCRIPT.items():
        if rx.match(word):
            return lang
    return None


def need(form: str, lang: str) -> int:
    """How many leading letters a question word must share with ``form`` (see the module)."""
    stem = form[:-1] if form[-1] in _VOWELS[lang] else form
    if len(stem) < 4:
        return len(form)
    return max(len(form) - 3, min(len(stem), 6))


def matches(word: str, form: str, lang: str) -> bool:
    """Does the question word ``word`` stand for the glossary form ``form`` (both lower case)?"""
    n = need(form, lang)
    if len(commonprefix([word, form])) < n:
        return False
    return n >= 5 or len(word) <= n + 5


def foreign_words(text: str) -> list[str]:
    """The Armenian, Georgian and Cyrillic words of ``text``, lower case; a hyphenated word
    counts whole (hyphen dropped) and in its parts."""
    text = text.lower().translate(_ARMENIAN_MARKS).replace("ё", "е")
    out: list[str] = []
    for w in _WORD.findall(text):
        parts = w.split("-")
        out.append("".join(parts))
        if len(parts) > 1:
            out.extend(parts)
    return out


@dataclass(frozen=True)
class Glossary:
    """Forms in the three languages, each with the English stems of its concept."""

    # language → (form, the English stems it stands for)
    forms: dict[str, tuple[tuple[str, tuple[str, ...]], ...]]
    # the same by the form's first letter (a word can only match forms it begins like)
    _by_letter: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = field(
        default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        by: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
        for entries in self.forms.values():
            for form, stems in entries:
                by.setdefault(form[0], []).append((form, stems))
        self._by_letter.update({c: tuple(v) for c, v in by.items()})

    @classmethod
    def of(cls, concepts: list[dict[str, list[str]]]) -> Glossary:
        forms: dict[str, list[tuple[str, tuple[str, ...]]]] = {lang: [] for lang in LANGUAGES}
        for concept in concepts:
            stems = tuple(dict.fromkeys(t for w in concept.get("en", []) for t in tokens(w)))
            for lang in LANGUAGES:
                for form in concept.get(lang, []):
                    form = form.lower().replace("ё", "е")
                    if stems and form:
                        forms[lang].append((form, stems))
        return cls({lang: tuple(f) for lang, f in forms.items()})

    def terms(self, text: str) -> list[str]:
        """The English stems the foreign words of ``text`` stand for, in the words' order."""
        out: list[str] = []
        for word in foreign_words(text):
            lang = language_of(word)
            if lang is None:
                continue
            for form, stems in self._by_letter.get(word[0], ()):
                if matches(word, form, lang):
                    out.extend(stems)
        return list(dict.fromkeys(out))


def load_glossary(path: Path) -> Glossary:
    """The glossary in ``path`` (empty when the file does not exist)."""
    if not path.exists():
        return Glossary({lang: () for lang in LANGUAGES})
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML ({exc}); fix or remove it.") from exc
    concepts = data.get("term", [])
    fields = ("en", *LANGUAGES)
    if not isinstance(concepts, list) or not all(
        isinstance(c, dict) and isinstance(c.get("en"), list)
        and all(isinstance(c.get(k, []), list) for k in fields) for c in concepts
    ):
        raise ConfigError(f'{path}: each [[term]] needs en = ["..."] and lists hy, ka, ru')
    wrong = [f"{f} ({lang})" for c in concepts for lang in LANGUAGES for f in c.get(lang, [])
             if language_of(str(f).lower().replace("ё", "е")) != lang]
    if wrong:
        raise ConfigError(f"{path}: list single words in the language's own script, not "
                          f"phrases or other scripts: {', '.join(wrong)}")
    return Glossary.of([{k: [str(w) for w in c.get(k, [])] for k in fields} for c in concepts])
