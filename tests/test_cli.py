"""Each command four ways: --help, the happy path, bad input (exit code + message), a real subprocess."""

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import TINY

COMMANDS = ["train", "predict", "shares", "evaluate", "cv", "explain", "compare", "export", "info"]


def error_line(stderr: str) -> str:
    """The one `Error:` line, which must be the last line of stderr (progress may come before it)."""
    lines = stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("Error: ")]
    assert len(errors) == 1 and lines[-1] == errors[0], stderr
    assert "Traceback" not in stderr
    return errors[0]
ROOT = Path(__file__).resolve().parent.parent


# -- help ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("command", COMMANDS)
def test_help_explains_with_an_example(cli, command):
    code, out, _ = cli(command, "--help")
    assert code == 0
    assert "Example" in out
    assert "Usage: " in out


def test_top_level_help_lists_every_command(cli):
    code, out, _ = cli("--help")
    assert code == 0
    for command in COMMANDS:
        assert re.search(rf"^\s+{command}\s", out, re.M), command


def test_readme_and_help_list_the_same_commands(cli):
    _, out, _ = cli("--help")
    in_help = set(re.findall(r"^  (\w+)\s{2,}", out.split("Commands:")[1], re.M))
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    in_readme = set(re.findall(r"^\| `classify (\w+)", readme, re.M))
    assert in_help == in_readme == set(COMMANDS)


def test_version(cli):
    code, out, _ = cli("--version")
    assert code == 0 and out.startswith("classify ")


# -- train --------------------------------------------------------------------------------------------
def test_train_writes_model_and_summary(cli, tmp_path):
    out = tmp_path / "m.joblib"
    code, stdout, stderr = cli("train", TINY, "--out", out, "--cv", "3")
    assert code == 0, stderr
    assert out.exists()
    assert stdout == ""  # the summary is a diagnostic: stderr
    assert "Trained on 36 documents" in stderr
    assert "topics (multi-label, 36 documents)" in stderr
    assert "sentiment (single-label, 36 documents): negative 12, neutral 12, positive 12" in stderr
    assert "cross-validated: accuracy" in stderr


def test_train_default_corpus_and_path(cli):
    code, _, stderr = cli("train", "--cv", "3", "-q")
    assert code == 0, stderr
    assert Path(os.environ["CLASSIFY_MODEL"]).exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["missing.csv"], "missing.csv: no such file"),
        ([TINY, "--text-column", "body"], "no column 'body'"),
        ([TINY, "--label-column", "sentimnet"], "Did you mean 'sentiment'?"),
        ([TINY, "--multi-label", "genre"], "--multi-label 'genre' is not one of the tasks"),
    ],
)
def test_train_bad_input(cli, tmp_path, args, message):
    out = tmp_path / "m.joblib"
    code, _, stderr = cli("train", *args, "--out", out)
    assert code == 1
    assert message in error_line(stderr)
    assert not out.exists()


def test_train_usage_errors_exit_2(cli):
    assert cli("train", "--classifier", "bert")[0] == 2
    assert cli("train", "--cv", "-1")[0] == 2


def test_train_failure_keeps_previous_model(cli, tiny_model):
    before = tiny_model.read_bytes()
    code, _, stderr = cli("train", TINY, "--out", tiny_model, "--label-column", "nope")
    assert code == 1
    assert tiny_model.read_bytes() == before


# -- predict ------------------------------------------------------------------------------------------
@pytest.fixture
def docs(tmp_path):
    folder = tmp_path / "docs"
    (folder / "sub").mkdir(parents=True)
    (folder / "b.txt").write_text("Le service client de SFR ne répond jamais, c'est honteux.", encoding="utf-8")
    (folder / "a.txt").write_text("Samsung lance un nouveau téléphone pliable.", encoding="utf-8")
    (folder / "sub" / "c.txt").write_bytes("Très déçu par ma box, débit nul.".encode("cp1252"))
    (folder / "notes.md").write_text("not a .txt: ignored")
    return folder


def test_predict_folder_jsonl(cli, tiny_model, docs):
    code, out, stderr = cli("predict", docs, "--model", tiny_model, "--format", "jsonl")
    assert code == 0, stderr
    records = [json.loads(line) for line in out.splitlines()]
    assert [Path(r["id"]).relative_to(docs).as_posix() for r in records] == ["a.txt", "b.txt", "sub/c.txt"]
    for r in records:
        assert set(r) == {"id", "topics", "sentiment", "scores", "lang"}  # the stable fields of a record
        assert isinstance(r["topics"], list) and r["sentiment"] in {"negative", "neutral", "positive"}
        assert set(r["scores"]["sentiment"]) == {"negative", "neutral", "positive"}
        assert abs(sum(r["scores"]["sentiment"].values()) - 1) < 1e-3
        assert max(r["scores"]["sentiment"], key=r["scores"]["sentiment"].get) == r["sentiment"]
    assert "cp1252" in stderr  # the latin-1 file was decoded, with a note


def test_predict_table_format_is_readable(cli, tiny_model, docs):
    code, out, _ = cli("predict", docs / "a.txt", "--model", tiny_model)
    lines = out.splitlines()
    assert code == 0
    assert lines[0].split() == ["id", "topics", "sentiment"]
    assert set(lines[1]) <= {"-", " "}
    assert len(lines) == 3 and "a.txt" in lines[2]


def test_predict_csv_table_input_and_output(cli, tiny_model, tmp_path):
    table = tmp_path / "in.csv"
    table.write_text("id,text\nx1,Orange augmente ses prix\nx2,\nx3,Merci au conseiller !\n", encoding="utf-8")
    code, out, stderr = cli("predict", table, "--model", tiny_model, "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["id"] for r in rows] == ["x1", "x2", "x3"]
    assert rows[1]["error"] == "empty text" and rows[1]["sentiment"] == ""
    assert rows[0]["sentiment"] in {"negative", "neutral", "positive"}
    assert float(rows[0][f"score:sentiment:{rows[0]['sentiment']}"]) > 0.3
    assert "x2: empty text" in stderr and "1 of 3 documents could not be classified" in stderr


def test_predict_stdin_ids_and_empty_lines(cli, tiny_model):
    code, out, stderr = cli("predict", "-", "--model", tiny_model, "--format", "jsonl",
                            input="Super forfait !\n\nLa hotline est nulle\n")
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert [r["id"] for r in records] == ["stdin:1", "stdin:2", "stdin:3"]
    assert records[1]["error"] == "empty line" and records[1]["sentiment"] is None


def test_predict_top_k_and_threshold(cli, tiny_model, docs):
    _, out, _ = cli("predict", docs, "--model", tiny_model, "--format", "jsonl", "--top-k", "1",
                    "--threshold", "0")
    for r in map(json.loads, out.splitlines()):
        assert len(r["scores"]["topics"]) == 1 and len(r["scores"]["sentiment"]) == 1
        assert r["topics"] == list(r["scores"]["topics"])  # threshold 0 keeps every label, top-k cuts to 1
    _, out, _ = cli("predict", docs, "--model", tiny_model, "--format", "jsonl", "--threshold", "1")
    assert all(json.loads(line)["topics"] == [] for line in out.splitlines())


def test_predict_binary_file_reported_not_dropped(cli, tiny_model, docs):
    (docs / "scan.txt").write_bytes(b"%PDF-1.4\x00\x01binary")
    code, out, stderr = cli("predict", docs, "--model", tiny_model, "--format", "jsonl")
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 1 and len(records) == 4  # every record written, then exit 1 as cat and grep do (issue 23)
    bad = [r for r in records if r.get("error")]
    assert len(bad) == 1 and "binary" in bad[0]["error"]
    assert "1 of 4 documents could not be classified" in stderr
    code, out, stderr = cli("predict", docs, "--model", tiny_model, "--format", "jsonl", "--strict")
    assert code == 1 and "scan.txt" in error_line(stderr)


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["nothere.txt"], 1, "nothere.txt: no such file or folder"),
        (["{docs}", "--threshold", "1.5"], 1, "--threshold must be between 0 and 1, got 1.5"),
        (["{docs}", "--top-k", "0"], 2, "--top-k must be 1 or more, got 0"),
        (["{docs}", "--model", "{tmp}/none.joblib"], 1, "no model at"),
        (["{tmp}/empty"], 1, "no document found"),
        (["{docs}", "--format", "xml"], 2, "xml"),
    ],
)
def test_predict_bad_input(cli, tiny_model, docs, tmp_path, args, code, message):
    (tmp_path / "empty").mkdir()
    args = [a.format(docs=docs, tmp=tmp_path) for a in args]
    if "--model" not in args:
        args += ["--model", str(tiny_model)]
    got, out, stderr = cli("predict", *args)
    assert got == code
    assert message in stderr
    if code == 1:
        assert message in error_line(stderr)
        assert out == ""


def test_predict_with_a_file_that_is_not_a_model(cli, docs, tmp_path):
    fake = tmp_path / "fake.joblib"
    fake.write_text("not a model")
    code, _, stderr = cli("predict", docs, "--model", fake)
    assert code == 1 and "has no SHA-256 record" in error_line(stderr)
    code, _, stderr = cli("predict", docs, "--model", fake, "--trust")
    assert code == 1 and "not a classify model" in error_line(stderr)


# -- evaluate -----------------------------------------------------------------------------------------
def test_evaluate_json_schema(cli, tiny_model):
    code, out, _ = cli("evaluate", TINY, "--model", tiny_model, "--format", "json")
    assert code == 0
    report = json.loads(out)
    assert report["n_documents"] == 36
    assert set(report["tasks"]) == {"topics", "sentiment"}
    single, multi = report["tasks"]["sentiment"], report["tasks"]["topics"]
    assert single["type"] == "single" and multi["type"] == "multi"
    for m in (single, multi):
        assert {"n", "accuracy", "macro_f1", "micro_f1", "weighted_f1", "per_label", "confusion_matrix"} <= set(m)
        for key in ("accuracy", "macro_f1", "micro_f1", "weighted_f1"):
            assert 0 <= m[key] <= 1
        for v in m["per_label"].values():
            assert set(v) == {"precision", "recall", "f1", "support"}
    assert single["confusion_matrix"]["labels"] == ["negative", "neutral", "positive"]
    assert sum(map(sum, single["confusion_matrix"]["matrix"])) == 36
    assert len(multi["confusion_matrix"]["matrix"]) == 3
    assert all(sum(map(sum, cm)) == 36 for cm in multi["confusion_matrix"]["matrix"])


def test_evaluate_table(cli, tiny_model):
    code, out, _ = cli("evaluate", TINY, "--model", tiny_model)
    assert code == 0
    assert "task sentiment (single-label, 36 documents)" in out
    assert "confusion matrix" in out


def test_evaluate_unseen_labels_reported(cli, tiny_model, tmp_path):
    path = tmp_path / "new.csv"
    path.write_text("text,sentiment\nGénial !,positive\nBof,mitigé\n", encoding="utf-8")
    code, out, _ = cli("evaluate", path, "--model", tiny_model, "--format", "json")
    assert code == 0
    report = json.loads(out)
    assert report["tasks"]["sentiment"]["unseen_labels"] == ["mitigé"]
    assert list(report["tasks"]) == ["sentiment"]


@pytest.mark.parametrize(
    "content, message",
    [
        ("text,genre\na,b\n", "none of the model's tasks"),
        ("body,sentiment\na,b\n", "no column 'text'"),
    ],
)
def test_evaluate_bad_input(cli, tiny_model, tmp_path, content, message):
    path = tmp_path / "c.csv"
    path.write_text(content)
    code, out, stderr = cli("evaluate", path, "--model", tiny_model)
    assert code == 1 and message in error_line(stderr) and out == ""


# -- info ---------------------------------------------------------------------------------------------
def test_info_json_and_table(cli, tiny_model):
    code, out, _ = cli("info", tiny_model, "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["corpus"]["n_documents"] == 36 and len(data["corpus"]["sha256"]) == 64
    assert data["tasks"]["topics"]["type"] == "multi"
    assert "scikit-learn" in data["versions"] and data["created_at"]
    assert set(data["cv_metrics"]) == {"topics", "sentiment"}
    code, out, _ = cli("info", tiny_model)
    assert code == 0 and "corpus sha256" in out and "task topics (multi-label" in out and "threshold" in out


def test_info_says_when_scores_come_from_one_held_out_fold(cli, tmp_path):
    model = tmp_path / "held.joblib"
    code, _, err = cli("train", TINY, "--out", model, "--cv", "3", "--cv-limit", "30", "-q")
    assert code == 0, err
    code, out, _ = cli("info", model)
    assert code == 0 and out.count("held-out (12 rows): ") == 2 and "cross-validated" not in out
    assert out.count(" held-out f1\n") == 2 and "cv f1" not in out
    data = json.loads(cli("info", model, "--format", "json")[1])
    assert data["config"]["cv_limit"] == 30 and data["cv_metrics"]["sentiment"]["held_out"] == 12
    refused = tmp_path / "refused.joblib"
    code, _, err = cli("train", TINY, "--out", refused, "--cv-limit", "-1", "-q")
    assert code == 2 and "--cv-limit" in err and not refused.exists()


def test_info_bad_input(cli, tmp_path):
    code, _, stderr = cli("info", tmp_path / "missing.joblib")
    assert code == 1 and error_line(stderr).startswith("Error: no model at")


# -- real subprocess runs of the installed entry point ---------------------------------------------------
def _run(*args, input=None):
    exe = Path(sys.executable).with_name("classify")
    env = {**os.environ, "TYPER_USE_RICH": "0"}
    return subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True, input=input, env=env,
                          timeout=300)


def test_subprocess_train_predict_evaluate_info(tmp_path):
    model = tmp_path / "m.joblib"
    r = _run("train", TINY, "--out", model, "--cv", "3")
    assert r.returncode == 0, r.stderr
    r = _run("predict", "-", "--model", model, "--format", "jsonl", input="Le réseau Free est en panne\n")
    assert r.returncode == 0 and json.loads(r.stdout)["id"] == "stdin:1"
    r = _run("evaluate", TINY, "--model", model, "--format", "json")
    assert r.returncode == 0 and json.loads(r.stdout)["n_documents"] == 36
    r = _run("info", model, "--format", "json")
    assert r.returncode == 0 and json.loads(r.stdout)["corpus"]["n_documents"] == 36


@pytest.mark.parametrize("command", COMMANDS)
def test_subprocess_errors_are_one_line_without_traceback(command, tmp_path):
    args = {"train": ["nope.csv"], "predict": ["nope.txt"], "shares": ["nope.csv"], "evaluate": ["nope.csv"], "cv": ["nope.csv"],
            "explain": [tmp_path / "nope.joblib"], "compare": [tmp_path / "a.joblib", tmp_path / "b.joblib", TINY],
            "export": [tmp_path / "nope.joblib", "--to", tmp_path / "x.skops"],
            "info": [tmp_path / "nope.joblib"]}[command]
    r = _run(command, *args)
    assert r.returncode == 1
    error_line(r.stderr)


def test_python_dash_m(tmp_path):
    r = subprocess.run([sys.executable, "-m", "classify", "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "predict" in r.stdout


def test_predict_with_workers_gives_the_same_records_in_the_same_order(cli, tiny_model_path, monkeypatch):
    from classify import api

    monkeypatch.setattr(api, "CHUNK", 4)  # tiny.csv becomes 9 chunks, more than the workers hold at once
    code, one, err = cli("predict", TINY, "--model", tiny_model_path, "--format", "jsonl", "-q")
    assert code == 0, err
    code, two, err = cli("predict", TINY, "--model", tiny_model_path, "--format", "jsonl", "--jobs", "2", "-q")
    assert code == 0, err
    assert two == one and len(one.splitlines()) == 36
    code, _, err = cli("predict", TINY, "--model", tiny_model_path, "--jobs", "-1")
    assert code == 2 and "--jobs" in err


def test_train_reads_the_corpus_format_from_table_format_and_still_from_format(cli, tmp_path):
    """`--table-format` names the input format in train as in predict and shares; train's old `--format`
    still works, with a warning that says the new name."""
    corpus = tmp_path / "corpus.data"
    corpus.write_bytes(TINY.read_bytes())
    code, _, err = cli("train", corpus, "--table-format", "csv", "--cv", "3", "--out", tmp_path / "a.joblib", "-q")
    assert code == 0, err
    code, _, err = cli("train", corpus, "--format", "csv", "--cv", "3", "--out", tmp_path / "b.joblib", "-q")
    assert code == 0 and "is now --table-format" in err
    code, _, err = cli("train", corpus, "--format", "csv", "--table-format", "csv", "--out", tmp_path / "c.joblib")
    assert code == 2 and "give the corpus format once" in err
