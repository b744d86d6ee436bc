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


def bundled_corpus() -> Path:
    path = Path(os.environ.get("CLASSIFY_CORPUS") or project_dir() / "seeds" / "corpus.csv")
    if not path.exists():
        raise CorpusError(f"the bundled corpus is not at {path}; pass a CORPUS file to train on.")
    return path


def default_model_path() -> Path:
    """`$CLASSIFY_MODEL`, else `models/default.joblib` in the project folder."""
    return Path(os.environ.get("CLASSIFY_MODEL") or project_dir() / "models" / "default.joblib")
