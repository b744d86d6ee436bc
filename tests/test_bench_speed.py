"""`tools/bench_speed.py` (the speed part of `make bench`), on the tiny model: each step is timed once."""

import csv

import pytest

from .conftest import TINY


def test_never_repeating_keeps_unlabelled_texts_once(tmp_path):
    from tools import bench_speed

    for name, rows in (("train.csv", [("a b", "x"), ("c d", ""), ("a b", "y")]), ("test.csv", [("c d", "x"), ("e", "y")])):
        with open(tmp_path / name, "w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["text", "label"])
            writer.writerows(rows)
    train_texts, train_labels, test_texts, test_labels, texts = bench_speed.never_repeating(tmp_path)
    assert train_labels == ["x", "y"] and test_texts == ["c d", "e"]
    assert texts == ["a b", "c d", "e"]  # each text once, labelled or not, in file order


@pytest.mark.parametrize("pure", ["0", "1"])
def test_steps_cover_every_block_and_add_up(tiny_model_path, monkeypatch, pure):
    from classify import api
    from tools import bench_speed

    monkeypatch.setenv("CLASSIFY_PURE_PYTHON", pure)
    texts = [row["text"] for row in csv.DictReader(open(TINY, encoding="utf-8"))]
    steps = bench_speed.steps(tiny_model_path, texts)
    blocks = [name for name, _ in api.load(tiny_model_path).model.features_.transformer_list]
    # on the compiled core the kernel scores each text as it counts it; the Python path builds the matrix
    scoring = ({"features, linear layers and calibration (compiled kernel, no matrix)"} if pure == "0" else
               {"features: every block and the matrix (Python)", "linear layers and calibration"})
    assert {"read table (CSV to documents)", "normalisation", "language model (loaded once)", "language check",
            "records", "JSONL writer"} | scoring <= set(steps)
    assert not {"features: every block and the matrix (compiled kernel)", "linear layers and calibration"
                if pure == "0" else "features, linear layers and calibration (compiled kernel, no matrix)"} & set(steps)
    # each block is either in the compiled kernel's pass or timed by itself in Python
    kernel = "of which the compiled kernel (word, char and lexicon blocks)"
    in_python = {name for name in blocks if f"of which block {name} (Python)" in steps}
    assert (kernel in steps) == (pure == "0")
    assert in_python == (set(blocks) if pure == "1" else set(blocks) - {"word", "char", "lexicon"})
    assert all(v >= 0 for v in steps.values())
    counted = [v for k, v in steps.items() if k != "total" and not k.startswith("of which")]
    assert abs(steps["total"] - sum(counted)) < 0.2


def test_render_names_each_system_with_its_ratio():
    from tools import bench_speed

    rate = {"documents": 10, "seconds": 1.0, "docs_per_second": 10.0, "us_per_doc": 100000.0}
    data = {"documents": 10,
            "fasttext": {"fasttext": {"accuracy": 0.5, "train_seconds": 1.0, **rate, "docs_per_second": 20.0},
                         "fasttext-tutorial": {"accuracy": 0.7, "train_seconds": 2.0, **rate}},
            "classify": {"plain": {"accuracy": 0.8, "train_seconds": 3.0, "predict": rate, "records_jobs1": rate,
                                   "records_jobs2": rate,
                                   "cli": {"jobs1": {**rate, "one_text_seconds": 0.3, "whole_seconds": 1.3}},
                                   "steps": {"normalisation": 1.0, "total": 1.0}}}}
    text = bench_speed.render(data)
    assert "| classify (plain model), in-process `predict`, labels | 0.800 | 10 | 100000.0 | 0.50× | 1.00× |" in text
    assert "| fasttext predict loop | 0.500 | 20 |" in text
    assert "plain model 0.30 s" in text
    assert bench_speed.render({}) == ""
