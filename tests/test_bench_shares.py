"""`python -m tools.bench shares` (make eval-shares), on the tiny corpus: the pieces run and report."""

import csv

import numpy as np

from .conftest import TINY


def _real_file(tmp_path, copies=4):
    rows = list(csv.DictReader(open(TINY, encoding="utf-8")))
    path = tmp_path / "real-test.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["id", "text", "topics", "sentiment"])
        writer.writeheader()
        for copy in range(copies):
            for row in rows:
                writer.writerow({**row, "id": f"{row['id']}-{copy}"})
    return path


def test_skewed_resamples_and_real_set(tiny_model_path, tmp_path):
    from classify import api
    from tools import bench_shares

    loaded = api.load(tiny_model_path)
    rows = list(csv.DictReader(open(TINY, encoding="utf-8")))
    task = loaded.model.tasks_["sentiment"]
    P = loaded.model.predict_scores([r["text"] for r in rows])["sentiment"]
    y = np.array([task.labels.index(r["sentiment"]) for r in rows])
    result = bench_shares.skewed_resamples(loaded, P, y, resamples=20, seeds=2, size=30)
    assert set(result) == {"80/10/10", "10/80/10", "10/10/80"}
    for r in result.values():
        assert set(r) == {"cc", "acc", "em", "pcc", "pacc", "acc_own_rates", "acc_pooled", "em_pooled", "em_uncalibrated",
                          "adapt_accuracy"}
        assert all(0 <= r[n]["mae"] <= 1 and 0 <= r[n].get("coverage", 0) <= 1
                   for n in ("cc", "acc", "em", "pcc", "pacc", "acc_own_rates"))
        assert 0 <= r["adapt_accuracy"]["without"] <= 1 and 0 <= r["adapt_accuracy"]["with"] <= 1
    real = bench_shares.real_set(loaded, _real_file(tmp_path), resamples=20)
    assert real["n"] == 144 and real["negative_share"] == round(1 / 3, 4)
    assert set(real["estimates"]) >= {"cc", "acc", "em"}
    assert real["accuracy"]["without"] == 1.0  # the tiny model fits its corpus
    data = {"commit": "x", "date": "d", "machine": {"cpus": 2, "python": "3"}, "corpus": "c", "vectors": False,
            "held_out": 36, "seeds": 2, "size": 30, "resamples": 20, "skewed": result,
            "balanced": {"sentiment": real["accuracy"]}, "real": real,
            "timing": {"documents": 10, "source": "s", "predict_s": 1.0, "shares_s": 1.1, "ratio": 1.1}}
    text = bench_shares.render(data)
    assert "| 80/10/10 |" in text and "negative share 33.3 %" in text and "ratio 1.10" in text
    assert real["accuracy"]["adjusted"] in ([True], [False]) and 0 <= real["accuracy"]["p_values"][0] <= 1
    decided = "adjusted" if real["accuracy"]["adjusted"][0] else "kept"
    assert f"points; {decided}, p " in text and f"| +0.00 | {decided}, p " in text
    # a model of several sources: how ACC's strata split the resamples, and ACC as models saved before gave it
    result["10/10/80"]["cc"]["mae"] = 0.1  # (the tiny model's counts are exact)
    result["10/10/80"].update({"sources": {"message": 0.2, "written": 0.8}, "acc_mixed": {"mae": 0.05},
                               "taken_for": {"message": 0.1, "written": 0.9}, "acc_written": {"mae": 0.04},
                               "acc_taken": {"mae": 0.06}})
    text = bench_shares.render(data)
    assert "10/10/80 message 10.0 % / written 90.0 %" in text and "estimated source mix (models" in text
    assert "per source the documents are taken for instead of per group (models saved before the groups): " \
           "10/10/80 6.00 (0.60)" in text
    data["real"], data["real_note"] = None, "seeds/real-test.csv does not exist yet"
    assert "does not exist yet" in bench_shares.render(data)


def test_timing_file_has_distinct_documents(tmp_path):
    from tools.bench_shares import _timing_file

    path = tmp_path / "t.csv"
    _timing_file(["un deux trois quatre", "cinq six sept huit"], path, 6)
    rows = list(csv.DictReader(open(path, encoding="utf-8")))
    assert len(rows) == 6 and rows[0]["text"] == "un deux trois quatre"
    assert sorted(rows[2]["text"].split()) == sorted("un deux trois quatre".split())
