"""Where the bundled corpus and the default model live (overridable with environment variables)."""

from __future__ import annotations

import os
from pathlib import Path

from classify.errors import CorpusError

PACKAGE_DIR = Path(__file__).resolve().parent


def project_dir() -> Path:
    """The source checkout when classify is installed from one (editable install), else the current folder."""
    root = PACKAGE_DIR.parent
    return root if (root / "pyproject.toml").exists() else Path.cwd()


BUNDLED = ("corpus.csv", "general-french.csv")  # seeds/ files that make the bundled corpus (see seeds/README.md)
# the default model's `--weight` rules (docs/model.md, "The default model"); the Makefile passes the same
BUNDLED_WEIGHTS = ("sentiment:real-=3", "topics:=2", "topics:real-=0.75")


def bundled_corpus() -> list[Path]:
    """The files of the bundled corpus: `$CLASSIFY_CORPUS` (one path, or several joined by the path
    separator), else `BUNDLED` in the project's seeds/ folder."""
    setting = os.environ.get("CLASSIFY_CORPUS")
    paths = [Path(p) for p in setting.split(os.pathsep) if p] if setting else \
        [project_dir() / "seeds" / name for name in BUNDLED]
    for path in paths:
        if not path.exists():
            raise CorpusError(f"the bundled corpus is not at {path}; pass a CORPUS file to train on.")
    return paths


def corpus_paths(corpus) -> list[Path]:
    """A CORPUS argument (a path, several, or None for the bundled corpus) as a list of paths."""
    if not corpus:
        return bundled_corpus()
    return [Path(p) for p in ([corpus] if isinstance(corpus, (str, os.PathLike)) else corpus)]


def default_model_path() -> Path:
    """`$CLASSIFY_MODEL`, else `models/default.joblib` in the project folder."""
    return Path(os.environ.get("CLASSIFY_MODEL") or project_dir() / "models" / "default.joblib")
