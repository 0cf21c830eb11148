"""A wheel built from the repository installs and answers a question from another directory.

The wheel is built from a copy of the source tree (so the checkout gets no build/ folder) and
installed with ``--no-deps`` into a fresh virtualenv. The dependencies come from the shared
environment through a ``.pth`` line with its site-packages folder: a plain path line, so the
shared environment's editable finder (a ``.pth`` that runs code) is not installed. The test
asserts that ``assistant`` is imported from the new virtualenv, then runs the ``assistant``
command there with a fresh HOME: prompts, the default corpus and the page's static files must
come from the installed package, the index from the user's data folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.integration
SKIP = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__",
                              ".*_cache", "index", "data", "artifacts", "node_modules")


def run(cmd: list[str], cwd: Path, env: dict[str, str], timeout: float = 900) -> str:
    done = subprocess.run(cmd, cwd=cwd, env=env, text=True, capture_output=True, timeout=timeout)
    assert done.returncode == 0, f"{cmd} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A virtualenv with the wheel installed, and an environment that uses it."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    shutil.copytree(REPO, src, symlinks=True, ignore=SKIP)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "ASSISTANT_"))}
    env.update(HOME=str(tmp / "home"), XDG_DATA_HOME="", PYTHONNOUSERSITE="1")
    (tmp / "home").mkdir()
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp / "dist"), str(src)], cwd=tmp, env=env)
    wheels = list((tmp / "dist").glob("micro_gear_assistant-*.whl"))
    assert len(wheels) == 1
    venv = tmp / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=tmp, env=env)
    python = venv / "bin" / "python"
    run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q",
         str(wheels[0])], cwd=tmp, env=env)
    site = Path(run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()"
                     "['purelib'])"], cwd=tmp, env=env).strip())
    (site / "shared-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv, env


def test_the_wheel_holds_every_subpackage_and_its_data(
    installed: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    venv, env = installed
    out = run([str(venv / "bin" / "python"), "-c",
               "import assistant, assistant.web.page, assistant.check.draft\n"
               "from assistant.config import Settings\n"
               "from assistant.web.common import head_html, static_text\n"
               "s = Settings()\n"
               "print(assistant.__file__); print(s.home); print(s.prompts_path)\n"
               "print(s.manifest_path.is_file(), len(static_text('page.css')) > 100,\n"
               "      '<script>' in head_html())"], cwd=tmp_path, env=env)
    module, home, prompts, checks = out.splitlines()
    assert Path(module).is_relative_to(venv), module  # not the shared editable install
    assert Path(home) == Path(env["HOME"]) / ".local" / "share" / "micro-gear-assistant"
    assert Path(prompts).is_relative_to(venv)
    assert (Path(prompts) / "answer.md").is_file()
    assert checks == "True True True"


def test_the_installed_command_answers_from_another_directory(
    installed: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    venv, env = installed
    command = str(venv / "bin" / "assistant")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    listed = run([command, "corpus", "list"], cwd=elsewhere, env=env)
    assert "d11-armenia" in listed
    ingested = run([command, "ingest"], cwd=elsewhere, env=env)
    assert "2 added" in ingested
    answer = run([command, "ask", "How many scientific institutions took part in the Armenian "
                  "survey?"], cwd=elsewhere, env=env)
    assert "22 Scientific institutions" in answer
    assert "[1] Micro-GEAR D1.1" in answer
    home = Path(env["HOME"]) / ".local" / "share" / "micro-gear-assistant"
    assert (home / "index").is_dir()  # the index went to the user's data folder
    assert not (elsewhere / "index").exists()
