"""Dates in a sentence: a day with its month is a date, not a count, and is compared as one."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from assistant.check.report import Comparison

MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August",
                "September", "October", "November", "December"]
_DATE = re.compile(r"\b(\d{1,2})\.(\d{1,2})\.((?:19|20)\d\d)\b")
# "May 2nd", "18 June 2024", "June, 2024": a capitalised month with a figure beside it (the
# verb "may" and a month named alone are not dates)
MONTH = re.compile(r"(?<=\d )(?:of )?\b(%s)\b|\b(%s)\b(?=,? (?:\d|of \d))"
                    % (("|".join(MONTH_NAMES),) * 2))


# A day written beside its month ("1 March", "May 2nd", "2nd of May"): a date, not a count.
_DAYMONTH = re.compile(r"\b(\d{1,2})(?:\s?(?:st|nd|rd|th))?\s+(?:of\s+)?(%s)\b"
                        r"|\b(%s)\s+(\d{1,2})(?:\s?(?:st|nd|rd|th))?\b(?![\d.,]\d)"
                        % (("|".join(MONTH_NAMES),) * 2))


_RANGE_START = re.compile(
    r"(?<![\d.,])\b(\d{1,2})(?:\s?(?:st|nd|rd|th))?\s*(?:to|until|-|\u2013)\s*$")


def days_apart(body: str) -> tuple[tuple[tuple[str, str], ...], str]:
    """The dates (day, month) of a text, and the text with their days blanked out: a day is
    compared with the days of dates, never with a figure that counts something."""
    dates: list[tuple[str, str]] = []
    out = body
    for m in _DAYMONTH.finditer(body):
        g = 1 if m.group(1) else 4
        if not 1 <= int(m.group(g)) <= 31:
            continue
        month = m.group(2) or m.group(3)
        spans = [(m.start(g), m.end(g))]
        if g == 1 and (first := _RANGE_START.search(body, 0, m.start(g))):
            # "2 to 18 May": the first day has the month of the second
            spans.insert(0, (first.start(1), first.end(1)))
        for s, e in spans:
            dates.append((str(int(body[s:e])), month))
            out = out[:s] + " " * (e - s) + out[e:]
    return tuple(dates), out


def dates_in_words(text: str) -> str:
    """16.06.2022 becomes 16 June 2022, so that both ways of writing a date compare."""
    def sub(m: re.Match[str]) -> str:
        month = int(m.group(2))
        if not 1 <= month <= 12:
            return m.group(0)
        return f"{int(m.group(1))} {MONTH_NAMES[month - 1]} {m.group(3)}"

    return _DATE.sub(sub, text)


def month_verdict(c_months: Sequence[str], c_dates: Sequence[tuple[str, str]],
                  u_months: Sequence[str], u_dates: Sequence[tuple[str, str]], same_date: bool,
                  where: str, in_passage: Callable[[str], bool]) -> tuple[bool, list[Comparison]]:
    """A month written without its day ("in May 2022"): (agrees, mismatches). "Adopted in June
    2022" is contradicted by "adopted in May 2022" (``same_date``: the same figures and year);
    a month the sentence does not give is not support. Days with their month are dates
    (``date_verdict``)."""
    own = [m for m in c_months if m not in {m for _, m in c_dates}]
    alone = [m for m in u_months if m not in {m for _, m in u_dates}]
    mism: list[Comparison] = []
    missing = False
    for mo in own:
        if mo in u_months:
            continue
        others = [v for v in alone if v not in own]
        if others and same_date:
            mism.append(Comparison("date", mo, others[0], where))
        elif others or not in_passage(mo):
            missing = True
    return not mism and not missing, mism


def date_verdict(c_dates: Sequence[tuple[str, str]], u_dates: Sequence[tuple[str, str]],
                 where: str, in_passage: Callable[[tuple[str, str]], bool]
                 ) -> tuple[bool, list[Comparison]]:
    """The claim's dates (a day with its month) against the sentence's: (agrees, mismatches).
    Another date in a sentence that dates the thing the same way (as many dates: a day, a
    range) is a contradiction, shown date for date ("1 March" against "2 May"; only the month
    when the day is the same: "June" against "May"); a log of many dates is not one. A
    sentence with no such date is not support unless its passage states the claim's date."""
    lost = [d for d in c_dates if d not in u_dates]
    others = [d for d in u_dates if d not in c_dates] if len(u_dates) == len(c_dates) else []
    mism: list[Comparison] = []
    missing = False
    for i, (day, month) in enumerate(lost):
        if others:
            u_day, u_month = others[min(i, len(others) - 1)]
            if day == u_day:
                mism.append(Comparison("date", month, u_month, where))
            else:
                mism.append(Comparison("date", f"{day} {month}", f"{u_day} {u_month}", where))
        elif not in_passage((day, month)):
            missing = True
    return not mism and not missing, mism
