"""Examples that run: every example of every `--help`, every `sh` block of README.md and the doctest of
`classify.api`, run in a temporary copy of the project. One that fails, or that writes into the project
anywhere but models/ and reports/, fails its test."""

import doctest
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _commands() -> list[str]:
    """Every command of the CLI, as registered: a new command is covered without editing this file."""
    from classify.cli import app

    return [c.name or c.callback.__name__.replace("_", "-") for c in app.registered_commands]


COMMANDS = _commands()
WRITABLE = ("models", "reports", "tmp")  # tmp: what the examples write under /tmp, kept inside the copy


def _help(*args) -> str:
    from typer.testing import CliRunner

    from classify.cli import app

    result = CliRunner().invoke(app, [*args, "--help"], env={"TYPER_USE_RICH": "0", "TERMINAL_WIDTH": "200"})
    assert result.exit_code == 0
    return result.stdout


def help_examples() -> list[tuple[str, str]]:
    """(command, example line) for every example of every --help: the lines of its Example(s) paragraph,
    and the top-level help's `Example: ...`."""
    examples = [("classify", line) for line in re.findall(r"^\s*Example: (classify .+)$", _help(), re.M)]
    for command in COMMANDS:
        text = _help(command)
        block = re.search(r"^\s*Examples?:\n\n((?:[ \t]+\S.*\n)+)", text, re.M)
        assert block, f"classify {command} --help has no example"
        examples += [(command, line.strip()) for line in block.group(1).splitlines()]
    return examples


def readme_blocks() -> list[str]:
    return re.findall(r"^```sh\n(.*?)^```", (ROOT / "README.md").read_text(encoding="utf-8"), re.M | re.S)


HELP_EXAMPLES = help_examples()
README_BLOCKS = readme_blocks()


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A copy of the project (seeds, README) with models/default.joblib trained on seeds/sample.csv, and the
    environment a user has after `make install` (the venv's `classify` and `python` first on PATH). The
    bundled corpus is seeds/sample.csv there, so that `classify train` takes seconds."""
    from classify.api import train

    copy = tmp_path_factory.mktemp("project")
    shutil.copytree(ROOT / "seeds", copy / "seeds")
    shutil.copy(ROOT / "README.md", copy / "README.md")
    (copy / "models").mkdir()
    (copy / "tmp").mkdir()
    train(copy / "seeds" / "sample.csv", copy / "models" / "default.joblib")
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "CLASSIFY_MODEL": str(copy / "models" / "default.joblib"),
        "CLASSIFY_CORPUS": str(copy / "seeds" / "sample.csv"),
        "TYPER_USE_RICH": "0",
    }
    return copy, env


def _files(folder: Path) -> set:
    return {p.relative_to(folder) for p in folder.rglob("*") if p.parts[len(folder.parts)] not in WRITABLE}


def run(script: str, project) -> subprocess.CompletedProcess:
    copy, env = project
    before = _files(copy)
    script = script.replace("/tmp/", f"{copy / 'tmp'}/")
    result = subprocess.run(
        ["bash", "-c", "set -eo pipefail\n" + script],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, f"{script}\nexit {result.returncode}\n{result.stderr[-3000:]}"
    assert "Traceback" not in result.stderr and "Error:" not in result.stderr, result.stderr
    assert _files(copy) == before, f"{script} wrote into the project: {_files(copy) - before}"
    return result


@pytest.mark.parametrize("command, example", HELP_EXAMPLES, ids=[f"{c}: {e[:60]}" for c, e in HELP_EXAMPLES])
def test_help_example_runs(project, command, example):
    assert "classify" in example
    run(example, project)


@pytest.mark.parametrize("block", README_BLOCKS, ids=[b.splitlines()[0][:60] for b in README_BLOCKS])
def test_readme_sh_block_runs(project, block):
    run(block, project)


def test_api_docstring_example_runs(project, monkeypatch):
    import classify.api

    copy, env = project
    monkeypatch.chdir(copy)
    monkeypatch.setenv("CLASSIFY_MODEL", env["CLASSIFY_MODEL"])
    result = doctest.testmod(classify.api, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 5 and result.failed == 0


def test_every_command_has_examples_and_they_use_files_of_the_project():
    commands = {command for command, _ in HELP_EXAMPLES}
    assert commands == {"classify", *COMMANDS}
    assert len(README_BLOCKS) >= 3
    for _, example in HELP_EXAMPLES:
        for path in re.findall(r"(?<![\w/.-])((?:seeds|models)/[\w./-]*)", example):
            if path.startswith("seeds/"):
                assert (ROOT / path).exists(), f"{example}: {path} is not in the project"


def test_the_sample_is_forty_rows_of_the_corpus_unchanged():
    import csv

    def rows(path):
        with open(path, encoding="utf-8", newline="") as handle:
            return list(csv.reader(handle))

    corpus, sample = rows(ROOT / "seeds" / "corpus.csv"), rows(ROOT / "seeds" / "sample.csv")
    assert sample[0] == corpus[0] == ["id", "text", "topics", "sentiment"]
    assert len(sample) == 41 and all(row in corpus[1:] for row in sample[1:])
    labels = [label for row in sample[1:] for label in row[2].split(";") + [row[3]] if label]
    assert min(labels.count(label) for label in set(labels)) >= 5  # `classify cv --folds 5` runs on it
    assert all(row[1].encode("cp1252") for row in sample[1:])  # Excel's cp1252 export loses nothing
