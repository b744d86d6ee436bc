"""cv, evaluate --report, explain, predict --explain, compare; the held-out split behind `make eval`."""

import csv
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from classify.crossval import iterative_stratification, make_folds
from classify.corpus import load_corpus

from .conftest import TINY
from .test_cli import _run, error_line

GOLDEN = Path(__file__).parent / "golden"


# -- folds ------------------------------------------------------------------------------------------------
def test_iterative_stratification_puts_every_label_in_every_fold():
    rng = np.random.default_rng(1)
    Y = rng.random((300, 6)) < np.array([0.5, 0.2, 0.05, 0.03, 0.04, 0.4])
    assert Y.sum(axis=0).min() >= 5  # every label can reach every fold
    fold = iterative_stratification(Y, 5, seed=0)
    assert sorted(set(fold)) == [0, 1, 2, 3, 4]
    sizes = np.bincount(fold)
    assert sizes.max() - sizes.min() <= 2
    for j in range(Y.shape[1]):
        per_fold = np.bincount(fold[Y[:, j]], minlength=5)
        assert per_fold.min() >= 1, (j, per_fold)
        assert per_fold.max() - per_fold.min() <= 1, (j, per_fold)  # as even as the counts allow
    assert (iterative_stratification(Y, 5, seed=0) == fold).all()


def test_folds_cover_every_task_label():
    corpus = load_corpus(TINY)
    fold = make_folds(corpus, 3, seed=0)
    for f in range(3):
        rows = np.flatnonzero(fold == f)
        assert {corpus.tasks["sentiment"].values[i] for i in rows} == {"negative", "neutral", "positive"}
        assert {lab for i in rows for lab in corpus.tasks["topics"].values[i]} == {
            "customer_relations", "devices", "operators"}


def test_folds_refuse_a_label_rarer_than_the_folds(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("text,label\n" + "".join(f"texte numero {i},{'a' if i < 8 else 'rare'}\n" for i in range(10)),
                    encoding="utf-8")
    from classify.errors import CorpusError

    with pytest.raises(CorpusError, match="label 'rare' has 2 examples, fewer than the 5 folds"):
        make_folds(load_corpus(path), 5)


# -- cv ---------------------------------------------------------------------------------------------------
def test_cv_json_reports_mean_and_std_of_every_metric(cli):
    code, out, _ = cli("cv", TINY, "--folds", "3", "--format", "json", "-q")
    assert code == 0
    data = json.loads(out)
    assert data["folds"] == 3 and data["n_documents"] == 36
    for name, kind in (("topics", "multi"), ("sentiment", "single")):
        task = data["tasks"][name]
        assert task["type"] == kind and task["n"] == 36  # every document is tested exactly once
        for key in ("accuracy", "macro_f1", "micro_f1", "weighted_f1"):
            folds = [m[key] for m in data["per_fold"][name]]
            assert task[key]["mean"] == pytest.approx(np.mean(folds), abs=1e-4)
            assert task[key]["std"] == pytest.approx(np.std(folds), abs=1e-4)
        assert set(task["per_label"]) >= {"negative", "neutral", "positive"} or set(task["per_label"]) >= {
            "devices", "operators", "customer_relations"}
        assert sum(v["support"] for v in task["per_label"].values()) >= 36


def test_cv_same_seed_same_figures(cli):
    a = json.loads(cli("cv", TINY, "--folds", "3", "--seed", "4", "--format", "json", "-q")[1])
    b = json.loads(cli("cv", TINY, "--folds", "3", "--seed", "4", "--format", "json", "-q")[1])
    assert a == b


def test_cv_ensemble_switch_reaches_the_models(cli, monkeypatch):
    """`cv --no-ensemble` cross-validates one model over all the features, the default the word+char ensemble,
    as `train` does."""
    from classify import api

    seen = []
    real = api.cross_validate

    def spy(*args, **kwargs):
        seen.append(kwargs["config"].ensemble)
        return real(*args, **kwargs)

    monkeypatch.setattr(api, "cross_validate", spy)
    default = json.loads(cli("cv", TINY, "--folds", "3", "--format", "json", "-q")[1])
    single = json.loads(cli("cv", TINY, "--folds", "3", "--no-ensemble", "--format", "json", "-q")[1])
    assert seen == [True, False]
    assert default["per_fold"] != single["per_fold"]


def test_cv_table(cli):
    code, out, _ = cli("cv", TINY, "--folds", "3", "-q")
    assert code == 0
    assert "3-fold cross-validation" in out and "macro-F1" in out and " ± " in out


@pytest.mark.parametrize("args, expected, message", [
    (["--folds", "1"], 2, "--folds must be 2 or more"),  # a usage error
    (["--folds", "13"], 1, "label 'negative' has 12 examples, fewer than the 13 folds"),
])
def test_cv_bad_input(cli, args, expected, message):
    code, _, err = cli("cv", TINY, *args, "-q")
    assert code == expected
    assert message in error_line(err)


# -- evaluate --report ------------------------------------------------------------------------------------
def _png_ok(path: Path) -> bool:
    data = path.read_bytes()
    return data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000


def test_report_files_and_golden_layout(cli, tiny_model_path, tmp_path):
    out = tmp_path / "report"
    code, stdout, err = cli("evaluate", TINY, "--model", tiny_model_path, "--report", out, "-q")
    assert code == 0
    assert f"Report: {out / 'report.md'}" in err
    names = sorted(p.name for p in out.iterdir())
    assert names == ["confusion-sentiment.png", "metrics.json", "per-label-sentiment.png", "per-label-topics.png",
                     "pr-curves-topics.png", "reliability-sentiment.png", "reliability-topics.png", "report.md"]
    assert all(_png_ok(out / n) for n in names if n.endswith(".png"))
    code, as_json, _ = cli("evaluate", TINY, "--model", tiny_model_path, "--format", "json", "-q")
    assert json.loads((out / "metrics.json").read_text(encoding="utf-8")) == json.loads(as_json)
    report = (out / "report.md").read_text(encoding="utf-8")
    golden = GOLDEN / "report.md"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(report, encoding="utf-8")
    assert report == golden.read_text(encoding="utf-8")


def test_report_is_reproducible(cli, tiny_model_path, tmp_path):
    for name in ("a", "b"):
        assert cli("evaluate", TINY, "--model", tiny_model_path, "--report", tmp_path / name, "-q")[0] == 0
    for path in (tmp_path / "a").iterdir():
        assert path.read_bytes() == (tmp_path / "b" / path.name).read_bytes(), path.name


def test_report_into_a_file_path_fails_cleanly(cli, tiny_model_path, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, err = cli("evaluate", TINY, "--model", tiny_model_path, "--report", blocker / "sub", "-q")
    assert code == 1
    assert "cannot create the report folder" in error_line(err)


# -- explain ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def marker_model(tmp_path_factory):
    """A model where `zorglub` only ever occurs in `alpha` documents and `plouf` only in `beta` ones."""
    from classify.api import train
    from classify.model import ModelConfig

    tmp = tmp_path_factory.mktemp("marker")
    rows = [(f"zorglub texte commun numero {i} et encore", "alpha") for i in range(12)]
    rows += [(f"plouf texte commun numero {i} et encore", "beta") for i in range(12)]
    path = tmp / "c.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["text", "label"])
        w.writerows(rows)
    out = tmp / "m.joblib"
    train(path, out, config=ModelConfig(cv_folds=3, char=False))
    return out


def test_explain_finds_the_marker_words(cli, marker_model):
    code, out, _ = cli("explain", marker_model, "--format", "json", "--top", "3")
    assert code == 0
    data = json.loads(out)["label"]
    assert data["alpha"]["towards"][0][0] == "zorglub"
    assert data["alpha"]["against"][0][0] == "plouf"
    assert data["beta"]["towards"][0][0] == "plouf"
    for side in data.values():
        weights = [w for _, w in side["towards"]]
        assert weights == sorted(weights, reverse=True) and all(w > 0 for w in weights)
        assert all(w < 0 for _, w in side["against"])


def test_explain_table_and_filters(cli, tiny_model):
    code, out, _ = cli("explain", tiny_model, "--task", "sentiment", "--label", "positive", "--top", "4")
    assert code == 0
    assert "task sentiment, label positive" in out and "towards" in out and "against" in out
    assert "label negative" not in out and "task topics" not in out


@pytest.mark.parametrize("args, message", [
    (["--task", "nope"], "--task 'nope' is not a task of this model; its tasks: topics, sentiment"),
    (["--task", "topics", "--label", "positive"], "--label 'positive' is not a label of task 'topics'"),
    (["--top", "0"], "--top must be 1 or more"),
])
def test_explain_bad_input(cli, tiny_model, args, message):
    code, _, err = cli("explain", tiny_model, *args)
    assert code == (2 if args[0] == "--top" else 1)  # --top 0: a usage error
    assert message in error_line(err)


def test_predict_explain_names_the_evidence(cli, marker_model):
    code, out, _ = cli("predict", "-", "--model", marker_model, "--format", "jsonl", "--explain", "--explain-top", "2",
                       input="un texte avec zorglub dedans\n")
    assert code == 0
    record = json.loads(out)
    assert record["label"] == "alpha"
    evidence = record["explanation"]["label"]["alpha"]
    assert evidence[0][0] == "zorglub" and len(evidence) <= 2
    assert all(c > 0 for _, c in evidence)


def test_predict_explain_in_csv_and_table(cli, tiny_model):
    code, out, _ = cli("predict", "-", "--model", tiny_model, "--format", "csv", "--explain",
                       input="Le service client ne répond jamais\n")
    assert code == 0
    rows = list(csv.DictReader(out.splitlines()))
    assert rows[0]["explanation"].count(":") >= 1
    code, out, _ = cli("predict", "-", "--model", tiny_model, "--explain", input="Le service client ne répond jamais\n")
    assert code == 0 and "evidence" in out.splitlines()[0]


# -- compare ----------------------------------------------------------------------------------------------
def test_compare_a_model_with_itself_changes_nothing(cli, tiny_model_path):
    code, out, _ = cli("compare", tiny_model_path, tiny_model_path, TINY, "--format", "json", "-q")
    assert code == 0
    data = json.loads(out)
    for task in data["tasks"].values():
        assert task["changed"]["n"] == 0
        assert all(v["diff"] == 0 for v in task["metrics"].values())


def test_compare_lists_changed_documents_with_who_was_right(cli, tiny_model_path, tmp_path):
    other = tmp_path / "other.joblib"
    assert cli("train", TINY, "--out", other, "--classifier", "sgd", "--C", "0.01", "--cv", "3", "-q")[0] == 0
    code, out, _ = cli("compare", tiny_model_path, other, TINY, "--format", "json", "-q")
    assert code == 0
    data = json.loads(out)
    truth = {row["id"]: row for row in csv.DictReader(open(TINY, encoding="utf-8"))}
    changed = [d for t in data["tasks"].values() for d in t["changed"]["documents"]]
    assert changed, "a heavily regularised SGD model should disagree somewhere"
    for name, task in data["tasks"].items():
        for d in task["changed"]["documents"]:
            assert d["a"] != d["b"]
            ref = truth[d["id"]][name]
            ref = sorted(x for x in ref.split(";") if x) if task["type"] == "multi" else ref
            key = sorted if task["type"] == "multi" else (lambda v: v)
            expected = "a" if key(d["a"]) == ref else "b" if key(d["b"]) == ref else "neither"
            assert d["right"] == expected
        m = task["metrics"]["macro_f1"]
        assert m["diff"] == pytest.approx(m["b"] - m["a"], abs=1e-4)
    code, out, _ = cli("compare", tiny_model_path, other, TINY, "-q")
    assert code == 0 and "B - A" in out and "changed prediction" in out


def test_compare_bad_model(cli, tiny_model_path, tmp_path):
    code, _, err = cli("compare", tiny_model_path, tmp_path / "missing.joblib", TINY)
    assert code == 1
    assert "missing.joblib" in error_line(err)


# -- make eval's split -------------------------------------------------------------------------------------
def test_held_out_split_is_stratified_and_complete(tmp_path):
    r = _run_module("split", TINY, "--test", "0.25", "--out", tmp_path)
    assert r.returncode == 0, r.stderr
    train = list(csv.DictReader(open(tmp_path / "train.csv", encoding="utf-8")))
    test = list(csv.DictReader(open(tmp_path / "test.csv", encoding="utf-8")))
    assert len(train) + len(test) == 36 and abs(len(test) - 9) <= 1  # 25 %, to a document
    assert sorted(r["id"] for r in train + test) == sorted(r["id"] for r in csv.DictReader(open(TINY, encoding="utf-8")))
    assert {r["sentiment"] for r in test} == {"negative", "neutral", "positive"}


def _run_module(*args):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "tools.bench", *map(str, args)], capture_output=True, text=True)


def test_bench_skips_cleanly_without_benchmarks(tmp_path):
    r = _run_module("run", "--benchmarks", tmp_path / "absent", "--out", tmp_path / "reports")
    assert r.returncode == 0
    assert "No benchmarks at" in r.stderr
    assert not (tmp_path / "reports").exists()
