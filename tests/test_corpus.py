import json

import pytest

from classify.corpus import load_corpus
from classify.errors import CorpusError

from .conftest import TINY


def test_bundled_format_two_tasks():
    corpus = load_corpus(TINY)
    assert list(corpus.tasks) == ["topics", "sentiment"]
    assert corpus.tasks["topics"].multi and not corpus.tasks["sentiment"].multi
    assert corpus.tasks["topics"].values[0] == ["devices"]
    assert corpus.tasks["topics"].values[18] == []  # empty multi-label cell: no topic, a valid answer
    assert corpus.ids[0] == "t01"
    assert len(corpus.sha256) == 64


def test_tsv_jsonl_and_bom(tmp_path):
    (tmp_path / "a.tsv").write_text("text\tlabel\nbon film\tpositive\nnul\tnegative\n", encoding="utf-8-sig")
    (tmp_path / "a.jsonl").write_text(
        "\n".join(json.dumps({"text": t, "label": lab}) for t, lab in [("bon", "positive"), ("nul", "negative")])
    )
    for name in ("a.tsv", "a.jsonl"):
        corpus = load_corpus(tmp_path / name)
        assert corpus.texts[0] == "bon" or corpus.texts[0] == "bon film"
        assert corpus.tasks["label"].values == ["positive", "negative"]


def test_cp1252_is_detected_with_a_note(tmp_path, caplog):
    path = tmp_path / "latin.csv"
    path.write_bytes("text,label\nTrès déçu,negative\nGénial œuvre,positive\n".encode("cp1252"))
    with caplog.at_level("INFO", logger="classify"):
        corpus = load_corpus(path)
    assert corpus.texts == ["Très déçu", "Génial œuvre"]
    assert "cp1252" in caplog.text


def test_na_text_stays_text(tmp_path):
    path = tmp_path / "na.csv"
    path.write_text("text,label\nNA,neutral\nnull,neutral\n")
    assert load_corpus(path).texts == ["NA", "null"]


def test_single_label_empty_cell_skipped_and_counted(tmp_path, caplog):
    path = tmp_path / "c.csv"
    path.write_text("text,label\na,x\nb,\nc,y\n")
    with caplog.at_level("INFO", logger="classify"):
        task = load_corpus(path).tasks["label"]
    assert task.annotated() == [0, 2]
    assert "1 of 3 rows have no label" in caplog.text


def test_multi_label_declared_and_custom_separator(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("text,tags\na,x|y\nb,x\n")
    corpus = load_corpus(path, multi_label=["tags"], label_sep="|")
    assert corpus.tasks["tags"].values == [["x", "y"], ["x"]]


def test_labels_are_stripped(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("text,tags\na, x ; y \nb,x\n")
    assert load_corpus(path).tasks["tags"].values[0] == ["x", "y"]


@pytest.mark.parametrize(
    "content, kwargs, message",
    [
        ("texte,label\na,b\n", {}, "no column 'text'"),
        ("texte,label\na,b\n", {}, "Did you mean 'texte'?"),
        ("text,label\na,b\n", {"label_columns": ["lable"]}, "Did you mean 'label'?"),
        ("text\na\n", {}, "no label column"),
        ('text,label\n"a,b\nc,d\n', {}, "not a valid CSV"),
        ("text,label\nok,b\na,b,c,d\n", {}, "line 3 has 4 fields where the header has 2"),
        ("text,label\n,b\n", {}, "empty 'text'"),
        ("", {}, "is empty"),
    ],
)
def test_bad_tables(tmp_path, content, kwargs, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(CorpusError, match=message.replace("(", r"\(").replace("?", r"\?")):
        load_corpus(path, **kwargs)


def test_bad_jsonl_line_number(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "a", "label": "x"}\n{"text": "b", "label": \n{"text": "c", "label": "y"}\n')
    with pytest.raises(CorpusError, match="line 2 is not valid JSON"):
        load_corpus(path)
    assert load_corpus(path, skip_bad_lines=True).texts == ["a", "c"]


def test_unknown_extension_asks_for_format(tmp_path):
    path = tmp_path / "data.txt"
    path.write_text("text,label\na,b\n")
    with pytest.raises(CorpusError, match="--format"):
        load_corpus(path)
    assert load_corpus(path, fmt="csv").texts == ["a"]


def test_several_files_are_one_corpus_and_a_task_is_multi_label_if_it_is_in_any_file(tmp_path):
    from classify.corpus import load_corpora

    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text('id,text,topics,sentiment\na1,Panne fibre,operators;customer_relations,negative\n'
                 'a2,Super écran,devices,positive\n', encoding="utf-8")
    b.write_text("id,text,topics,sentiment\nb1,Le match de ce soir,,neutral\nb2,Mon forfait,operators,\n",
                 encoding="utf-8")
    c = tmp_path / "c.csv"  # a file that annotates only the topics: no sentiment in any row
    c.write_text("id,text,topics,sentiment\nc1,La météo de demain,,\n", encoding="utf-8")
    assert load_corpora([a, b, c]).tasks["sentiment"].values[-1] is None
    corpus = load_corpora([a, b])
    assert corpus.ids == ["a1", "a2", "b1", "b2"] and corpus.texts[2] == "Le match de ce soir"
    assert corpus.tasks["topics"].multi
    assert corpus.tasks["topics"].values == [["customer_relations", "operators"], ["devices"], [], ["operators"]]
    assert corpus.tasks["sentiment"].values == ["negative", "positive", "neutral", None]
    assert corpus.path == f"{a} + {b}" and corpus.sha256 != load_corpora([a]).sha256


def test_files_of_one_corpus_need_the_same_label_columns(tmp_path):
    from classify.corpus import load_corpora

    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("text,topics,sentiment\nPanne,operators,negative\n", encoding="utf-8")
    b.write_text("text,label\nNul,negative\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="needs the same label columns"):
        load_corpora([a, b])


def test_train_reads_several_files_as_one_corpus(cli, tmp_path):
    lines = TINY.read_text(encoding="utf-8").splitlines()
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("\n".join(lines[:20]) + "\n", encoding="utf-8")
    b.write_text("\n".join(lines[:1] + lines[20:]) + "\n", encoding="utf-8")
    out = tmp_path / "m.joblib"
    code, _, err = cli("train", a, b, "--out", out, "--cv", "3", "-q")
    assert code == 0, err
    from classify.api import load

    assert load(out).provenance["corpus"]["n_documents"] == len(lines) - 1


def test_an_id_in_two_files_is_reported_once_across_them(tmp_path, caplog):
    from classify.corpus import load_corpora

    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("id,text,label\nx,Panne,negative\nx,Super,positive\n", encoding="utf-8")
    b.write_text("id,text,label\nx,Bof,neutral\ny,Merci,positive\n", encoding="utf-8")
    with caplog.at_level("WARNING", logger="classify"):
        load_corpora([a, b])
    messages = [r.getMessage() for r in caplog.records if "more than once" in r.getMessage()]
    assert len(messages) == 2  # a.csv's own repeat, then 'x' across the two files
    assert str(a) in messages[0] and f"{a} + {b}" in messages[1] and "'y'" not in messages[1]
