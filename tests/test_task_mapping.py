"""`--task TASK=COLUMN` in evaluate, cv and compare: any labelled file scored against any model."""

import csv
import json

import pytest

from classify.corpus import parse_task_columns
from classify.errors import ConfigError

from .conftest import TINY
from .test_cli import error_line


@pytest.fixture
def benchmark(tmp_path):
    """tiny.csv as a benchmark ships it: the sentiment under `label`, no topics."""
    path = tmp_path / "benchmark.csv"
    with open(TINY, encoding="utf-8") as src, open(path, "w", newline="", encoding="utf-8") as dst:
        writer = csv.writer(dst)
        writer.writerow(["text", "label"])
        writer.writerows([row["text"], row["sentiment"]] for row in csv.DictReader(src))
    return path


def test_evaluate_maps_a_column_onto_a_task(cli, tiny_model_path, benchmark):
    code, _, err = cli("evaluate", benchmark, "--model", tiny_model_path)
    assert code == 1 and "has none of the model's tasks (topics, sentiment)" in error_line(err)
    assert "--task TASK=COLUMN (e.g. --task sentiment=label)" in error_line(
        err
    )  # the column holds sentiments
    code, out, err = cli(
        "evaluate", benchmark, "--model", tiny_model_path, "--task", "sentiment=label", "--format", "json"
    )
    assert code == 0, err
    mapped = json.loads(out)
    code, out, _ = cli(
        "evaluate", TINY, "--model", tiny_model_path, "--format", "json", "--task", "sentiment"
    )
    assert code == 0
    assert list(json.loads(out)["tasks"]) == ["sentiment"]  # --task alone: only that task
    assert mapped["tasks"] == json.loads(out)["tasks"] and mapped["n_documents"] == 36
    assert "notes" not in mapped  # the tasks not asked for are not "missing"


def test_cv_reads_a_task_from_a_column_of_another_name(cli, benchmark):
    code, out, err = cli(
        "cv", benchmark, "--folds", "3", "--task", "sentiment=label", "--format", "json", "-q"
    )
    assert code == 0, err
    mapped = json.loads(out)
    code, out, _ = cli("cv", TINY, "--folds", "3", "--label-column", "sentiment", "--format", "json", "-q")
    plain = json.loads(out)
    assert list(mapped["tasks"]) == ["sentiment"]
    assert mapped["tasks"]["sentiment"]["macro_f1"] == plain["tasks"]["sentiment"]["macro_f1"]


def test_compare_maps_columns_for_both_models(cli, tiny_model_path, benchmark):
    code, out, err = cli(
        "compare",
        tiny_model_path,
        tiny_model_path,
        benchmark,
        "--task",
        "sentiment=label",
        "--format",
        "json",
        "-q",
    )
    assert code == 0, err
    data = json.loads(out)
    assert list(data["tasks"]) == ["sentiment"] and data["tasks"]["sentiment"]["changed"]["n"] == 0


@pytest.mark.parametrize("command", ["evaluate", "compare"])
@pytest.mark.parametrize(
    "spec, message",
    [
        (
            "sentimnet=label",
            "--task 'sentimnet' is not a task of the model (its tasks: topics, sentiment). "
            "Did you mean 'sentiment'?",
        ),
        ("genre=label", "--task 'genre' is not a task of the model (its tasks: topics, sentiment)."),
        (
            "sentiment=labl",
            "has no column 'labl' (columns: text, label). Did you mean 'label'? Choose it with "
            "--task sentiment=COLUMN.",
        ),
        ("sentiment=text", "--task sentiment=text: 'text' is the text column, not labels."),
    ],
)
def test_unknown_tasks_and_columns_are_named(cli, tiny_model_path, benchmark, command, spec, message):
    models = ["--model", tiny_model_path] if command == "evaluate" else [tiny_model_path, tiny_model_path]
    args = [command, benchmark, *models] if command == "evaluate" else [command, *models, benchmark]
    code, out, err = cli(*args, "--task", spec)
    assert code == 1 and out == ""
    assert message in error_line(err)
    if "Did you mean" not in message:
        assert "Did you mean" not in error_line(err)


@pytest.mark.parametrize("spec", ["=label", "sentiment=", "a=b=c", "="])
def test_a_malformed_task_is_a_usage_error(cli, tiny_model_path, benchmark, spec):
    code, _, err = cli("evaluate", benchmark, "--model", tiny_model_path, "--task", spec)
    assert code == 2 and "is not TASK=COLUMN (e.g. --task sentiment=label)" in err


def test_parse_task_columns():
    assert parse_task_columns(["sentiment=label", " topics = themes ", "other"]) == {
        "sentiment": "label",
        "topics": "themes",
        "other": "other",
    }
    assert parse_task_columns(None) == {}
    with pytest.raises(ConfigError, match="given twice"):
        parse_task_columns(["sentiment=a", "sentiment=b"])


def test_cv_task_and_label_column_together(cli, tmp_path):
    path = tmp_path / "c.csv"
    with open(TINY, encoding="utf-8") as src, open(path, "w", newline="", encoding="utf-8") as dst:
        writer = csv.writer(dst)
        writer.writerow(["text", "themes", "label"])
        writer.writerows([row["text"], row["topics"], row["sentiment"]] for row in csv.DictReader(src))
    code, out, err = cli(
        "cv",
        path,
        "--folds",
        "3",
        "--task",
        "sentiment=label",
        "--task",
        "topics=themes",
        "--format",
        "json",
        "-q",
    )
    assert code == 0, err
    tasks = json.loads(out)["tasks"]
    assert tasks["topics"]["type"] == "multi" and tasks["sentiment"]["type"] == "single"
    code, _, err = cli("cv", path, "--folds", "3", "--label-column", "label", "--task", "label=themes")
    assert code == 1 and "task 'label' is both the column 'label' and --task label=themes" in error_line(err)
