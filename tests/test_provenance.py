"""Provenance in the ranking: how uploads are weighed against official documents (on fakes)."""

from __future__ import annotations

from assistant.config import Settings
from assistant.retrieve.fusion import trust_adjust
from assistant.types import Passage

OFFICIAL_TEXT = ("In total, 50 institutions in Armenia received the questionnaire, including "
                 "13 state universities and 22 scientific organisations.")


def _passage(pid: str, text: str, origin: str = "official") -> Passage:
    return Passage(id=pid, doc_id=f"doc-{pid}", title=pid, text=text, origin=origin)


def _order(keys: dict[str, float]) -> list[str]:
    return sorted(keys, key=lambda pid: -keys[pid])


def test_an_upload_that_restates_an_official_passage_ranks_below_it() -> None:
    # The learned ranker is sure of the short upload (0.95) and unsure of the longer official
    # passage that says the same (0.30): 0.95 x 0.6 would still put the copy first.
    by_id = {"off": _passage("off", OFFICIAL_TEXT),
             "copy": _passage("copy", "# Notes\n\n50 institutions in Armenia received the "
                                      "questionnaire.", origin="upload"),
             "other": _passage("other", "Short courses carry no credits.")}
    keys = trust_adjust({"copy": 0.95, "off": 0.30, "other": 0.20, "off2": 0.50},
                        {**by_id, "off2": _passage("off2", "The NQF has eight levels.")},
                        Settings(upload_weight=0.6), k=4)
    assert _order(keys) == ["off", "copy", "off2", "other"]
    # The official passage says what the copy says: it takes the copy's weighed key, so the
    # per-document cap cannot drop it below the copy.
    assert keys["off"] == 0.95 * 0.6


def test_an_upload_that_says_more_than_the_official_passage_keeps_its_weighed_score() -> None:
    by_id = {"off": _passage("off", OFFICIAL_TEXT),
             "up": _passage("up", "50 institutions in Armenia received the questionnaire "
                                  "and 99 answered it.", origin="upload")}
    keys = trust_adjust({"up": 0.95, "off": 0.30}, by_id, Settings(upload_weight=0.6), k=2)
    assert keys["up"] == 0.95 * 0.6
    assert _order(keys) == ["up", "off"]


def test_weighing_never_lifts_an_upload_the_ranker_did_not_score() -> None:
    # Candidates below the ranker's depth carry negative keys (their first-stage order):
    # multiplying -1.5 by 0.6 would give -0.9 and lift the upload above official ones.
    by_id = {"off": _passage("off", "The NQF has eight levels."),
             "up": _passage("up", "Kite councils meet on Tuesdays.", origin="upload")}
    keys = trust_adjust({"up": -1.5, "off": -1.6}, by_id, Settings(upload_weight=0.5), k=2)
    assert _order(keys) == ["off", "up"]
    assert keys["up"] == -3.0
    keys = trust_adjust({"up": -1.5, "off": -1.6}, by_id, Settings(upload_weight=0.0), k=2)
    assert _order(keys) == ["off", "up"]


def test_uploads_off_drops_them_and_official_order_is_untouched() -> None:
    by_id = {"off": _passage("off", OFFICIAL_TEXT),
             "up": _passage("up", "Kite councils meet on Tuesdays.", origin="upload")}
    keys = trust_adjust({"up": 0.9, "off": 0.3}, by_id, Settings(uploads=False), k=2)
    assert keys == {"off": 0.3}


def test_a_reference_line_keeps_a_space_before_the_upload_note() -> None:
    # A trial's export read "p. 3(uploaded document, not an official source)".
    from assistant.types import Citation, reference_line

    p = _passage("up", "Kite councils meet on Tuesdays.", origin="upload")
    line = reference_line(Citation(1, p, "Kite councils meet on Tuesdays."))
    assert " (uploaded document, not an official source): \u201c" in line
    official = reference_line(Citation(2, _passage("off", OFFICIAL_TEXT), OFFICIAL_TEXT))
    assert "uploaded" not in official
