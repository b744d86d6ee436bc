"""Bad input never crashes: one `Error:` line naming the file (and row) with exit code 1 or 2 and nothing
written, or a documented handling (a warning, a record with an error) when the rest can go on."""

import csv
import json
import zipfile

import pytest

from .conftest import TINY
from .test_cli import _run, error_line

TEXT = "Le service client de Free ne répond jamais, c'est honteux."


# -- files ------------------------------------------------------------------------------------------------
@pytest.fixture
def messy_folder(tmp_path):
    """Every encoding and line ending users send, and binary files among the .txt ones."""
    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "01-utf8.txt").write_text(TEXT, encoding="utf-8")
    (folder / "02-bom.txt").write_bytes(b"\xef\xbb\xbf" + TEXT.encode("utf-8"))
    (folder / "03-utf16.txt").write_text(TEXT, encoding="utf-16")
    (folder / "04-cp1252.txt").write_bytes("Très déçu, l’écran est cassé œuvre".encode("cp1252"))
    (folder / "05-latin1.txt").write_bytes("Réseau coupé à Besançon".encode("latin-1"))
    (folder / "06-crlf.txt").write_bytes("Première ligne\r\nDeuxième ligne\r\n".encode("utf-8"))
    (folder / "07-empty.txt").write_bytes(b"")
    (folder / "08-blank.txt").write_text(" \n\t\u00a0\n", encoding="utf-8")
    (folder / "09-scan.txt").write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\x00\x00stream")
    (folder / "10-photo.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    with zipfile.ZipFile(folder / "11-archive.txt", "w") as z:
        z.writestr("a.txt", "hello")
    with open(folder / "12-huge.txt", "wb") as f:  # sparse: bigger than the limit without using the disk
        f.truncate(51 * 2**20)
    (folder / "report.pdf").write_bytes(b"%PDF-1.4 not a txt")
    return folder


def test_folder_of_mixed_encodings_and_binaries(cli, tiny_model, messy_folder):
    code, out, err = cli("predict", messy_folder, "--model", tiny_model, "--format", "jsonl")
    assert code == 1  # documented: unreadable documents reported, the rest predicted, then exit 1 (issue 23)
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["id"].rsplit("/", 1)[1] for r in records] == [f"{i:02d}-{n}.txt" for i, n in enumerate(
        ["utf8", "bom", "utf16", "cp1252", "latin1", "crlf", "empty", "blank", "scan", "photo", "archive", "huge"], 1)]
    good = {r["id"].rsplit("/", 1)[1]: r for r in records if not r.get("error")}
    assert set(good) == {"01-utf8.txt", "02-bom.txt", "03-utf16.txt", "04-cp1252.txt", "05-latin1.txt", "06-crlf.txt"}
    # the same text in UTF-8, with a BOM and in UTF-16 gets the same prediction
    assert good["01-utf8.txt"]["scores"] == good["02-bom.txt"]["scores"] == good["03-utf16.txt"]["scores"]
    errors = {r["id"].rsplit("/", 1)[1]: r["error"] for r in records if r.get("error")}
    assert errors["07-empty.txt"] == errors["08-blank.txt"] == "empty document"
    assert all("binary" in errors[n] for n in ("09-scan.txt", "10-photo.txt", "11-archive.txt"))
    assert "larger than 50 MiB" in errors["12-huge.txt"]
    assert "6 of 12 documents could not be classified" in err
    assert "04-cp1252.txt is not UTF-8: read it as cp1252" in err
    assert "1 file(s) without the .txt extension skipped (report.pdf)" in err


def test_strict_stops_at_the_first_bad_document_and_output_stays_valid(cli, tiny_model, messy_folder):
    code, out, err = cli("predict", messy_folder, "--model", tiny_model, "--format", "csv", "--strict")
    assert code == 1
    assert "07-empty.txt: empty document (--strict stops here; 6 documents done)" in error_line(err)
    rows = list(csv.DictReader(out.splitlines()))
    assert len(rows) == 6 and all(r["sentiment"] for r in rows)


@pytest.mark.parametrize("name, content, message", [
    (None, None, "is a folder"),
    ("e.csv", b"", "is empty"),
    ("w.csv", b"  \n\n ", "is empty"),
    ("b.csv", b"\x00\x01\x02PK\x03\x04" * 50, "is a binary file"),
])
def test_train_on_unusable_files(cli, tmp_path, name, content, message):
    corpus = tmp_path
    if name:
        corpus = tmp_path / name
        corpus.write_bytes(content)
    out = tmp_path / "m.joblib"
    code, stdout, err = cli("train", corpus, "--out", out)
    assert code == 1 and message in error_line(err) and str(tmp_path) in error_line(err)
    assert stdout == "" and not out.exists()


# -- tables -----------------------------------------------------------------------------------------------
def test_duplicated_ids_are_reported_and_kept(cli, tiny_model, tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("id,text\n7,Panne de fibre\n7,Merci au conseiller\n8,Nouveau Pixel\n", encoding="utf-8")
    code, out, err = cli("predict", path, "--model", tiny_model, "--format", "jsonl")
    assert code == 0
    assert [json.loads(line)["id"] for line in out.splitlines()] == ["7", "7", "8"]
    assert "1 id(s) appear more than once ('7')" in err


@pytest.mark.parametrize("bad_line", ['{"text": oops}', '{"texte": "pas de colonne text ici"}'])
def test_a_bad_row_far_into_a_table_stops_before_any_output(cli, tiny_model, tmp_path, bad_line):
    """Tables are read lazily, a chunk at a time, but checked whole first: a bad row after thousands of good
    ones stops the command with nothing written (not after a thousand predictions)."""
    path = tmp_path / "t.jsonl"
    good = [json.dumps({"id": i, "text": f"{TEXT} {i}"}, ensure_ascii=False) for i in range(2500)]
    path.write_text("\n".join(good + [bad_line] + good[:3]) + "\n", encoding="utf-8")
    code, out, err = cli("predict", path, "--model", tiny_model, "--format", "jsonl")
    if "oops" in bad_line:
        assert code == 1 and out == "" and "t.jsonl line 2501 is not valid JSON" in error_line(err)
    else:  # a row without the text column: reported in its record, the others classified
        records = [json.loads(line) for line in out.splitlines()]
        assert code == 0 and len(records) == 2504 and records[2500]["error"] == "empty text"
        assert [r["id"] for r in records[2501:]] == ["0", "1", "2"]
        assert "3 id(s) appear more than once ('0', '1', '2')" in err


def test_a_table_from_a_pipe_is_read_like_a_file(cli, tiny_model, tmp_path):
    """`classify predict <(zcat t.csv.gz) --table-format csv`: a pipe can be read once only, yet the table
    is checked before it is classified (it is copied to a temporary file first)."""
    import os
    import threading

    table = tmp_path / "t.csv"
    table.write_text("id,text\n1,Panne de fibre depuis hier\n2,Merci au conseiller aimable\n", encoding="utf-8")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_bytes(table.read_bytes()))
    writer.start()
    piped = cli("predict", fifo, "--table-format", "csv", "--model", tiny_model, "--format", "jsonl", "-q")
    writer.join()
    direct = cli("predict", table, "--model", tiny_model, "--format", "jsonl", "-q")
    assert piped[0] == direct[0] == 0 and len(direct[1].splitlines()) == 2
    assert piped[1] == direct[1]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "cp1252"])
def test_tables_in_any_encoding_are_predicted_like_utf8(cli, tiny_model, tmp_path, encoding):
    rows = "id,text\n1,\"Très déçu, l’écran est cassé\"\n2,Réseau coupé à Besançon\n"
    (tmp_path / "utf8.csv").write_text(rows, encoding="utf-8")
    (tmp_path / "other.csv").write_bytes(rows.encode(encoding))
    outputs = [cli("predict", tmp_path / name, "--model", tiny_model, "--format", "jsonl", "-q")
               for name in ("utf8.csv", "other.csv")]
    assert outputs[0][0] == outputs[1][0] == 0
    assert outputs[0][1] == outputs[1][1] and len(outputs[0][1].splitlines()) == 2


def test_labels_with_stray_spaces_are_stripped_and_case_variants_reported(cli, tmp_path):
    rows = [(f"texte positif numero {i} super", " positive " if i % 2 else "positive") for i in range(6)]
    rows += [(f"texte negatif numero {i} nul", "negative") for i in range(6)] + [("encore positif super", "Positive")] * 3
    path = tmp_path / "c.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["text", "sentiment"])
        w.writerows(rows)
    out = tmp_path / "m.joblib"
    code, _, err = cli("train", path, "--out", out, "--cv", "3")
    assert code == 0
    assert "labels differing only in case (Positive, positive)" in err
    code, info, _ = cli("info", out, "--format", "json")
    assert json.loads(info)["tasks"]["sentiment"]["label_counts"] == {"Positive": 3, "negative": 6, "positive": 6}


@pytest.mark.parametrize("content, message", [
    ("text,sentiment\na,positive\nb,positive\nc,positive\n", "has a single label ('positive')"),
    ("text,sentiment\nun deux,positive\nun trois,positive\nun quatre,negative\nun cinq,negative\nun six,neutral\n",
     "label 'neutral' has a single example"),
    ("text,sentiment\n ,positive\n,negative\n", "every row has an empty 'text'"),
    ("text,sentiment\n\"un,positive\nb,negative\n", "line"),
    ("text,sentiment\nxq,positive\nzv,positive\nkj,negative\nwy,negative\n",
     "no n-gram occurs in 2 or more documents of this 4-document corpus"),
])
def test_train_bad_tables(cli, tmp_path, content, message):
    path = tmp_path / "c.csv"
    path.write_text(content, encoding="utf-8")
    out = tmp_path / "m.joblib"
    code, stdout, err = cli("train", path, "--out", out)
    assert code == 1 and message in error_line(err)
    assert stdout == "" and not out.exists()


def test_rows_with_an_empty_text_are_skipped_with_their_line_numbers(cli, tmp_path):
    rows = [f'"{t}",{s}' for t, s in [("Super réseau, merci", "positive"), ("Panne de fibre, nul", "negative")] * 6]
    rows[3:3] = [",negative", '"  \t ",positive']  # lines 5 and 6 (the header is line 1)
    rows.append('"\n\n",neutral')  # a blank text spanning lines 16 to 18: reported where it ends
    path = tmp_path / "c.csv"
    path.write_text("text,sentiment\n" + "\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "m.joblib"
    code, _, err = cli("train", path, "--out", out, "--cv", "0")
    assert code == 0 and out.exists()
    assert "3 rows with an empty or blank 'text' skipped (line 5, 6, 18)" in err
    from classify.api import load

    assert load(out, trust=True).provenance["corpus"]["n_documents"] == 12


def test_jsonl_bad_line_and_skip(cli, tiny_model, tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text('{"text": "Panne fibre"}\n{"text": oops}\n{"text": "Merci"}\n', encoding="utf-8")
    code, out, err = cli("predict", path, "--model", tiny_model, "--format", "jsonl")
    assert code == 1 and "t.jsonl line 2 is not valid JSON" in error_line(err) and out == ""
    assert "--skip-bad-lines" in error_line(err)
    code, out, err = cli("predict", path, "--model", tiny_model, "--format", "jsonl", "--skip-bad-lines")
    assert code == 0 and len(out.splitlines()) == 2
    assert "t.jsonl line 2 is not valid JSON" in err and "skipped" in err


def test_skip_bad_lines_when_training_and_evaluating(cli, tiny_model, tmp_path):
    rows = [json.dumps({"text": f"texte numero {i} commun", "sentiment": "positive" if i % 2 else "negative"})
            for i in range(12)]
    rows.insert(5, '{"text": "cassé", "sentiment": ')
    path = tmp_path / "c.jsonl"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "m.joblib"
    code, _, err = cli("train", path, "--out", out, "--cv", "3")
    assert code == 1 and "c.jsonl line 6 is not valid JSON" in error_line(err) and not out.exists()
    code, _, err = cli("train", path, "--out", out, "--cv", "3", "--skip-bad-lines")
    assert code == 0 and "line 6 is not valid JSON" in err
    code, report, _ = cli("evaluate", path, "--model", out, "--format", "json", "--skip-bad-lines", "-q")
    assert code == 0 and json.loads(report)["n_documents"] == 12
    code, result, _ = cli("cv", path, "--folds", "3", "--format", "json", "--skip-bad-lines", "-q")
    assert code == 0 and json.loads(result)["n_documents"] == 12


# -- models -----------------------------------------------------------------------------------------------
def test_evaluate_with_a_model_whose_tasks_do_not_match(cli, tiny_model, tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("text,genre\nun film,drame\n", encoding="utf-8")
    code, out, err = cli("evaluate", path, "--model", tiny_model)
    assert code == 1 and out == ""
    assert "has none of the model's tasks (topics, sentiment) as a column (columns: text, genre)" in error_line(err)


# -- options ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("args, code, message", [
    (["train", TINY, "--text-column", "text", "--label-column", "text"], 1, "cannot also be a --label-column"),
    (["predict", "-", "--explain-top", "3"], 1, "--explain-top only makes sense with --explain"),
    (["predict", "-", "--threshold", "-0.1"], 1, "--threshold must be between 0 and 1"),
    (["predict", "-", "--top-k", "0"], 2, "--top-k must be 1 or more"),
    (["cv", TINY, "--folds", "0"], 2, "--folds must be 2 or more"),
    (["train", TINY, "--cv", "1"], 1, "--cv 1 is not allowed"),
    (["predict", "-", "--format", "yaml"], 2, "yaml"),
])
def test_bad_options_rejected_before_any_work(cli, tiny_model, tmp_path, args, code, message):
    out = tmp_path / "m.joblib"
    extra = ["--model", tiny_model] if args[0] == "predict" else (["--out", out] if args[0] == "train" else [])
    got, stdout, err = cli(*args, *extra, input="Panne de fibre\n")
    assert got == code and message in err and stdout == ""
    assert not out.exists()
    if code == 1:
        error_line(err)


# -- one real process per family ------------------------------------------------------------------------------
@pytest.mark.parametrize("family", ["files", "tables", "models", "options"])
def test_subprocess_bad_input_families(tmp_path, family):
    if family == "files":
        (tmp_path / "bin.csv").write_bytes(b"\x00" * 100)
        args, message = ["train", tmp_path / "bin.csv", "--out", tmp_path / "m.joblib"], "is a binary file"
    elif family == "tables":
        (tmp_path / "c.csv").write_text("texte,sentiment\na,b\n", encoding="utf-8")
        args, message = ["train", tmp_path / "c.csv", "--out", tmp_path / "m.joblib"], "Did you mean 'texte'?"
    elif family == "models":
        (tmp_path / "m.joblib").write_bytes(b"\x80\x04truncated")
        args, message = ["info", tmp_path / "m.joblib", "--trust"], "not a classify model or is damaged"
    else:
        args, message = ["predict", TINY, "--threshold", "2", "--model", tmp_path / "none.joblib"], "--threshold"
    r = _run(*args)
    assert r.returncode == 1 and r.stdout == ""
    assert message in error_line(r.stderr)
    assert not (tmp_path / "m.joblib").exists() or family == "models"
