"""`train --streaming`: out-of-core training, read lazily a chunk at a time, same model file afterwards."""

import csv
import json
import pickle

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from classify import streaming
from classify.persist import file_sha256, load_model

from .conftest import TINY
from .test_cli import error_line


def _bigger(tmp_path, copies=6, fmt="csv"):
    rows = list(csv.DictReader(open(TINY, encoding="utf-8")))
    path = tmp_path / f"stream.{fmt}"
    with open(path, "w", newline="", encoding="utf-8") as f:
        if fmt == "csv":
            w = csv.writer(f)
            w.writerow(["text", "topics", "sentiment"])
        for k in range(copies):
            for r in rows:
                row = [f"{r['text']} ({k})", r["topics"], r["sentiment"]]
                if fmt == "csv":
                    w.writerow(row)
                else:
                    f.write(json.dumps(dict(zip(["text", "topics", "sentiment"], row)), ensure_ascii=False) + "\n")
    return path


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_streaming_training_in_many_chunks_gives_an_ordinary_model(cli, tmp_path, monkeypatch, fmt):
    monkeypatch.setattr(streaming, "CHUNK_ROWS", 10)  # 216 rows: about twenty chunks
    corpus = _bigger(tmp_path, fmt=fmt)
    out = tmp_path / "s.joblib"
    code, _, err = cli("train", corpus, "--out", out, "--streaming", "--epochs", "2")
    assert code == 0, err
    assert "pass 1: scanning" in err and "pass 2: trained on" in err and "pass 3: trained on" in err
    _, provenance = load_model(out)
    assert provenance["corpus"]["n_documents"] == 216 and provenance["corpus"]["sha256"] == file_sha256(corpus)
    assert provenance["config"]["classifier"] == "sgd"
    assert provenance["tasks"]["topics"]["type"] == "multi" and set(provenance["tasks"]["topics"]["thresholds"]) == \
        {"customer_relations", "devices", "operators"}
    assert provenance["tasks"]["sentiment"]["label_counts"] == {"negative": 72, "neutral": 72, "positive": 72}
    assert provenance["cv_metrics"]["sentiment"]["held_out"] == 11  # one row in twenty
    assert "trained with --streaming on 216 rows (2 epoch(s))" in provenance["notes"][0]
    code, out_lines, err = cli("predict", TINY, "--model", out, "--format", "jsonl", "-q")
    assert code == 0, err
    records = [json.loads(line) for line in out_lines.splitlines()]
    assert len(records) == 36 and all(r["sentiment"] in {"negative", "neutral", "positive"} for r in records)
    # it learns: on its own training texts it is right far more often than chance (1/3)
    truth = [r["sentiment"] for r in csv.DictReader(open(TINY, encoding="utf-8"))]
    assert sum(r["sentiment"] == t for r, t in zip(records, truth)) / 36 > 0.6


@pytest.mark.parametrize("mode", ["streamed", "cross-validated", "held-out"])
def test_jobs_change_the_speed_not_the_model(cli, tmp_path, monkeypatch, mode):
    """--jobs 2 (features of the next chunks computed in worker processes while this one fits; in memory:
    the labels of the multi-label task, and the folds (or the held-out fit) and final fit of the single-label
    one, fitted in parallel) gives the same weights, calibration and predictions as --jobs 1."""
    from classify import training as model

    monkeypatch.setattr(streaming, "CHUNK_ROWS", 10)  # about twenty chunks, several in flight at once
    monkeypatch.setattr(model, "PARALLEL_MIN_CELLS", 0)  # in memory: workers even for this small corpus
    corpus = _bigger(tmp_path)
    extra = {"streamed": ["--streaming"], "cross-validated": ["--cv", "2"], "held-out": ["--cv-limit", "100"]}[mode]
    models = {}
    for jobs in ("1", "2"):
        models[jobs] = tmp_path / f"jobs{jobs}.joblib"
        code, _, err = cli("train", corpus, "--out", models[jobs], "--jobs", jobs, *extra, "-q")
        assert code == 0, err
    (one, p1), (two, p2) = load_model(models["1"]), load_model(models["2"])
    assert p1["cv_metrics"] == p2["cv_metrics"] and p1["tasks"] == p2["tasks"]
    assert all(("held_out" in m) == (mode != "cross-validated") for m in p1["cv_metrics"].values())
    for name in one.tasks_:
        a, b = one.tasks_[name], two.tasks_[name]
        assert np.array_equal(a.scorer.coef, b.scorer.coef) and np.array_equal(a.scorer.intercept, b.scorer.intercept)
        assert pickle.dumps(a.calibrator) == pickle.dumps(b.calibrator)
        assert np.array_equal(a.thresholds, b.thresholds) if a.multi else a.thresholds is b.thresholds is None
    outputs = [cli("predict", TINY, "--model", models[jobs], "--format", "jsonl", "-q")[1] for jobs in ("1", "2")]
    assert outputs[0] == outputs[1] and len(outputs[0].splitlines()) == 36


def test_streaming_bad_rows_are_named(cli, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\nbonne box,positive\n,negative\n", encoding="utf-8")
    code, _, err = cli("train", bad, "--out", tmp_path / "m.joblib", "--streaming", "-q")
    assert code == 1 and error_line(err) == f"Error: {bad} line 3 has an empty 'text'; remove it or fill in the text."
    bad.write_text("text,label\nbonne box,positive\nmauvaise,negative,extra\n", encoding="utf-8")
    code, _, err = cli("train", bad, "--out", tmp_path / "m.joblib", "--streaming", "-q")
    assert code == 1 and "line 3 has 3 fields where the header has 2" in error_line(err)
    assert not (tmp_path / "m.joblib").exists()


@pytest.mark.parametrize("args, message", [
    (["--streaming", "--tune"], "--tune cannot be combined with --streaming"),
    (["--streaming", "--nbsvm"], "--nbsvm cannot be combined with --streaming"),
    (["--epochs", "3"], "--epochs is only used by --streaming"),
])
def test_streaming_option_conflicts(cli, tmp_path, args, message):
    code, _, err = cli("train", TINY, "--out", tmp_path / "m.joblib", *args, "-q")
    assert code == 1 and message in error_line(err)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(max_size=60), min_size=1, max_size=5))
def test_hashed_features_are_scikit_learns_hashing_vectorizer(batch):
    """The model files keep `HashedBlock`s: its cached hashing must give HashingVectorizer's matrix."""
    from sklearn.feature_extraction.text import HashingVectorizer
    from sklearn.preprocessing import normalize as l2

    from classify.streaming import HashedBlock
    from classify.text.normalize import Normalizer, Tokenizer

    texts = [Normalizer(accents=False)(t) for t in batch + ["Le réseau ne marche pas, vraiment pas ! 😡", ""]]
    for kind, grams in (("word", (1, 2)), ("char", (2, 5))):
        tokenizer = Tokenizer(mark_negation=True) if kind == "word" else None
        block = HashedBlock(kind, grams, 12, tokenizer)
        common = dict(n_features=1 << 12, alternate_sign=False, norm=None, lowercase=False, ngram_range=grams,
                      dtype=np.float32, preprocessor=str)
        vectorizer = HashingVectorizer(tokenizer=tokenizer, token_pattern=None, **common) if kind == "word" \
            else HashingVectorizer(analyzer="char_wb", **common)
        expected = vectorizer.transform(texts).tocsr()
        for i in range(expected.shape[0]):  # counts per copy of the text (classify.features.relative_counts)
            row = expected.data[expected.indptr[i]:expected.indptr[i + 1]]
            if len(row):
                row /= row.min()
        np.log(expected.data, out=expected.data)
        expected.data += 1.0
        expected = l2(expected)
        for _ in range(2):  # the second time from the cache
            got = block.transform(texts)
            assert got.shape == expected.shape
            assert ((got != 0) != (expected != 0)).nnz == 0
            assert abs(got - expected).max() < 1e-6 if expected.nnz else got.nnz == 0


def test_a_streamed_model_exported_to_skops_loads_and_predicts_the_same(cli, tmp_path):
    """`classify export` of a model trained with --streaming writes a `.skops` file that classify loads:
    its hashed feature blocks are among the trusted types."""
    corpus, out, exported = _bigger(tmp_path), tmp_path / "s.joblib", tmp_path / "s.skops"
    assert cli("train", corpus, "--out", out, "--streaming", "-q")[0] == 0
    code, _, err = cli("export", out, "--to", exported)
    assert code == 0, err
    code, _, err = cli("info", exported)
    assert code == 0, err
    texts = ["Mon téléphone ne s'allume plus, le service client ne répond pas.", "Très bon réseau, merci !"]
    pickled, skops = load_model(out)[0], load_model(exported)[0]
    assert pickled.predict(texts) == skops.predict(texts)
    for name, P in pickled.predict_scores(texts).items():
        np.testing.assert_array_equal(P, skops.predict_scores(texts)[name])
