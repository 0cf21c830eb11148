"""Text utilities shared by retrieval, answers and evaluation: normalising, tokens, sentences."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from functools import lru_cache

_QUOTES = str.maketrans({
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u2032": "'", "\u00b4": "'",
    "\u2013": "-", "\u2014": "-", "\u00a0": " ",
})
# Only HTML tags are markup: text that merely looks like a tag ("<xsl:param>", "<name>") is
# content of the document and stays in quotes.
_HTML_TAGS = ("a|abbr|address|area|article|aside|audio|b|base|bdi|bdo|big|blockquote|body|br|"
              "button|canvas|caption|center|cite|code|col|colgroup|dd|del|details|dfn|div|dl|dt|"
              "em|embed|figcaption|figure|font|footer|form|h[1-6]|head|header|hr|html|i|iframe|"
              "img|input|ins|kbd|label|li|link|main|map|mark|meta|nav|noscript|object|ol|option|"
              "p|picture|pre|q|s|samp|script|section|select|small|source|span|strike|strong|"
              "style|sub|summary|sup|svg|table|tbody|td|template|textarea|tfoot|th|thead|time|"
              "tr|tt|u|ul|var|video|wbr")
_TAG = re.compile(rf"</?(?:{_HTML_TAGS})(?=[\s/>])[^>\n]{{0,200}}>", re.I)
# Emphasis markers, for comparing quotes: "**" anywhere; "__" and "*" only at a word's edge (so
# that window.__xss or snake__case keep their underscores); backslash escapes. Each marker is
# decided by its neighbours alone, so a quote and the passage it was cut from lose the same
# characters (verification compares the two).
_EMPH = re.compile(
    r"\*\*"
    r"|(?:^|(?<=[\s(\[\"'\u201c\u2018]))(?:__|\*)(?=\S)"
    r"|(?<=\S)(?:__|\*)(?=$|[\s)\]\"'\u201d\u2019.,;:!?])"
    r"|\\(?=[*_#\[\]()\\-])",
    re.M,
)
# For display only: "*" and "__" as Markdown reads them, a pair on one line that opens at a
# word's start and closes at a word's end ("*it*"), so that a lone "*" ("a * b",
# "/* comment */", "int *p") is shown; "**" anywhere (a chunk cut can leave one unpaired).
_STRONG = re.compile(r"\*\*")
_PAIRED = re.compile(r"(?<![\w*\\])(\*|__)(?=[^\s*_])(?:(?!\1).){0,400}?(?<=[^\s*_\\])\1(?![\w*])",
                     re.M)
_ESCAPE = re.compile(r"\\(?=[*_#\[\]()\\-])")


_HEADING_MARKS = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+", re.M)


def without_heading_marks(text: str) -> str:
    """Text without the "#" marks that open Markdown heading lines (their words stay): the
    terminal, a quote's display form and a checked draft show a heading's words only."""
    return _HEADING_MARKS.sub("", text)


# A Markdown autolink as stored (<https://x>), its brackets maybe escaped (\<https://x\>).
_AUTOLINK_MARKS = re.compile(r"\\?<((?:https?|ftp)://[^\s<>\\]+|mailto:[^\s<>\\]+)\\?>")


def without_autolink_marks(text: str) -> str:
    """Text with each Markdown autolink's angle brackets dropped (the URL stays): a quote's
    display form shows "Source: https://x/1)." rather than "Source: <https://x/1>)."."""
    return _AUTOLINK_MARKS.sub(r"\1", text)


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """ "1 chunk", "3 chunks", "0 passages": a count with its noun in the right number."""
    return f"{n} {noun if n == 1 else (plural or noun + 's')}"


def strip_markup(text: str) -> str:
    """Drop HTML tags (keeping their text), Markdown emphasis markers and escapes."""
    text = _TAG.sub("", text)
    return _EMPH.sub("", text)


def _strip_for_display(text: str) -> str:
    """:func:`strip_markup` as a reader sees the text: only paired emphasis is markup."""
    if not any(c in text for c in "<*_\\"):
        return text
    spans = [m.span() for rx in (_TAG, _STRONG, _ESCAPE) for m in rx.finditer(text)]
    for m in _PAIRED.finditer(text):
        spans += [m.span(1), (m.end() - len(m.group(1)), m.end())]
    out: list[str] = []
    pos = 0
    for s, e in sorted(spans):
        if e > pos:
            out.append(text[pos:max(s, pos)])
            pos = e
    out.append(text[pos:])
    return "".join(out)


@lru_cache(maxsize=8192)  # pure; every answer verifies its quotes against whole passages
def normalize(text: str) -> str:
    """The form in which quotes are compared: markup dropped, quotes plain, whitespace folded."""
    text = unicodedata.normalize("NFKC", strip_markup(text)).translate(_QUOTES)
    return re.sub(r"\s+", " ", text).strip()


def contains_quote(haystack: str, quote: str) -> bool:
    """Is ``quote`` found verbatim in ``haystack`` (after :func:`normalize`, case kept)?"""
    q = normalize(quote)
    return bool(q) and q in normalize(haystack)


def normalized_with_offsets(text: str) -> tuple[str, list[int]]:
    """``text`` folded as :func:`normalize` folds it, with each character's offset in ``text``."""
    skip = bytearray(len(text))
    for rx in (_TAG, _EMPH):
        for m in rx.finditer(text):
            skip[m.start() : m.end()] = b"\x01" * (m.end() - m.start())
    chars: list[str] = []
    offsets: list[int] = []
    space = True  # drop leading whitespace
    for i, ch in enumerate(text):
        if skip[i]:
            continue
        for c in unicodedata.normalize("NFKC", ch).translate(_QUOTES):
            if c.isspace():
                if space:
                    continue
                c, space = " ", True
            else:
                space = False
            chars.append(c)
            offsets.append(i)
    if chars and chars[-1] == " ":
        chars.pop()
        offsets.pop()
    return "".join(chars), offsets


@lru_cache(maxsize=4096)  # pure; the copy box and every download place the same quotes again
def quote_span(text: str, quote: str) -> tuple[int, int] | None:
    """Where ``quote`` lies in ``text`` (compared after normalising both), or None."""
    q = normalize(quote)
    if not q:
        return None
    norm, offsets = normalized_with_offsets(text)
    pos = norm.find(q)
    if pos < 0:
        return None
    return offsets[pos], offsets[pos + len(q) - 1] + 1


@lru_cache(maxsize=32768)  # pure; every question shows the same passages' sentences again
def display(text: str) -> str:
    """A passage sentence as shown to the reader: markup dropped, whitespace folded.

    Known tags and emphasis go by :func:`strip_markup` (its offsets serve quote matching); what
    still parses as HTML after that (``<scr<script>ipt>``, ``<script\\n>``, unknown tags with
    handlers) goes through the sanitiser, so no tag leaves the program in displayed text.
    """
    out = re.sub(r"\s+", " ", _strip_for_display(text)).strip()
    if "<" in out and _is_html(_AUTOLINK.sub(" ", out)):
        out = re.sub(r"\s+", " ", plain(out)).strip()
    return out


# A Markdown autolink (<https://example.org/x>) is text of the document, not a tag: it is kept
# as written, so that a quote holding one stays verbatim. Only the URL syntax is matched here.
_AUTOLINK = re.compile(r"(<[A-Za-z][A-Za-z0-9+.-]{1,31}:[^\s<>]*>)")


def _is_html(text: str) -> bool:
    import nh3

    return bool(nh3.is_html(text))


def plain(text: str) -> str:
    """Text with every HTML tag removed by a real parser (nh3, the Rust ``ammonia``), as plain
    characters: tags go (script and style with their content), their text stays, entities are
    read. Repeated until nothing changes, so an entity cannot turn back into a tag."""
    import html

    import nh3

    parts = _AUTOLINK.split(text)  # autolinks at the odd places, kept as written
    for i in range(0, len(parts), 2):
        part = parts[i]
        for _ in range(8):
            if "<" not in part and "&" not in part:
                break
            cleaned = html.unescape(nh3.clean(part, tags=set()))
            if cleaned == part:
                break
            part = cleaned
        parts[i] = part.replace("<", "\u2039") if _is_html(part) else part
    return "".join(parts)


_MD_SIGNIFICANT = re.compile(r"([\\`*_{}\[\]<>#|~&])")


def md_escape(text: str) -> str:
    """Plain text made inert in Markdown: tags removed (:func:`plain`), then every character
    Markdown or inline HTML reads as markup escaped with a backslash (CommonMark), so that a
    title or question shows as written and never renders as a link, emphasis or HTML."""
    return _MD_SIGNIFICANT.sub(r"\\\1", re.sub(r"\s+", " ", plain(text)).strip())


# -- tokens ------------------------------------------------------------------------------------
STOPWORDS = frozenset(
    """a about above after again against all am an and any are aren as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves
    also according many much tell give list name please say said does did says report reports
    document documents per whether let us one ones mentioned mention kind type types took take
    taken takes part did done make made get got go went describe explain whose back cite cited
    earlier later exactly typically usually""".split()  # noqa: SIM905
)
_DEMONYMS = {"armenian": "armenia", "armenians": "armenia", "georgian": "georgia",
             "georgians": "georgia", "european": "europe", "eu": "europe"}
_SUFFIXES = ("ations", "ation", "ments", "ment", "ings", "ing", "ities", "ity", "ents", "ent",
             "ers", "er", "ies", "ied", "ed", "es", "s", "ly")
_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")


_IZE = re.compile(r"iz(e|es|ed|ing|ation|ations|er|ers)$")


def stem(word: str) -> str:
    """A light suffix-stripping stemmer: enough to match respondents/responded, credits/credit.

    American -ize is read as British -ise, and a final "e" is dropped after stripping, so that
    challenge/challenges, recognise/recognised/recognize and course/courses meet.
    """
    word = _DEMONYMS.get(word, word)
    if word.isdigit() or len(word) <= 4:
        return word
    word = _IZE.sub(r"is\1", word)
    for suf in _SUFFIXES:
        if word.endswith(suf) and len(word) - len(suf) >= 4:
            base = word[: -len(suf)]
            if suf in {"ies", "ied"}:
                return base + "y"
            return base[:-1] if base.endswith("e") and len(base) > 4 else base
    return word[:-1] if word.endswith("e") else word


def words(text: str) -> list[str]:
    """Lower-case word tokens, hyphenated words split into their parts as well."""
    out: list[str] = []
    for w in _WORD.findall(strip_markup(text).lower().translate(_QUOTES)):
        w = w[:-2] if w.endswith("'s") else w
        out.append(w.replace("'", ""))
        if "-" in w:
            out.extend(p for p in w.split("-") if p)
    return out


def tokens(text: str) -> list[str]:
    """Stemmed content tokens (stopwords dropped): the vocabulary of lexical matching."""
    return list(_tokens(text))


@lru_cache(maxsize=32768)
def _tokens(text: str) -> tuple[str, ...]:
    # Cached: every question tokenises the same passages and sentences again (a tenth of the
    # page's GIL-held time under 20 users went here).
    return tuple(stem(w) for w in words(text)
                 if w not in STOPWORDS and (len(w) > 1 or w.isdigit()))


# -- sentences ---------------------------------------------------------------------------------
# A sentence ends at . ! or ? and the closing quotes or brackets after it (they stay with it),
# before white space and a capital or a figure (an opening quote, guillemet or bracket between).
_CLOSERS = "\"'”’»)\\]"
_SENT_BOUNDARY = re.compile(
    rf"(?<=[.!?])([{_CLOSERS}]*)\s+(?=[\"“‘«(\[]?[A-Z0-9])"
)
_ABBREV = re.compile(
    r"(?:\b(?:e\.g|i\.e|etc|No|Nr|Dr|Mr|Ms|Mrs|St|p|pp|vs|Art|cf|N)\.|\b[A-Z]\.|\s[a-z]\.)$"
)


_LINE_START = re.compile(r"^\s*(?:[-*•✓☐▪◦]|\d{1,3}[.)]|[a-zA-Z][.)]|\(\w{1,3}\)|#{1,6}\s|\*\*)")


_ENUM = re.compile(r"(?:[-*•✓]\s*)?(?:\d{1,3}|[a-zA-Z]|[IVX]{1,4})\.")

# A word hyphenated over a line or page break: "micro-" ends a line, "credentials" starts the
# next line that has text, blank lines between (a PDF's page break). The halves are one word.
_WORD_HALF = re.compile(r"[A-Za-z]-$")
_WORD_REST = re.compile(r"[ \t]*[a-z]")


def ends_a_word_half(text: str) -> bool:
    """Does ``text`` end with the first half of a hyphenated word ("… other micro-")?"""
    return bool(_WORD_HALF.search(text.rstrip()))


# A sentence that runs on over a page break: the text before the blank line stops on a word
# or a comma ("GRENA took part in the" | "survey."), the text after goes on in lower case.
# An apostrophe or closing quote after the word runs on as well ("the providers'" |
# "determinations"; "the “micro-credential”" | "concept"); one after . ! or ? does not.
_RUNS_ON = re.compile(rf"[A-Za-z0-9,][{_CLOSERS}]*$")


def breaks_a_word(before: str, after: str) -> bool:
    """Is the break between ``before`` and ``after`` inside a word hyphenated over a line or
    page ("micro-" | "credentials"), or inside a sentence that runs on over a page ("took part
    in the" | "survey")? Not when ``after`` starts a list item or heading, nor after a heading."""
    last_line = before.rstrip().rsplit("\n", 1)[-1]
    return ((ends_a_word_half(before) or bool(_RUNS_ON.search(last_line)))
            and bool(_WORD_REST.match(after)) and not _LINE_START.match(after)
            and not _LINE_START.match(last_line))


def sentence_spans(text: str) -> Iterator[tuple[int, int]]:
    """Sentence-like units of a passage, as (start, end) offsets.

    A new unit starts at each list item, heading or bold line; other line breaks (as in text
    extracted from a PDF) do not end a sentence, nor does a blank line inside a word hyphenated
    over a page ("micro-" | "credentials"). Within a unit, sentences end at . ! or ?.
    """
    blocks: list[tuple[int, int]] = []
    pos = 0
    for line in text.splitlines(keepends=True):
        start, end = pos, pos + len(line)
        pos = end
        if not line.strip():
            continue
        prev = text[blocks[-1][0] : blocks[-1][1]].rstrip() if blocks else ""
        joins = blocks and (
            blocks[-1][1] == start
            and not _LINE_START.match(line)
            and not prev.endswith((".", ":", "?", "!", "**"))
            or breaks_a_word(prev, line)  # across blank lines too: one word, one unit
        )
        if joins:
            blocks[-1] = (blocks[-1][0], end)
        else:
            blocks.append((start, end))
    for start, end in blocks:
        seg_start = start
        for m in _SENT_BOUNDARY.finditer(text, start, end):
            if _ABBREV.search(text[max(seg_start, m.start() - 6) : m.start()]) or _ENUM.fullmatch(
                text[seg_start : m.start()].strip()
            ):
                continue
            yield from _trimmed(text, seg_start, m.end(1))  # its closing quotes with it
            seg_start = m.end()
        yield from _trimmed(text, seg_start, end)


def _trimmed(text: str, s: int, e: int) -> Iterator[tuple[int, int]]:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    if e > s:
        yield s, e


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|~])")


def escape_markdown(text: str) -> str:
    """Text for a Markdown file, shown literally: no HTML, link, emphasis or table markup.

    The characters that open inline markup or a table cell get a backslash, ``<`` becomes an
    entity, ``&`` only where it would start one ("&amp;" stays literal; a plain "&" is left as
    is, so the file reads as the document does), and line breaks become spaces (a table cell is
    one line).
    """
    one_line = _ENTITY_START.sub("&amp;", " ".join(text.split()))
    return _MD_SPECIAL.sub(r"\\\1", one_line).replace("\\<", "&lt;")


_ENTITY_START = re.compile(r"&(?=#?\w+;)")


# -- countries -------------------------------------------------------------------------------
# Country names in the four languages, as stems that cover their inflected forms.
_COUNTRY_FORMS: dict[str, re.Pattern[str]] = {
    "AM": re.compile(r"\barmenia\w*|\bармян\w*|\bармени\w*|\bереван\w*|\byerevan\w*"
                     r"|հայաստան\w*|հայկական\w*|\bՀՀ\b|სომხეთ\w*|სომხურ\w*", re.I),
    "GE": re.compile(r"\bgeorgia\w*|\bгрузи\w*|\bгрузин\w*|\bтбилис\w*|\btbilisi\w*"
                     r"|վրաստան\w*|վրացական\w*|საქართველო\w*|საქართველოს|ქართულ\w*"
                     r"|თბილის\w*", re.I),
    "EU": re.compile(r"\beurop\w*|\bEU\b|\bевроп\w*|\bЕС\b|եվրոպ\w*|ევროპ\w*", re.I),
}
COUNTRIES = frozenset(_COUNTRY_FORMS)  # the country codes the assistant knows by name


def countries_in(text: str) -> frozenset[str]:
    """AM / GE / EU named in the text, in any of the four languages."""
    return frozenset(c for c, rx in _COUNTRY_FORMS.items() if rx.search(text))


# Words that ask for a comparison ("both", "differ", "the two countries"), in the four languages.
COMPARATIVE = re.compile(
    r"\b(both|compare|compared|comparison|differ|differs|difference|differences|each country|"
    r"two countries|versus|vs\.?|similar|similarities|in common|whereas)\b"
    r"|сравн|отлича|разниц|обе страны|в обеих|համեմատ|տարբեր|երկու երկր|შეადარ|განსხვავ|ორივე",
    re.I,
)


def compared_countries(text: str) -> frozenset[str]:
    """The countries named in the text; a comparison that names neither AM nor GE asks about
    both ("Did the two countries settle on the same definition?")."""
    named = countries_in(text)
    if not named & {"AM", "GE"} and COMPARATIVE.search(text):
        return named | {"AM", "GE"}
    return named
