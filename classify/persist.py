"""Saving and loading model files: atomic writes, provenance, clear refusals.

A model file is a joblib pickle of `{"format": "classify-model", "format_version": N, "provenance": {...},
"model": ClassifyModel}`. Unpickling runs code: load only files you trust (see README, Security).
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import platform
import tempfile
import warnings
import zlib
from datetime import datetime, timezone
from pathlib import Path

from classify import __version__
from classify.errors import ModelFileError

log = logging.getLogger("classify")

FORMAT = "classify-model"
# 2: the saved classes live by concern (`classify.config`, `classify.scoring`); 1: all in `classify.model`.
# A classify that reads only format 1 cannot find format 2's classes: it says the file is newer.
FORMAT_VERSION = 2

# Format 1's names of the classes (and the one function) that have moved, and where they are now: the
# loader of format 1 reads them there, whatever the container (this package's, joblib's or skops').
FORMAT_1_NAMES = {
    "classify.model.ModelConfig": "classify.config.ModelConfig",
    "classify.model.LinearScorer": "classify.scoring.LinearScorer",
    "classify.model.Calibrator": "classify.scoring.Calibrator",
    "classify.model.TaskModel": "classify.scoring.TaskModel",
    "classify.model._identity": "classify.training._identity",
}


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
        "tuning": getattr(model, "tuning_", None),
    }


def sidecar(path) -> Path:
    """Where the SHA-256 of a model file is recorded (`sha256sum` format): `<model>.sha256`."""
    path = Path(path)
    return path.with_name(path.name + ".sha256")


def file_sha256(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _remove_stale_temporaries(folder: Path, name: str) -> None:
    """Temporary files left by a training that was killed (SIGKILL cannot clean up): `.name.PID.*.tmp`
    whose process is gone. A running training's temporary is never touched."""
    for tmp in folder.glob(f".{name}.*.tmp"):
        parts = tmp.name[len(name) + 2:].split(".")
        if not parts or not parts[0].isdigit():
            continue
        try:
            os.kill(int(parts[0]), 0)
        except ProcessLookupError:
            try:
                tmp.unlink()
            except OSError:
                pass
        except OSError:
            pass


def _atomic_write(folder: Path, name: str, write) -> str:
    """Write a temporary file in `folder` with `write(handle)`, flush it to disk; return its path."""
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.{os.getpid()}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; a model is an ordinary file
    except BaseException:
        _unlink(tmp)
        raise
    return tmp


def _unlink(path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def save_model(model, provenance: dict, path) -> tuple[Path, str]:
    """Write atomically and record the file's SHA-256 beside it; returns (path, sha256).

    Model and record are written to temporary files in the same folder, flushed to disk, then renamed
    over the old ones while holding a lock on the folder, so that two trainings writing the same path end
    with one complete model and its own record, and a killed training leaves the previous pair untouched.
    """
    import fcntl

    path = Path(path)
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelFileError(f"cannot create the folder {folder} ({exc.strerror}).") from exc
    _remove_stale_temporaries(folder, path.name)
    payload = {"format": FORMAT, "format_version": FORMAT_VERSION, "provenance": provenance, "model": model}
    tmp = tmp_sum = None
    try:
        tmp = _atomic_write(folder, path.name, lambda handle: write_payload(payload, handle))
        digest = file_sha256(tmp)
        record = f"{digest}  {path.name}\n"
        tmp_sum = _atomic_write(folder, path.name, lambda handle: handle.write(record.encode()))
        lock = os.open(folder, os.O_RDONLY)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            # Two renames cannot be one: during the switch the record lists both digests, so that a
            # training killed between the renames leaves a model that matches its record, old or new.
            previous = _recorded_digests(path)
            if previous:
                both = (record + "".join(f"{d}  {path.name}\n" for d in previous if d != digest)).encode()
                os.replace(_atomic_write(folder, path.name, lambda handle: handle.write(both)), sidecar(path))
            os.replace(tmp, path)
            os.replace(tmp_sum, sidecar(path))
        finally:
            os.close(lock)
    except BaseException as exc:
        for leftover in (tmp, tmp_sum):
            if leftover:
                _unlink(leftover)
        if isinstance(exc, OSError):
            raise ModelFileError(f"cannot write {path} ({exc.strerror}); the previous model is untouched.") from exc
        raise
    return path, digest


def _recorded_digests(path: Path) -> list[str]:
    """The digests in the record beside `path` (one, or two while a training switches files); [] if none."""
    try:
        lines = sidecar(path).read_text(encoding="ascii").splitlines()
    except (OSError, UnicodeDecodeError):
        return []
    digests = [line.split()[0].lower() for line in lines if line.strip()]
    return [d for d in digests if len(d) == 64 and all(c in "0123456789abcdef" for c in d)]


def verify(path: Path) -> None:
    """Refuse a model file whose SHA-256 is not the one recorded beside it at training."""
    record = sidecar(path)
    if not record.exists():
        raise ModelFileError(
            f"{path} has no SHA-256 record ({record.name}): loading a model file runs code, so only files "
            f"written by `classify train` are loaded. If you trust this file, pass --trust."
        )
    expected = _recorded_digests(path)
    if not expected:
        raise ModelFileError(f"{record} is not a SHA-256 record; retrain the model or pass --trust.")
    actual = file_sha256(path)
    if actual not in expected:
        expected = expected[0]
        raise ModelFileError(
            f"{path} does not match its SHA-256 record ({actual[:12]}… instead of {expected[:12]}…): it changed "
            f"since training. Retrain it, or pass --trust if you know where it comes from."
        )


def load_model(path, trust: bool = False):
    """Load a model file; returns (model, provenance). Raises ModelFileError with the reason and a fix.

    `.joblib` files are verified against their SHA-256 record first (unless `trust`); `.skops` files are
    loaded with skops, which builds only the types this package allows and never runs pickled code.
    """
    path = Path(path)
    if not path.exists():
        raise ModelFileError(f"no model at {path}. Train one with `classify train` (or pass --model PATH).")
    if path.is_dir():
        raise ModelFileError(f"{path} is a folder; --model expects a model file (.joblib or .skops).")
    if path.suffix == ".skops":
        payload = _load_skops(path)
    else:
        if not trust:
            verify(path)
        payload = _load_joblib(path)
    return _check_payload(payload, path)


# The container: a header line, then the pickle (protocol 5) of the payload, uncompressed. Python's C
# unpickler reads it in a hundredth of the time joblib's pure-Python one takes, and joblib need not be
# imported; uncompressed, a model loads without inflating it first (the default model: 5.6 MB read and
# unpickled in 0.02 s, where zlib alone took 0.04-0.05 s of every `classify predict`). Older containers
# still load: zlib-compressed (`ZLIB_MAGIC`, classify 0.2) and joblib's (classify 0.1).
MAGIC = b"classify-model pickle\n"
ZLIB_MAGIC = b"classify-model zlib+pickle\n"


def write_payload(payload, handle) -> None:
    handle.write(MAGIC)
    pickle.dump(payload, handle, protocol=5)


class _Unpickler(pickle.Unpickler):
    """The C unpickler, reading format 1's names of moved classes where they live now."""

    def find_class(self, module, name):
        moved = FORMAT_1_NAMES.get(f"{module}.{name}")
        if moved is not None:
            module, _, name = moved.rpartition(".")
        return super().find_class(module, name)


def pickled(data: bytes) -> bytes | None:
    """The pickle inside the bytes of a model file in either of this package's containers; None for
    joblib's."""
    if data.startswith(MAGIC):
        return data[len(MAGIC):]
    if data.startswith(ZLIB_MAGIC):
        return zlib.decompress(data[len(ZLIB_MAGIC):])
    return None


def read_payload(path: Path):
    """The payload of a model file (this package's containers, or joblib's for older files)."""
    with open(path, "rb") as handle:
        head = handle.read(len(ZLIB_MAGIC))
        if head.startswith(MAGIC):
            handle.seek(len(MAGIC))
            return _Unpickler(handle).load()  # from the file: no copy of its bytes
        if head == ZLIB_MAGIC:
            import io

            return _Unpickler(io.BytesIO(zlib.decompress(handle.read()))).load()
    import joblib  # its unpickler finds format 1's names through `classify.model.__getattr__`

    return joblib.load(path)


def _load_joblib(path: Path):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return read_payload(path)
    except (EOFError, pickle.UnpicklingError, ValueError, KeyError, IndexError, TypeError, OSError,
            AttributeError, ModuleNotFoundError, ImportError, MemoryError, zlib.error) as exc:
        raise ModelFileError(
            f"{path} is not a classify model or is damaged ({type(exc).__name__}); retrain it with `classify train`."
        ) from None
    except Exception as exc:  # an arbitrary pickle can raise anything while loading
        raise ModelFileError(f"{path} cannot be loaded ({type(exc).__name__}: {exc}).") from None


# The only non-standard types a `.skops` model may contain: this package's own classes and function, under
# their names of today and of format 1 (found through `classify.model.__getattr__`).
SKOPS_TRUSTED = [
    "classify.training._identity", "classify.scoring.Calibrator", "classify.model.ClassifyModel",
    "classify.scoring.LinearScorer", "classify.config.ModelConfig", "classify.scoring.TaskModel",
    "classify.text.normalize.Normalizer", "classify.text.normalize.Tokenizer", "classify.features.CompiledTfidf",
    "classify.features.CompiledUnion", "classify.vectors.MeanVectors", "classify.lexicon.LexiconFeatures",
    "classify.estimator.TextClassifier", "classify.streaming.HashedBlock", "classify.streaming.HashedFeatures",
    *FORMAT_1_NAMES,
]


def _load_skops(path: Path):
    try:
        import skops.io as sio
    except ImportError:
        raise ModelFileError(f"{path} is a skops file: install skops (pip install skops).") from None
    try:
        untrusted = sorted(set(sio.get_untrusted_types(file=path)) - set(SKOPS_TRUSTED))
    except Exception as exc:  # a damaged zip or schema
        raise ModelFileError(f"{path} is not a skops model or is damaged ({type(exc).__name__}).") from None
    if untrusted:
        raise ModelFileError(
            f"{path} contains types classify does not trust: {', '.join(untrusted)}; it was not written by "
            f"`classify export` and is not loaded."
        )
    try:
        return sio.load(path, trusted=SKOPS_TRUSTED)
    except Exception as exc:
        raise ModelFileError(f"{path} cannot be loaded by skops ({type(exc).__name__}: {exc}).") from None


def _from_format_1(payload: dict) -> dict:
    """Format 1 differs from format 2 only in the names of the saved classes, which the readers map as they
    read (`FORMAT_1_NAMES`): what they return is already made of today's classes."""
    return payload


# How each format's payload becomes today's: one loader per format this classify reads.
LOADERS = {1: _from_format_1, 2: lambda payload: payload}


def _check_payload(payload, path: Path):
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ModelFileError(f"{path} is not a classify model (no classify header).")
    version = payload.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path} uses model format {version}, newer than this classify ({__version__}) reads "
            f"(format {FORMAT_VERSION}); upgrade classify or retrain the model."
        )
    if version not in LOADERS:
        raise ModelFileError(f"{path} uses model format {version}, which no classify wrote; retrain the model.")
    payload = LOADERS[version](payload)
    provenance = payload.get("provenance", {})
    trained_with = provenance.get("versions", {}).get("scikit-learn")
    if trained_with:
        here = installed_version("scikit-learn")  # not `import sklearn`: a second of start-up
        if trained_with != here:
            log.warning(
                "%s was trained with scikit-learn %s and this is %s: predictions may differ; "
                "retrain it with `classify train` to be sure.", path, trained_with, here,
            )
    return payload["model"], provenance


def installed_version(project: str) -> str | None:
    """The version of an installed distribution, from the name of its `NAME-VERSION.dist-info` folder on
    sys.path, as pip writes it; else `importlib.metadata`'s answer (the same, but its import alone takes
    0.02-0.03 s of every command that loads a model)."""
    import re
    import sys

    wanted = re.sub(r"[-_.]+", "_", project).lower() + "-"
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            if name.endswith(".dist-info"):
                project_part = name.split("-")[0]
                if re.sub(r"[-_.]+", "_", project_part).lower() + "-" == wanted:
                    return name[len(project_part) + 1:-len(".dist-info")]
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(project)
    except PackageNotFoundError:
        return None


def export_skops(model_path, out, trust: bool = False) -> Path:
    """Rewrite a model as a `.skops` file: shareable, loadable without running pickled code."""
    try:
        import skops.io as sio
    except ImportError:
        raise ModelFileError("exporting needs skops: pip install skops.") from None
    out = Path(out)
    if out.suffix != ".skops":
        raise ModelFileError(f"--to {out}: the file name must end in .skops.")
    model, provenance = load_model(model_path, trust=trust)
    payload = {"format": FORMAT, "format_version": FORMAT_VERSION, "provenance": provenance, "model": model}
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = _atomic_write(out.parent, out.name, lambda handle: handle.write(sio.dumps(payload)))
        os.replace(tmp, out)
    except OSError as exc:
        raise ModelFileError(f"cannot write {out} ({exc.strerror}).") from exc
    return out
