"""`classify shares` and `predict --adapt`: happy paths, grouping, too-small groups and bad input."""

import csv
import json
import re

import pytest

from .conftest import TINY
from .test_cli import error_line

FAST = ("--resamples", "50", "-q")  # a bootstrap of 50 resamples keeps these tests quick


def _rows():
    return list(csv.DictReader(open(TINY, encoding="utf-8")))


@pytest.fixture
def batch(tmp_path):
    """tiny.csv four times over (144 documents, new ids), with a channel and a date column: July has 96
    documents, the first half of August 48."""
    path = tmp_path / "batch.csv"
    rows = _rows()
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "text", "channel", "date"])
        for copy in range(4):
            for i, row in enumerate(rows):
                day = 1 + (copy * 36 + i) * 30 // 96 if copy * 36 + i < 96 else 1 + (copy * 36 + i - 96) // 4
                month = 7 if copy * 36 + i < 96 else 8
                writer.writerow([f"{row['id']}-{copy}", row["text"], "mail" if i % 3 else "phone",
                                 f"2024-{month:02d}-{day:02d}"])
    return path


def test_shares_table(cli, tiny_model, batch):
    code, out, err = cli("shares", batch, "--model", tiny_model, *FAST)
    assert code == 0, err
    assert "sentiment (single-label): share of the documents per label" in out
    assert "topics (multi-label): share of the documents with each label" in out
    header = next(line for line in out.splitlines() if line.startswith("group"))
    assert header.split() == ["group", "n", "label", "training", "CC", "ACC", "EM"]
    assert "all    144  negative" in out
    assert "[" in out and "95% bootstrap interval, 50 resamples" in out


def test_shares_csv_and_json_agree(cli, tiny_model, batch):
    code, out, _ = cli("shares", batch, "--model", tiny_model, "--format", "csv", *FAST)
    assert code == 0
    rows = list(csv.DictReader(out.splitlines()))
    assert {(r["task"], r["label"]) for r in rows} == {("sentiment", "negative"), ("sentiment", "neutral"),
                                                      ("sentiment", "positive"), ("topics", "customer_relations"),
                                                      ("topics", "devices"), ("topics", "operators")}
    code, out, _ = cli("shares", batch, "--model", tiny_model, "--format", "json", *FAST)
    data = json.loads(out)
    assert data["n_documents"] == 144 and data["resamples"] == 50 and data["fingerprint"]
    (group,) = data["groups"]
    sentiment = group["tasks"]["sentiment"]["labels"]
    for estimator in ("cc", "acc", "em", "pcc", "pacc"):
        assert sum(sentiment[label][estimator]["share"] for label in sentiment) == pytest.approx(1, abs=1e-3)
        for entry in sentiment.values():
            assert entry[estimator]["low"] <= entry[estimator]["share"] + 1e-9 <= entry[estimator]["high"] + 2e-9
    by_csv = {(r["task"], r["label"]): float(r["em"]) for r in rows}
    assert by_csv[("sentiment", "negative")] == sentiment["negative"]["em"]["share"]
    # tiny.csv is balanced and the model fits it: every estimate is close to a third
    assert all(abs(sentiment[label]["em"]["share"] - 1 / 3) < 0.05 for label in sentiment)


def test_shares_are_reproducible(cli, tiny_model, batch):
    outs = [cli("shares", batch, "--model", tiny_model, "--format", "json", *FAST)[1] for _ in range(2)]
    assert outs[0] == outs[1]
    other = cli("shares", batch, "--model", tiny_model, "--format", "json", "--seed", "1", *FAST)[1]
    assert other != outs[0]  # the seed drives the bootstrap


def test_shares_by_column(cli, tiny_model, batch):
    code, out, err = cli("shares", batch, "--model", tiny_model, "--by", "channel", "--format", "json",
                         "--min-documents", "20", *FAST)
    assert code == 0, err
    groups = {g["name"]: g for g in json.loads(out)["groups"]}
    assert set(groups) == {"mail", "phone"}
    assert groups["mail"]["n"] == 96 and groups["phone"]["n"] == 48 and groups["phone"]["by"] == "phone"


def test_shares_by_period_and_too_small_row(cli, tiny_model, batch, tmp_path):
    code, out, err = cli("shares", batch, "--model", tiny_model, "--date-column", "date", "--every", "month",
                         "--format", "json", "--min-documents", "50", *FAST)
    assert code == 0, err
    data = json.loads(out)
    july, august = data["groups"]
    assert (july["period"], july["start"], july["n"], july["status"]) == ("2024-07", "2024-07-01", 96, "ok")
    assert (august["period"], august["n"], august["status"]) == ("2024-08", 48, "too small")
    assert "tasks" not in august and any("fewer than 50 documents" in note for note in data["notes"])
    code, out, _ = cli("shares", batch, "--model", tiny_model, "--date-column", "date", "--min-documents", "50", *FAST)
    assert code == 0 and re.search(r"^2024-08 +48  too small \(under 50 documents\)$", out, re.M), out
    code, out, _ = cli("shares", batch, "--model", tiny_model, "--date-column", "date", "--every", "week",
                       "--format", "csv", "--min-documents", "1", *FAST)
    assert code == 0
    periods = [r["period"] for r in csv.DictReader(out.splitlines())]
    assert periods[0] == "2024-W27" and periods == sorted(periods)  # 1 July 2024 is a Monday of ISO week 27


def test_shares_plot(cli, tiny_model, batch, tmp_path):
    png = tmp_path / "shares.png"
    code, _, err = cli("shares", batch, "--model", tiny_model, "--date-column", "date", "--every", "week",
                       "--min-documents", "20", "--plot", png, *FAST)
    assert code == 0, err
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
    assert f"Plot: {png}" in err
    code, _, err = cli("shares", batch, "--model", tiny_model, "--by", "channel", "--min-documents", "20",
                       "--plot", tmp_path / "by.png", *FAST)
    assert code == 0, err and (tmp_path / "by.png").exists()


def test_shares_from_predictions_jsonl(cli, tiny_model, batch, tmp_path):
    code, out, _ = cli("predict", batch, "--model", tiny_model, "--format", "jsonl", "--with-model", "-q")
    assert code == 0
    assert all(json.loads(line)["model"] for line in out.splitlines())
    predictions = tmp_path / "predictions.jsonl"
    predictions.write_text(out, encoding="utf-8")
    _, from_texts, _ = cli("shares", batch, "--model", tiny_model, "--format", "json", *FAST)
    code, from_file, err = cli("shares", predictions, "--model", tiny_model, "--format", "json", *FAST)
    assert code == 0, err
    a, b = (json.loads(x)["groups"][0]["tasks"] for x in (from_texts, from_file))
    for task in a:
        for label in a[task]["labels"]:
            assert a[task]["labels"][label]["cc"]["share"] == b[task]["labels"][label]["cc"]["share"]
            assert a[task]["labels"][label]["em"]["share"] == pytest.approx(b[task]["labels"][label]["em"]["share"], abs=2e-3)


# -- bad input ---------------------------------------------------------------------------------------------
def test_shares_unparseable_date(cli, tiny_model, batch, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(batch.read_text(encoding="utf-8").replace("2024-07-05", "hier", 1), encoding="utf-8")
    code, _, err = cli("shares", bad, "--model", tiny_model, "--date-column", "date", *FAST)
    assert code == 1
    line = error_line(err)
    assert "--date-column 'date'" in line and "'hier'" in line and "is not a date" in line


def test_shares_missing_by_column(cli, tiny_model, batch):
    code, _, err = cli("shares", batch, "--model", tiny_model, "--by", "chanel", *FAST)
    assert code == 1
    line = error_line(err)
    assert "batch.csv has no column 'chanel'" in line and "Did you mean 'channel'?" in line and "--by" in line


def test_shares_by_needs_a_table(cli, tiny_model, tmp_path):
    (tmp_path / "a.txt").write_text("Le réseau est en panne.", encoding="utf-8")
    code, _, err = cli("shares", tmp_path / "a.txt", "--model", tiny_model, "--by", "channel", *FAST)
    assert code == 1 and "a.txt is a text file" in error_line(err)


def test_shares_every_without_date_column_is_a_usage_error(cli, tiny_model, batch):
    code, _, err = cli("shares", batch, "--model", tiny_model, "--every", "week")
    assert code == 2 and "--date-column" in err


def _predictions(cli, model, batch, tmp_path, *extra):
    code, out, _ = cli("predict", batch, "--model", model, "--format", "jsonl", "-q", *extra)
    assert code == 0
    path = tmp_path / "p.jsonl"
    path.write_text(out, encoding="utf-8")
    return path


def test_shares_refuses_predictions_of_another_model(cli, tiny_model, batch, tmp_path):
    from classify.api import train
    from classify.model import ModelConfig

    other = tmp_path / "other.joblib"
    train(TINY, other, config=ModelConfig(cv_folds=3, C=0.1))
    path = _predictions(cli, other, batch, tmp_path, "--with-model")
    code, _, err = cli("shares", path, "--model", tiny_model, *FAST)
    assert code == 1
    assert "p.jsonl was written by another model" in error_line(err)


@pytest.mark.parametrize("extra, message", [
    ((), 'does not say which model wrote it (no "model" field)'),
    (("--with-model", "--top-k", "1"), "has no probability for"),
    (("--with-model", "--adapt"), "adjusted by `predict --adapt`"),
])
def test_shares_refuses_predictions_without_model_or_probabilities(cli, tiny_model, batch, tmp_path, extra, message):
    path = _predictions(cli, tiny_model, batch, tmp_path, *extra)
    code, _, err = cli("shares", path, "--model", tiny_model, *FAST)
    assert code == 1
    line = error_line(err)
    assert "p.jsonl" in line and message in line


def test_shares_predictions_file_has_no_other_columns(cli, tiny_model, batch, tmp_path):
    path = _predictions(cli, tiny_model, batch, tmp_path, "--with-model")
    code, _, err = cli("shares", path, "--model", tiny_model, "--by", "channel", *FAST)
    assert code == 1 and "p.jsonl has no column 'channel'" in error_line(err)


# -- predict --adapt ---------------------------------------------------------------------------------------
def test_predict_adapt(cli, tiny_model, batch):
    code, out, err = cli("predict", batch, "--model", tiny_model, "--format", "jsonl", "--adapt")
    assert code == 0, err
    assert "Label shares re-estimated on these 144 documents (EM" in err
    assert "sentiment  negative" in err and "training" in err and "this batch" in err
    records = [json.loads(line) for line in out.splitlines()]
    assert len(records) == 144 and all(r["adapted"] is True for r in records)
    for r in records:
        scores = r["scores"]["sentiment"]
        assert sum(scores.values()) == pytest.approx(1, abs=1e-3)
        assert r["sentiment"] == max(scores, key=scores.get)
        assert r["topics"] == sorted(r["topics"])


def test_predict_adapt_follows_a_skewed_batch(cli, tiny_model, tmp_path):
    """A batch of negative messages (the tiny corpus' negatives, 9 times): EM moves the negative share up,
    and no label gets less likely to be negative."""
    rows = [r for r in _rows() if r["sentiment"] == "negative"]
    path = tmp_path / "negative.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "text"])
        for copy in range(9):
            for row in rows:
                writer.writerow([f"{row['id']}-{copy}", row["text"]])
    _, plain, _ = cli("predict", path, "--model", tiny_model, "--format", "jsonl", "-q")
    code, adapted, err = cli("predict", path, "--model", tiny_model, "--format", "jsonl", "--adapt")
    assert code == 0, err
    assert "sentiment  negative" in err and "yes (p < 0.001)" in err
    before = [json.loads(line)["scores"]["sentiment"]["negative"] for line in plain.splitlines()]
    after = [json.loads(line)["scores"]["sentiment"]["negative"] for line in adapted.splitlines()]
    assert all(a >= b - 1e-4 for a, b in zip(after, before)) and sum(after) > sum(before)


def test_predict_adapt_keeps_a_batch_like_the_training_data(cli, tiny_model):
    """The tiny corpus itself, four times (144 documents): its shares are the training ones, so --adapt says
    so and keeps every probability; labels and scores are predict's own."""
    code, plain, _ = cli("predict", TINY, TINY, TINY, TINY, "--model", tiny_model, "--format", "jsonl", "-q")
    assert code == 0
    code, adapted, err = cli("predict", TINY, TINY, TINY, TINY, "--model", tiny_model, "--format", "jsonl", "--adapt")
    assert code == 0, err
    assert "likelihood-ratio test, p < 0.05" in err and "sentiment  negative" in err
    assert "yes (p" not in err and err.count("no (p = ") == 4  # sentiment, and each of the 3 topics
    strip = [{k: v for k, v in json.loads(line).items() if k != "adapted"} for line in adapted.splitlines()]
    assert strip == [json.loads(line) for line in plain.splitlines()]


def test_predict_adapt_refuses_a_small_batch(cli, tiny_model):
    code, out, err = cli("predict", TINY, "--model", tiny_model, "--adapt")
    assert code == 1 and out == ""
    line = error_line(err)
    assert "--adapt needs at least 100 readable documents" in line and "got 36" in line
    assert "sampling error" in line


def test_with_model_is_for_jsonl(cli, tiny_model):
    code, _, err = cli("predict", TINY, "--model", tiny_model, "--with-model")
    assert code == 1 and "--with-model" in error_line(err)


def test_the_fingerprint_survives_export(tiny_model, tmp_path):
    from classify import api

    skops = api.export(tiny_model, tmp_path / "m.skops")
    assert api.load(skops).fingerprint == api.load(tiny_model).fingerprint
    assert api.load(skops).model.tasks_["sentiment"].rates == api.load(tiny_model).model.tasks_["sentiment"].rates


def test_subprocess_shares(batch, tiny_model_path):
    from .test_cli import _run

    r = _run("shares", batch, "--model", tiny_model_path, "--format", "json", "--resamples", "20")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["groups"][0]["n"] == 144


def test_streaming_models_store_rates_too(tmp_path):
    from classify import api

    out = tmp_path / "s.joblib"
    api.train(TINY, out, streaming=True)
    model = api.load(out).model
    assert model.tasks_["sentiment"].rates["labels"] == ["negative", "neutral", "positive"]
    assert len(model.tasks_["topics"].rates["per_label"]) == 3


def test_a_model_saved_before_gives_the_shares_it_gave(cli, tmp_path):
    """tests/data/format-1/tiny.joblib stores the pooled rates only: CC, ACC and EM are what classify gave
    before ACC's rates were stored per source taken for, and CC's and EM's intervals too (ACC's now include
    the uncertainty of its rates, measured on 36 documents: wider)."""
    from .test_persist import FORMAT_1

    path = tmp_path / "tiny.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "text"])
        for i, row in enumerate(_rows() * 4):
            writer.writerow([i, row["text"]])
    code, out, err = cli("shares", path, "--model", FORMAT_1 / "tiny.joblib", "--format", "json", "--resamples", "200",
                         "-q")
    assert code == 0, err
    labels = json.loads(out)["groups"][0]["tasks"]["sentiment"]["labels"]
    before = {  # (CC, its interval, ACC, its interval's width, EM, its interval) as classify gave them before
        "negative": (0.3333, 0.2639, 0.4168, 0.3143, 0.2131, 0.3335, 0.2639, 0.4173),
        "neutral": (0.3333, 0.2637, 0.4097, 0.4286, 0.2503, 0.3325, 0.2624, 0.4093),
        "positive": (0.3333, 0.2569, 0.4101, 0.2571, 0.1955, 0.334, 0.2575, 0.4114),
    }
    for label, (cc, cc_low, cc_high, acc, acc_width, em, em_low, em_high) in before.items():
        e = labels[label]
        assert (e["cc"]["share"], e["cc"]["low"], e["cc"]["high"]) == (cc, cc_low, cc_high)
        assert (e["em"]["share"], e["em"]["low"], e["em"]["high"]) == (em, em_low, em_high)
        assert e["acc"]["share"] == acc
        assert e["acc"]["high"] - e["acc"]["low"] > acc_width + 0.05
