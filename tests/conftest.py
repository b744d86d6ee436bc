import os

# Plain-text help and errors (must be set before typer is imported).
os.environ["TYPER_USE_RICH"] = "0"
os.environ.setdefault("TERMINAL_WIDTH", "120")

import shutil  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

DATA = Path(__file__).parent / "data"
TINY = DATA / "tiny.csv"


@pytest.fixture(autouse=True)
def isolated_paths(tmp_path, monkeypatch):
    """Every user path (default model, bundled corpus) points into tmp_path: tests never touch models/."""
    monkeypatch.setenv("CLASSIFY_MODEL", str(tmp_path / "models" / "default.joblib"))
    monkeypatch.setenv("CLASSIFY_CORPUS", str(TINY))
    monkeypatch.delenv("CLASSIFY_DEBUG", raising=False)


@pytest.fixture(autouse=True)
def compiled_core_for_every_batch(monkeypatch):
    """The compiled core (when built) computes the features of every batch, however small, so that the suite
    runs on it; `make test` runs the feature tests again with CLASSIFY_PURE_PYTHON=1 (the reference path)."""
    from classify import core

    monkeypatch.setattr(core, "FAST_BATCH", 0)


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory):
    """A model trained once on tests/data/tiny.csv (topics multi-label + sentiment)."""
    from classify.api import train
    from classify.model import ModelConfig

    path = tmp_path_factory.mktemp("model") / "tiny.joblib"
    train(TINY, path, config=ModelConfig(cv_folds=3))
    return path


@pytest.fixture
def tiny_model(tiny_model_path, tmp_path):
    """A private copy of the session model, safe to damage."""
    path = tmp_path / "tiny.joblib"
    shutil.copy(tiny_model_path, path)
    shutil.copy(tiny_model_path.with_name("tiny.joblib.sha256"), tmp_path / "tiny.joblib.sha256")
    return path


@pytest.fixture
def cli():
    """Invoke the CLI in-process: returns (exit_code, stdout, stderr)."""
    from classify.cli import app

    def invoke(*args, input=None):
        result = CliRunner().invoke(app, [str(a) for a in args], input=input)
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, result.stdout, result.stderr

    return invoke
