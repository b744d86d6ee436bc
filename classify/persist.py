"""Saving and loading model files: atomic writes, provenance, clear refusals.

A model file is a joblib pickle of `{"format": "classify-model", "format_version": N, "provenance": {...},
"model": ClassifyModel}`. Unpickling runs code: load only files you trust (see README, Security).
"""

from __future__ import annotations

import logging
import os
import pickle
import platform
import tempfile
import warnings
from datetime import datetime, timezone
from pathlib import Path

from classify import __version__
from classify.errors import ModelFileError

log = logging.getLogger("classify")

FORMAT = "classify-model"
FORMAT_VERSION = 1


def library_versions() -> dict:
    import joblib
    import numpy
    import scipy
    import sklearn

    return {
        "classify": __version__,
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "joblib": joblib.__version__,
    }


def make_provenance(model, corpus, seconds: float) -> dict:
    return {
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "versions": library_versions(),
        "corpus": {"path": str(corpus.path), "sha256": corpus.sha256, "n_documents": len(corpus),
                   "text_column": corpus.text_column},
        "config": model.config.to_dict(),
        "tasks": {
            name: {
                "type": task.type,
                "labels": task.labels,
                "label_counts": dict(sorted(corpus.tasks[name].label_counts().items())),
                "n_documents": len(corpus.tasks[name].annotated()),
                **({"thresholds": dict(zip(task.labels, map(float, task.thresholds)))} if task.multi else {}),
            }
            for name, task in model.tasks_.items()
        },
        "cv_metrics": model.cv_metrics_,
        "n_features": model.n_features_,
        "notes": model.notes_,
        "training_seconds": round(seconds, 2),
    }


def save_model(model, provenance: dict, path) -> Path:
    """Write atomically: a temporary file in the same folder, flushed to disk, then renamed over `path`."""
    import joblib

    path = Path(path)
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelFileError(f"cannot create the folder {folder} ({exc.strerror}).") from exc
    payload = {"format": FORMAT, "format_version": FORMAT_VERSION, "provenance": provenance, "model": model}
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise ModelFileError(f"cannot write a model in {folder} ({exc.strerror}); choose another --out.") from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            joblib.dump(payload, handle, compress=3)
            handle.flush()
            os.fsync(handle.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; a model is an ordinary file
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise ModelFileError(f"cannot write {path} ({exc.strerror}); the previous model is untouched.") from exc
        raise
    return path


def load_model(path):
    """Load a model file; returns (model, provenance). Raises ModelFileError with the reason and a fix."""
    import joblib

    path = Path(path)
    if not path.exists():
        raise ModelFileError(f"no model at {path}. Train one with `classify train` (or pass --model PATH).")
    if path.is_dir():
        raise ModelFileError(f"{path} is a folder; --model expects a model file (.joblib).")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            payload = joblib.load(path)
    except (EOFError, pickle.UnpicklingError, ValueError, KeyError, IndexError, TypeError, OSError,
            AttributeError, ModuleNotFoundError, ImportError, MemoryError) as exc:
        raise ModelFileError(
            f"{path} is not a classify model or is damaged ({type(exc).__name__}); retrain it with `classify train`."
        ) from None
    except Exception as exc:  # an arbitrary pickle can raise anything while loading
        raise ModelFileError(f"{path} cannot be loaded ({type(exc).__name__}: {exc}).") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ModelFileError(f"{path} is not a classify model (no classify header).")
    version = payload.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path} uses model format {version}, newer than this classify ({__version__}) reads "
            f"(format {FORMAT_VERSION}); upgrade classify or retrain the model."
        )
    provenance = payload.get("provenance", {})
    import sklearn

    trained_with = provenance.get("versions", {}).get("scikit-learn")
    if trained_with and trained_with != sklearn.__version__:
        log.warning(
            "%s was trained with scikit-learn %s and this is %s: predictions may differ; "
            "retrain it with `classify train` to be sure.", path, trained_with, sklearn.__version__,
        )
    del caught
    return payload["model"], provenance
