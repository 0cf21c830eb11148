"""Prompts are files (``Settings.prompts_path``): a small front matter and a template.

Loading checks that the template uses every declared variable and no undeclared one, so a
broken prompt fails at start-up, not in the middle of an answer.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import PromptError

# The one sentence an abstaining answer starts with, shared by prompts, code and tests.
ABSTAIN_TEXT = (
    "I could not find an answer to this question in the indexed documents, so I will not guess."
)
# The one plain line of an ``evidence`` outcome, above the closest passage. It claims only what
# is always true: a trial read "The documents discuss this subject" above a fee question's
# closest passage, and the documents say nothing of fees.
EVIDENCE_TEXT = (
    "The closest passage in the documents is below; it may not answer the exact question."
)
# The same line above a comparison's closest passages, one for each country.
EVIDENCE_COUNTRIES_TEXT = (
    "Each country's closest passage in the documents is below; they may not answer the exact "
    "question."
)
OUTCOMES = ("answer", "evidence", "none")
# How each outcome is labelled on the page and in the CLI.
OUTCOME_LABELS = {
    "answer": "Answer",
    "evidence": "Evidence: may not answer the exact question",
    "none": "No answer in the indexed documents",
}

_FRONT = re.compile(r"^---\n(?P<head>.*?)\n---\n(?P<body>.*)$", re.S)


@dataclass(frozen=True)
class Prompt:
    name: str
    version: str
    variables: tuple[str, ...]
    template: str

    def format(self, **values: str) -> str:
        missing = set(self.variables) - set(values)
        if missing:
            raise PromptError(f"Prompt {self.name} needs {sorted(missing)}")
        return self.template.format(**{k: values[k] for k in self.variables})


def load_prompt(directory: Path, name: str, required: tuple[str, ...]) -> Prompt:
    """Load ``directory/name.md`` and check its variables against ``required``."""
    path = directory / f"{name}.md"
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise PromptError(f"Prompt file {path} is missing; set ASSISTANT_PROMPTS_DIR") from exc
    m = _FRONT.match(raw)
    if not m:
        raise PromptError(f"{path} needs a front matter block (--- version, variables ---)")
    head = dict(
        (k.strip(), v.strip()) for k, v in
        (line.split(":", 1) for line in m.group("head").splitlines() if ":" in line)
    )
    names = head.get("variables", "").strip("[]").split(",")
    declared = tuple(v.strip() for v in names if v.strip())
    body = m.group("body")
    used = {f for _, f, _, _ in string.Formatter().parse(body) if f}
    if set(required) - set(declared):
        raise PromptError(f"{path} must declare variables {sorted(set(required) - set(declared))}")
    if set(declared) - used:
        raise PromptError(f"{path} declares but never uses {sorted(set(declared) - used)}")
    if used - set(declared):
        raise PromptError(f"{path} uses undeclared variables {sorted(used - set(declared))}")
    return Prompt(name=name, version=head.get("version", name), variables=declared, template=body)
