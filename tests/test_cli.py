"""The command line, called through ``assistant.cli.main`` with settings from the environment."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import REPO, make_settings
from langchain_core.embeddings import Embeddings

from assistant.cli import main
from assistant.config import Settings
from assistant.documents.manifest import upload_id
from assistant.store.index import Index
from assistant.store.ingest import ingest
from assistant.text import contains_quote


def use_env(monkeypatch: pytest.MonkeyPatch, s: Settings) -> None:
    """Point the CLI (which reads its settings from the environment) at ``s``'s folders."""
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(s.corpus_path))
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(s.index_path))
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(s.data_path))
    monkeypatch.setenv("ASSISTANT_COLLECTION", s.collection)


def one_error_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert "Traceback" not in err
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.fixture
def env_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    s = make_settings(tmp_path)
    use_env(monkeypatch, s)
    return s


# -- corpus list -------------------------------------------------------------------------------
def test_corpus_list_shows_every_state(env_settings: Settings, fake_embeddings: Embeddings,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    ingest(env_settings, index=Index(env_settings, embeddings=fake_embeddings))
    env_settings.uploads_path.mkdir(parents=True)
    (env_settings.uploads_path / "draft.md").write_text("A draft not yet ingested.\n")

    assert main(["corpus", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    state = {ln.split()[0]: ln for ln in lines if ln.strip()}
    assert len(state) == 8  # the 7 manifest documents and the upload
    assert "indexed (" in state["d11-armenia"]
    assert " Armenia " in state["d11-armenia"]  # the country by name, as on the page
    assert "indexed (" in state["d11-georgia"]
    assert "present, not indexed" in state[upload_id("draft.md")]
    for doc_id in ("eu-council-rec-2022-micro-credentials", "ge-law-higher-education",
                   "ge-law-quality-of-education", "am-law-higher-postgraduate-education"):
        assert "missing (run: assistant corpus fetch)" in state[doc_id]
    assert "missing (no download address" in state["am-law-education"]


def test_corpus_list_json(env_settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["corpus", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in rows][:2] == ["d11-armenia", "d11-georgia"]
    assert len(rows) == 7
    assert all(r["state"].startswith(("present, not indexed", "missing")) for r in rows)
    assert {r["country"] for r in rows} == {"AM", "GE", "EU"}


# -- refused input -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("question", "needle"),
    [
        ("   ", "empty"),
        ("x" * 5000, "limit is 1000"),
        ("What is a micro\x07credential?", "control characters"),
        ("How many\udced\udca0\udc80?", "lone surrogate"),  # invalid UTF-8 in argv
        ("\u200b" * 5, "empty"),
        ("???", "empty"),
    ],
    ids=["blank", "too-long", "control-char", "surrogate", "zero-width", "punctuation"],
)
def test_ask_refuses_bad_questions(env_settings: Settings, capsys: pytest.CaptureFixture[str],
                                   question: str, needle: str) -> None:
    assert main(["ask", question]) == 1
    captured = capsys.readouterr()
    assert needle in one_error_line(captured.err)
    assert captured.out == ""


def test_search_refuses_blank_query(env_settings: Settings,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", "  "]) == 1
    assert "empty" in one_error_line(capsys.readouterr().err)


def test_ingest_missing_file(env_settings: Settings, tmp_path: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "missing.pdf"
    assert main(["ingest", str(missing)]) != 0
    captured = capsys.readouterr()
    assert f"skipped {missing}: file not found" in captured.err
    assert "Traceback" not in captured.err
    assert not env_settings.uploads_path.exists() or not any(env_settings.uploads_path.iterdir())


def test_ingest_adds_a_file(env_settings: Settings, tmp_path: Path, fake_embeddings: Embeddings,
                            monkeypatch: pytest.MonkeyPatch,
                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("assistant.store.index.load_embeddings", lambda settings: fake_embeddings)
    note = tmp_path / "note.txt"
    note.write_text("Micro-credentials are short, assessed learning experiences.\n")
    assert main(["ingest", str(note)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("1 added, 0 updated")
    assert upload_id("note.txt") in Index(env_settings).doc_states()


def test_ingest_saves_what_the_next_start_reads(env_settings: Settings, tmp_path: Path,
                                                fake_embeddings: Embeddings,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The lexical index and sentence vectors of the new generation are saved by the ingest
    (issue 19: the first start after an ingest at 50x spent 9 s building them)."""
    from assistant.retrieve.lexical import store_key

    monkeypatch.setattr("assistant.store.index.load_embeddings", lambda settings: fake_embeddings)
    note = tmp_path / "note.txt"
    note.write_text("Micro-credentials are short, assessed learning experiences.\n")
    assert main(["ingest", str(note)]) == 0
    saved = env_settings.index_path / "lexical" / store_key(Index(env_settings).generation())
    assert (saved / "ids.json").is_file()
    assert (saved / "sentences.npy").is_file()


def test_bad_collection_setting_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    use_env(monkeypatch, make_settings(tmp_path))
    monkeypatch.setenv("ASSISTANT_COLLECTION", "x")
    assert main(["corpus", "list"]) == 1
    assert "collection" in one_error_line(capsys.readouterr().err)


# -- integration: the real model on the bundled corpus -------------------------------------------
@pytest.fixture
def real_env(real_assistant, monkeypatch: pytest.MonkeyPatch) -> Settings:  # noqa: ANN001
    use_env(monkeypatch, real_assistant.settings)
    return real_assistant.settings


@pytest.mark.integration
def test_search_json_finds_the_armenian_survey(real_env: Settings,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    q = "How many scientific institutions responded to the survey in Armenia?"
    assert main(["search", q, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["query"] == q
    results = data["results"]
    assert results
    for r in results:
        assert {"doc_id", "title", "section", "score"} <= set(r)
        assert isinstance(r["score"], float)
    top = results[:3]
    assert any(r["doc_id"] == "d11-armenia" and "22 Scientific institutions" in r["text"]
               and r["section"] for r in top), [(r["doc_id"], r["section"]) for r in top]


@pytest.mark.integration
def test_search_text_output_and_filter(real_env: Settings,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", "quality assurance of micro-credentials", "--country", "GE"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("[1] d11-georgia")
    assert "d11-armenia" not in out


@pytest.mark.integration
def test_ask_json_answers_with_a_verbatim_citation(real_env: Settings,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    q = "How many scientific institutions took part in the Armenian survey?"
    assert main(["ask", q, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert not data["abstained"]
    assert "22" in data["answer"]
    source = (REPO / "corpus" / "documents" / "d11-armenia.md").read_text(encoding="utf-8")
    cited = [c for c in data["citations"] if c["doc_id"] == "d11-armenia"]
    assert cited, data["citations"]
    assert any(contains_quote(source, c["quote"]) and "22" in c["quote"] for c in cited)
    assert all(c["verified"] for c in data["citations"])


@pytest.mark.integration
def test_ask_json_abstains_when_the_corpus_is_silent(real_env: Settings,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    q = "What is the ECTS requirement for micro-credentials in Azerbaijan?"
    assert main(["ask", q, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["abstained"] is True
    assert data["citations"] == []


def test_cli_shows_a_closest_passage_without_its_markup() -> None:
    """A trial read `#### **4.1 Definition…**`, `<sup>1</sup>` and `**Question N20.**` in the
    terminal's "Closest passage": the CLI prints the words, one line per document line."""
    from assistant.cli import _readable_lines

    text = "#### **4.1 Definition**\n\nfrom May 2<sup>nd</sup>, 2024\n\n**Question N20.** Yes"
    assert _readable_lines(text) == ["4.1 Definition", "from May 2nd, 2024", "Question N20. Yes"]


def test_output_piped_into_a_reader_that_stops_ends_quietly(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    # A trial: `assistant ask … | head` ended with "error: unexpected BrokenPipeError".
    import io
    import sys

    class Closed(io.StringIO):
        def write(self, s: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    use_env(monkeypatch, make_settings(tmp_path))
    monkeypatch.setattr(sys, "stdout", Closed())
    assert main(["corpus", "list"]) == 0
    assert "error" not in capsys.readouterr().err
