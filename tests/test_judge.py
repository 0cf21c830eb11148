"""verify mode's one calibrated score: the judge's probability of "yes" combined with the answer
model's (assistant/answer/judging.py). Unit tests on a fake judge whose probabilities are given;
one integration test on the real Qwen2.5-Coder-1.5B file when it is on this machine."""

from __future__ import annotations

import importlib.util
import json
import math
import os
from pathlib import Path

import pytest
from conftest import two_reports

from assistant.answer import Assistant
from assistant.answer.grounded import Judge, JudgeCache
from assistant.answer.judging import JudgeModel, load_judge_model
from assistant.errors import ConfigError
from assistant.prompts import EVIDENCE_TEXT

ALPHA = """# Alpha country report

## Survey

The Alpha survey was answered by 41 universities and 9 colleges in total.

The questionnaire was open from March 3rd to April 9th, 2024.
"""

BETA = """# Beta country report

## Survey

The Beta survey was answered by 17 universities.
"""

QUESTION = "How many universities answered the Alpha survey?"


class FakeJudge(Judge):
    """A judge whose probability of "yes" is given: ``sure`` for a quote holding ``holds``,
    ``other`` for any other quote; every prompt it is really asked is counted."""

    def __init__(self, prompt, holds: str = "", sure: float = 0.99, other: float = 0.01,  # noqa: ANN001
                 cache: JudgeCache | None = None) -> None:
        super().__init__(None, prompt, cache=cache)
        self.holds, self.sure, self.other = holds, sure, other
        self.asked: list[str] = []

    def _p_yes(self, msg: str) -> float:
        self.asked.append(msg)
        quote = msg.split("Quoted text:", 1)[1]
        return self.sure if self.holds and self.holds in quote else self.other


def combination(path: Path, **kw: float) -> Path:
    """A combination file: by default the judge's logit alone decides, threshold 0.5."""
    d = {"coef_answer_model": 0.0, "coef_judge": 1.0, "intercept": 0.0, "threshold": 0.5,
         "top_k": 2, "floor": 0.0, **kw}
    path.write_text(json.dumps(d), encoding="utf-8")
    return path


@pytest.fixture
def reports(tmp_path: Path, bow_embeddings):  # noqa: ANN001, ANN201
    # the answer model's own threshold is out of reach: only the judge can make an answer
    return two_reports(tmp_path, ALPHA, BETA, bow_embeddings, answer_threshold=0.999,
                       judge_model_path=combination(tmp_path / "judge.json"))


def verify_assistant(reports, judge: Judge) -> Assistant:  # noqa: ANN001
    s, index = reports
    return Assistant(s, index=index, judge=judge)


def test_the_judge_answers_what_the_answer_model_alone_declines(reports) -> None:  # noqa: ANN001
    plain = Assistant(reports[0], index=reports[1]).ask(QUESTION)
    assert plain.outcome == "evidence"  # below the answer model's threshold
    a = Assistant(reports[0], index=reports[1])
    a.judge = FakeJudge(a.verify_prompt, holds="41 universities")
    ans = a.ask(QUESTION, mode="verify")
    assert ans.outcome == "answer"
    assert not ans.abstained
    assert "41 universities" in ans.citations[0].quote
    assert ans.probability == pytest.approx(0.99, abs=1e-6)  # the combined probability
    assert ans.audit["combined_probability"] == pytest.approx(0.99, abs=1e-4)
    assert ans.audit["prompt_version"] == "verify-v2"
    assert all("p_yes" in c and "combined" in c for c in ans.audit["judge"])


def test_the_span_the_judge_prefers_wins_over_the_answer_models_first(reports) -> None:  # noqa: ANN001
    a = Assistant(reports[0], index=reports[1])
    first, second = a.read(a.read_question(QUESTION), a.retriever.retrieve(QUESTION))[:2]
    assert first.span.quote != second.span.quote
    a.judge = FakeJudge(a.verify_prompt, holds=second.span.quote)
    ans = a.ask(QUESTION, mode="verify")
    assert ans.outcome == "answer"
    assert ans.citations[0].quote == second.span.quote
    assert len(ans.audit["judge"]) == 2  # top_k spans were judged


def test_verify_mode_shows_evidence_when_the_judge_says_no(reports) -> None:  # noqa: ANN001
    a = Assistant(reports[0], index=reports[1])
    a.judge = FakeJudge(a.verify_prompt, holds="", other=0.02)
    ans = a.ask(QUESTION, mode="verify")
    assert ans.abstained
    assert ans.outcome == "evidence"
    assert ans.text.startswith(EVIDENCE_TEXT)
    assert ans.audit["abstain_code"] == "judge_rejected"
    assert len(ans.audit["judge"]) == 2


def test_spans_below_the_floor_are_never_judged(tmp_path: Path, reports) -> None:  # noqa: ANN001
    s = reports[0].model_copy(update={"judge_model_path": combination(
        tmp_path / "floor.json", floor=0.9999)})
    a = Assistant(s, index=reports[1])
    judge = FakeJudge(a.verify_prompt, holds="41 universities")
    a.judge = judge
    ans = a.ask(QUESTION, mode="verify")
    assert judge.asked == []
    assert ans.outcome == "evidence"
    assert ans.audit["abstain_code"] == "below_threshold"


def test_the_combinations_threshold_decides_not_the_judges_argmax(tmp_path: Path,
                                                                   reports) -> None:  # noqa: ANN001
    # the judge says "yes" (0.99) but the combination's threshold asks for more
    s = reports[0].model_copy(update={"judge_model_path": combination(
        tmp_path / "strict.json", threshold=0.995)})
    a = Assistant(s, index=reports[1])
    a.judge = FakeJudge(a.verify_prompt, holds="41 universities")
    ans = a.ask(QUESTION, mode="verify")
    assert ans.outcome == "evidence"
    assert any(c["yes"] for c in ans.audit["judge"])
    assert ans.audit["threshold"] == 0.995


def test_combination_is_a_logistic_of_the_two_logits(tmp_path: Path) -> None:
    m = JudgeModel(coef_answer_model=0.5, coef_judge=2.0, intercept=-1.0, threshold=0.5,
                   top_k=2, floor=0.05)
    z = 0.5 * math.log(0.2 / 0.8) + 2.0 * math.log(0.9 / 0.1) - 1.0
    assert m.probability(0.2, 0.9) == pytest.approx(1 / (1 + math.exp(-z)))
    assert 0.0 < m.probability(0.0, 1.0) < 1.0  # the ends are clamped, no infinite logit
    assert load_judge_model(combination(tmp_path / "j.json", top_k=3)).top_k == 3
    with pytest.raises(ConfigError, match="train_judge.py"):
        load_judge_model(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text('{"coef_judge": 1}', encoding="utf-8")
    with pytest.raises(ConfigError, match="not readable"):
        load_judge_model(tmp_path / "bad.json")


def test_the_shipped_combination_loads_and_weighs_the_judge() -> None:
    m = load_judge_model()
    assert m.top_k >= 1
    assert 0.0 < m.threshold < 1.0
    assert m.coef_judge > 0  # a more confident judge never lowers the score


def test_a_prompt_is_sent_to_the_model_once(tmp_path: Path, reports) -> None:  # noqa: ANN001
    a = Assistant(reports[0], index=reports[1])
    cache = tmp_path / "judge-cache.jsonl"
    first = FakeJudge(a.verify_prompt, holds="41", sure=0.7, cache=JudgeCache(cache))
    assert first.probability(QUESTION, "41 universities") == 0.7
    assert first.probability(QUESTION, "41 universities") == 0.7
    assert len(first.asked) == 1
    again = FakeJudge(a.verify_prompt, holds="41", sure=0.1, cache=JudgeCache(cache))
    assert again.probability(QUESTION, "41 universities") == 0.7  # read back from the file
    assert again.asked == []


def test_a_chat_model_without_logits_counts_its_first_word(reports) -> None:  # noqa: ANN001
    from langchain_core.language_models import FakeListChatModel

    a = Assistant(reports[0], index=reports[1])
    judge = Judge(FakeListChatModel(responses=["Yes, it does.", "no"]), a.verify_prompt)
    assert judge.probability(QUESTION, "41 universities") == 1.0
    assert judge.probability(QUESTION, "9 colleges") == 0.0


QWEN = Path(os.environ.get("ASSISTANT_TEST_QWEN_GGUF", "/tmp/qwen16/qwen.gguf"))


@pytest.mark.integration
@pytest.mark.llamacpp
def test_qwen_judge_probability_separates_an_answer_from_a_non_answer(reports) -> None:  # noqa: ANN001
    """The real Qwen2.5-Coder-1.5B judge (scripts/assemble_qwen.py; ASSISTANT_TEST_QWEN_GGUF
    names another copy): P(yes) of a quote that states the count is above that of a quote that
    does not, both strictly between 0 and 1, and verify mode records them in the audit."""
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python is not installed: pip install -e '.[llamacpp]'")
    if not QWEN.is_file():
        pytest.skip(f"no Qwen2.5-Coder-1.5B GGUF at {QWEN}: build it with "
                    "scripts/assemble_qwen.py and set ASSISTANT_TEST_QWEN_GGUF")
    s = reports[0].model_copy(update={"llm_backend": "llamacpp", "llm_gguf_path": QWEN,
                                      "llm_max_tokens": 8})
    a = Assistant(s, index=reports[1])
    judge = Judge(a.llm, a.verify_prompt)
    yes = judge.probability(QUESTION, ALPHA.splitlines()[4])
    no = judge.probability(QUESTION, ALPHA.splitlines()[6])
    assert 0.0 < no < yes < 1.0, (yes, no)
    ans = Assistant(s, index=reports[1], llm=a.llm).ask(QUESTION, mode="verify")
    assert ans.audit["judge"], ans.audit
    assert all(0.0 < c["p_yes"] < 1.0 for c in ans.audit["judge"])
    assert ans.outcome in {"answer", "evidence"}
