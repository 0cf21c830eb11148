"""Near-duplicate passages (one template filled in for many documents) are ranked once."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import BagOfWordsEmbeddings, make_settings

from assistant.retrieve.duplicates import DuplicateGroups, duplicate_key, stand_ins
from assistant.types import Passage

SURVEY = ("The survey of {country} obtained responses from {n} institutions, including {m} "
          "universities of {capital}, and most respondents support micro-credentials.")
OTHER = "Quality assurance of short courses follows the national framework for higher learning."


def passage(text: str, doc: str, country: str = "XX") -> Passage:
    return Passage(id=f"{doc}-{len(text)}", doc_id=doc, title=doc, text=text, country=country)


def test_the_key_masks_names_and_numbers_and_skips_what_has_no_words() -> None:
    a = duplicate_key(SURVEY.format(country="Armenia", n=50, m=13, capital="Yerevan"))
    b = duplicate_key(SURVEY.format(country="Valmorden", n=51, m=14, capital="Kastur"))
    assert a is not None
    assert a == b
    assert duplicate_key(OTHER) != a
    assert duplicate_key("## Appendix 1") is None  # a heading: only a name and a number


def test_a_named_country_keeps_its_own_member_and_the_rest_take_the_best() -> None:
    ps = [passage(SURVEY.format(country=c, n=n, m=1, capital="X"), d, code)
          for c, n, d, code in (("Armenia", 50, "am", "AM"), ("Georgia", 60, "ge", "GE"),
                                ("Valmorden", 51, "v1", "XX"), ("Kastur", 52, "v2", "XX"))]
    ps.append(passage(OTHER, "am", "AM"))
    groups = DuplicateGroups.of(ps)
    assert groups.members == ((0, 1, 2, 3),)
    assert list(groups.ids(len(ps))) == [0, 0, 0, 0, 5]  # the lone passage has its own id
    canon, gids = groups.canonical(len(ps))
    assert (list(canon), list(gids)) == ([0, 4], [0, 5])  # each group scored once
    assert groups.members_of(5) == (4,)
    bm25 = np.asarray([1.0, 1.0, 1.0, 1.0])  # no name or number of the question in any
    cosine = np.asarray([0.1, 0.2, 0.9, 0.5])
    countries = np.asarray(["AM", "GE", "XX", "XX"])

    def stand(named: set[str], accepted: list[int] | None = None) -> list[int]:
        ok = np.asarray(accepted if accepted is not None else [0, 1, 2, 3], dtype=int)
        return stand_ins(ok, countries[ok], frozenset(named), bm25[ok], cosine[ok])

    assert stand({"AM"}) == [0]  # Armenia asked about: its member stands for all
    assert stand({"AM", "GE"}) == [1, 0]  # two countries: each one's member
    assert stand(set()) == [2]  # no country: the closest member
    assert stand(set(), [0, 1, 3]) == [3]  # ... that the filters accept
    assert stand(set(), []) == []
    bm25[3] = 2.0  # the question uses this member's names or numbers
    assert stand(set()) == [3]
    cosine[:] = 0.5
    bm25[:] = 1.0
    assert stand(set(), [2, 3]) == [2]  # an exact tie: the member listed first


def test_template_copies_in_other_documents_do_not_crowd_the_top_k(tmp_path: Path) -> None:
    from assistant.retrieve.hybrid import HybridRetriever
    from assistant.store.index import Index
    from assistant.store.ingest import ingest

    s = make_settings(tmp_path, copy_corpus=False, k=3, fetch_k=3)
    docs = s.corpus_path / "documents"
    docs.mkdir(parents=True)
    manifest = []
    names = ["Armenia", "Valmorden", "Kastur", "Brasol", "Tremi", "Zanur", "Pelka"]
    for i, name in enumerate(names):
        doc = f"r{i}"
        text = (f"# Report {name}\n\n## Survey\n\n"
                + SURVEY.format(country=name, n=50 + i, m=13 + i, capital=f"Cap{name}")
                + "\n\n## Quality\n\n" + OTHER + "\n")
        (docs / f"{doc}.md").write_text(text, encoding="utf-8")
        manifest.append(f'[[document]]\nid = "{doc}"\ntitle = "Report {name}"\n'
                        f'country = "{"AM" if i == 0 else "XX"}"\ndoc_type = "report"\n'
                        f'path = "documents/{doc}.md"\n')
    s.manifest_path.write_text("\n".join(manifest), encoding="utf-8")
    index = Index(s, embeddings=BagOfWordsEmbeddings())
    assert len(ingest(s, index=index).added) == len(names)

    got = HybridRetriever(index, s).retrieve(
        "How many institutions responded to the survey in Armenia?")
    keys = [duplicate_key(sp.passage.text) for sp in got]
    assert len(keys) == len(set(keys)), [sp.passage.doc_id for sp in got]
    survey = next(sp for sp in got if "survey" in sp.passage.text)
    assert survey.passage.doc_id == "r0"  # the country asked about stands for the copies
    # A filter is applied before the choice: the copy in the document asked for stands in.
    got = HybridRetriever(index, s).retrieve(
        "How many institutions responded to the survey in Armenia?", filters={"doc_id": "r3"})
    assert {sp.passage.doc_id for sp in got} == {"r3"}
    assert any("survey" in sp.passage.text for sp in got)


def test_a_sentence_that_comes_twice_is_embedded_once() -> None:
    from assistant.store.ingest import embed_passages

    seen: list[str] = []

    class Counting(BagOfWordsEmbeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            seen.extend(texts)
            return super().embed_documents(texts)

    shared = "The overlap between two chunks repeats this sentence."
    a = passage(f"First chunk opens here. {shared}", "a", "AM")
    b = passage(f"{shared} Second chunk goes on.", "a", "AM")
    vectors, rows = embed_passages([a, b], Counting())
    assert len(seen) == 3  # four sentences, one of them twice: three texts embedded
    assert len(set(seen)) == 3
    by_id = {a.id: a, b.id: b}
    texts = [by_id[r.passage_id].text[r.start:r.end] for r in rows]
    assert len(rows) == 4  # every sentence keeps its own row
    twice = [r.vector for r, t in zip(rows, texts, strict=True) if t.strip() == shared]
    assert len(twice) == 2
    assert twice[0] == twice[1]
    assert len(vectors) == 2


def test_documents_of_no_known_country_never_make_a_country_name_rare(
        tmp_path: Path, bow_embeddings: BagOfWordsEmbeddings) -> None:
    """Fifty documents about other places made "armenia" rare (issue 19's 50x corpus: its
    weight 0.50 -> 4.41 outweighed every other word of a question naming Armenia). A country's
    name now weighs what it does among the passages of the countries the assistant knows."""
    from assistant.retrieve.hybrid import HybridRetriever
    from assistant.store.index import Index
    from assistant.store.ingest import ingest

    settings = make_settings(tmp_path)
    index = Index(settings, embeddings=bow_embeddings)
    assert ingest(settings, index=index).ok
    retriever = HybridRetriever(index, settings)
    question = "How many respondents took part in the survey in Armenia?"
    before = retriever.terms(question).weights
    assert before["armenia"] == retriever.lexicon().bm25.idf["armenia"]  # unchanged here
    others = tmp_path / "others"
    others.mkdir()
    for i in range(60):
        (others / f"place{i}.md").write_text(
            f"# Report {i}\n\nThe survey of Place{i} had {i} respondents from universities.\n",
            encoding="utf-8")
    assert ingest(settings, paths=sorted(others.iterdir()),
                  index=Index(settings, embeddings=bow_embeddings)).ok
    retriever.catch_up()
    after = retriever.terms(question).weights
    assert retriever.lexicon().bm25.idf["armenia"] > before["armenia"] + 0.1  # rarer overall
    assert after["armenia"] == pytest.approx(before["armenia"])  # ... but weighs the same
    assert after["survey"] != before["survey"]  # other words keep their corpus-wide weight
