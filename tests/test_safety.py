"""Model files are code: SHA-256 records, --trust, skops export; and no model is ever lost."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from classify.errors import ModelFileError
from classify.persist import file_sha256, load_model, read_payload, sidecar, write_payload

from .conftest import TINY
from .test_cli import _run, error_line


def test_training_records_the_sha256_beside_the_model(cli, tmp_path):
    out = tmp_path / "m.joblib"
    code, _, err = cli("train", TINY, "--out", out, "--cv", "3")
    assert code == 0
    digest = file_sha256(out)
    assert sidecar(out).read_text() == f"{digest}  m.joblib\n"  # sha256sum -c reads it
    assert f"sha256 {digest}" in err  # and the training log says it
    r = subprocess.run(["sha256sum", "-c", sidecar(out).name], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0


def test_a_model_without_record_is_refused_unless_trusted(cli, tiny_model):
    sidecar(tiny_model).unlink()
    for command in (["predict", "-", "--model", tiny_model], ["evaluate", TINY, "--model", tiny_model],
                    ["info", tiny_model], ["explain", tiny_model]):
        code, out, err = cli(*command, input="texte\n")
        assert code == 1, command
        assert "has no SHA-256 record" in error_line(err) and "--trust" in error_line(err)
        assert out == ""
        code, out, err = cli(*command, "--trust", input="texte\n")
        assert code == 0, (command, err)


def test_a_modified_model_is_refused(cli, tiny_model):
    payload = read_payload(tiny_model)
    payload["provenance"]["created_at"] = "tampered"
    with open(tiny_model, "wb") as handle:
        write_payload(payload, handle)
    code, _, err = cli("info", tiny_model)
    assert code == 1
    assert "does not match its SHA-256 record" in error_line(err)
    code, out, _ = cli("info", tiny_model, "--trust", "--format", "json")
    assert code == 0 and json.loads(out)["created_at"] == "tampered"


def test_export_to_skops_predicts_exactly_like_the_original(cli, tiny_model, tmp_path):
    out = tmp_path / "shared" / "tiny.skops"
    code, _, err = cli("export", tiny_model, "--to", out)
    assert code == 0 and f"Exported {out}" in err
    text = "Le service client de Free ne répond plus\nSuperbe écran pour ce Pixel\nRecette de la tarte\n"
    a = cli("predict", "-", "--model", tiny_model, "--format", "jsonl", input=text)[1]
    b = cli("predict", "-", "--model", out, "--format", "jsonl", input=text)[1]
    assert a == b and len(a.splitlines()) == 3
    original, _ = load_model(tiny_model)
    exported, provenance = load_model(out)
    assert provenance == load_model(tiny_model)[1]
    assert type(exported).__name__ == type(original).__name__


def test_skops_file_with_foreign_types_is_refused(tmp_path):
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    path = tmp_path / "foreign.skops"
    sio.dump({"format": "classify-model", "model": Pipeline([("m", LogisticRegression())]),
              "hook": sys.modules[__name__].test_skops_file_with_foreign_types_is_refused}, path)
    with pytest.raises(ModelFileError, match="contains types classify does not trust"):
        load_model(path)


def test_export_bad_input(cli, tiny_model, tmp_path):
    code, _, err = cli("export", tiny_model, "--to", tmp_path / "x.joblib")
    assert code == 1 and "must end in .skops" in error_line(err)
    code, _, err = cli("export", tmp_path / "missing.joblib", "--to", tmp_path / "x.skops")
    assert code == 1 and "no model at" in error_line(err)
    assert not (tmp_path / "x.skops").exists()


# -- never lose a model ------------------------------------------------------------------------------------
def _big_corpus(tmp_path, n=2000):
    import csv

    rows = list(csv.DictReader(open(TINY, encoding="utf-8")))
    path = tmp_path / "big.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["text", "topics", "sentiment"])
        for i in range(n):
            r = rows[i % len(rows)]
            w.writerow([f"{r['text']} variante {i} mot{i % 97} autre{i % 31}", r["topics"], r["sentiment"]])
    return path


def test_sigkill_during_training_leaves_the_previous_model_intact(tmp_path):
    exe = os.path.join(os.path.dirname(sys.executable), "classify")
    model = tmp_path / "m.joblib"
    assert _run("train", TINY, "--out", model, "--cv", "3").returncode == 0
    before, record = model.read_bytes(), sidecar(model).read_bytes()
    corpus = _big_corpus(tmp_path)
    interrupted = 0
    for delay in (0.4, 1.2, 2.5, 4):
        proc = subprocess.Popen([exe, "train", str(corpus), "--out", str(model), "--cv", "3", "-q"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        # whenever the kill lands (even after the rename, while the interpreter shuts down), the path holds
        # a complete model that matches its record: the previous one or the new one, nothing in between
        load_model(model)
        if model.read_bytes() == before:
            assert sidecar(model).read_bytes() == record, delay
            interrupted += 1
        before, record = model.read_bytes(), sidecar(model).read_bytes()
    assert interrupted > 0, "training always finished before the kill: the test did not test anything"
    # the temporaries of killed trainings are cleaned by the next training
    assert _run("train", TINY, "--out", model, "--cv", "3").returncode == 0
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_killed_between_the_two_renames_the_new_model_matches_its_record(tiny_model, monkeypatch):
    """Model and record are two files: a training stopped after the model's rename and before the record's
    still leaves a pair that loads (the record lists both digests during the switch)."""
    from classify import persist

    real_replace = os.replace
    calls = []

    def stop_before_the_final_record(src, dst):
        calls.append(Path(dst).name)
        if len(calls) == 3:  # transitional record, model, then the final record: stop there
            raise KeyboardInterrupt
        real_replace(src, dst)

    before = tiny_model.read_bytes()
    model, provenance = load_model(tiny_model)
    provenance = dict(provenance, training_seconds=provenance["training_seconds"] + 1)
    monkeypatch.setattr(persist.os, "replace", stop_before_the_final_record)
    with pytest.raises(KeyboardInterrupt):
        persist.save_model(model, provenance, tiny_model)
    monkeypatch.undo()
    assert calls == [tiny_model.name + ".sha256", tiny_model.name, tiny_model.name + ".sha256"]
    assert tiny_model.read_bytes() != before
    assert load_model(tiny_model)[1]["training_seconds"] == provenance["training_seconds"]


def test_two_trainings_on_the_same_path_end_with_one_complete_model(tmp_path):
    exe = os.path.join(os.path.dirname(sys.executable), "classify")
    model = tmp_path / "m.joblib"
    other = tmp_path / "other.csv"
    shutil.copy(TINY, other)
    procs = [subprocess.Popen([exe, "train", str(c), "--out", str(model), "--cv", "3", "-q"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for c in (TINY, other)]
    for p in procs:
        assert p.wait() == 0, p.stderr.read()
    _, provenance = load_model(model)  # verifies the record matches the model
    assert provenance["corpus"]["path"] in (str(TINY), str(other))


def test_read_only_folder_keeps_previous_model(cli, tiny_model, monkeypatch):
    # simulated: the tests may run as root, whom file permissions do not stop
    import tempfile

    def read_only(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    before = tiny_model.read_bytes()
    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    code, _, err = cli("train", TINY, "--out", tiny_model, "--cv", "3", "-q")
    assert code == 1
    assert error_line(err) == f"Error: cannot write {tiny_model} (Permission denied); the previous model is untouched."
    assert tiny_model.read_bytes() == before


def test_the_model_stores_no_training_text(tiny_model_path):
    """Only the vocabularies (n-grams seen in 2+ documents) are kept: no document, no `stop_words_`
    (CVE-2024-5206: scikit-learn < 1.5 stored every pruned term there)."""
    import csv
    import pickle

    import sklearn

    assert tuple(int(x) for x in sklearn.__version__.split(".")[:2]) >= (1, 5)
    model, _ = load_model(tiny_model_path)
    for _, vectorizer in model.features_.transformer_list:
        assert not hasattr(vectorizer, "stop_words_")
    blob = pickle.dumps(model)
    texts = [row["text"] for row in csv.DictReader(open(TINY, encoding="utf-8"))]
    for text in texts:
        for fragment in (text, text.lower(), text[:40]):
            assert fragment.encode("utf-8") not in blob, fragment
