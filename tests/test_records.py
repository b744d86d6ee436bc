"""The compiled writer of JSONL records and the compiled language test (`classify._records`) give what the
Python code they mirror gives: `Prediction.to_record` through json, `classify.lang.looks_french`/`language`."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from classify import core
from classify.api import Prediction, round_scores
from classify.lang import MIN_LETTERS, _quick_test, language, languages, looks_french
from classify.render import PredictionWriter, csv_field
from classify.corpus import load_corpus

from .conftest import TINY

records = pytest.importorskip("classify._records", reason="the compiled core is not built")

_JSON = json.JSONEncoder(ensure_ascii=False)

# French words, capitals, elisions with both apostrophes, every kind of white space `str.split` knows, and
# characters whose lower case is tricky (the Kelvin sign and `İ` lower-case to ASCII, `Σ` by context)
PIECES = ["le", "Le", "LES", "l'", "L’", "d’", "qu'", "est", "très", "Très", "ÇA", "où", "à", "déjà", "ce",
          "box", "panne", "network", "down", "the", "and", "\u212aelvin", "İLS", "ΣΑΣ", "ß", "µ", "😀",
          "-", "'", "’", "!", "http", "www.", "@free", "#panne", "x" * 20, "é" * 17]
SPACES = [" ", "  ", "\t", "\n", "\xa0", "\u202f", "\u2009", "\u3000", "\x1c", "\x85", ""]
texts = st.lists(st.tuples(st.sampled_from(PIECES), st.sampled_from(SPACES)), max_size=60).map(
    lambda parts: "".join(a + b for a, b in parts)) | st.text(max_size=200)


def _module():
    assert _quick_test() is not None, "the compiled writer did not load"  # which also sets its function words
    return core.records()


@settings(max_examples=400, deadline=None)
@given(texts)
def test_the_quick_test_answers_as_looks_french(text):
    answer = _module().quick_french(text)
    noisy = any(mark in text for mark in ("http", "www.", "@", "#"))
    if noisy:
        assert answer == -1
    elif answer == 1:
        assert looks_french(text)
    elif answer in (0, 2):
        assert not looks_french(text)
        assert (sum(c.isalpha() for c in text[:300]) < MIN_LETTERS) == (answer == 2)
    else:  # left to Python: a character whose lower case is in Latin-1 while it is not
        assert answer == -1 and any(ord(c) >= 0x100 and ord(c.lower()[0]) < 0x100 for c in text[:160])


@settings(max_examples=150, deadline=None)
@given(st.lists(texts, max_size=5))
def test_languages_are_language_of_each_text(batch):
    assert languages(batch) == [language(text) for text in batch]


@pytest.mark.parametrize("others", range(14, 24))
def test_the_quick_test_keeps_the_one_word_in_ten_boundary(others):
    text = "le box " + "panne " * others + "est"  # two function words among `others + 3` words
    assert (_module().quick_french(text) == 1) == looks_french(text) == (20 >= others + 3)


@pytest.mark.parametrize("text", ["\ud800 le la \udfff est", "\x00le\x00 est là", "le " * 3_000_000 + "est",
                                  "\u0301\u0301 les et", "😀" * 200 + " le est", "ЛЕ ле est le",
                                  "le\u2019est\u2019\u2019 ", "x" * 200 + " le est"])
def test_the_quick_test_on_unusual_texts(text):
    answer = _module().quick_french(text)
    assert answer in (-1, 0, 1, 2)
    if answer >= 0:
        assert (answer == 1) == looks_french(text)


def test_the_quick_test_settles_ordinary_texts():
    quick = _module().quick_french
    assert quick("je n’ai plus de réseau depuis ce matin et personne ne répond") == 1
    assert quick("no network since this morning and nobody answers the phone") == 0
    assert quick("ok merci") == 2
    assert quick("@free toujours en panne") == -1 and quick("voir https://x.fr") == -1


def test_every_probability_of_four_decimals_is_written_as_python_writes_it():
    values = round_scores(np.arange(10001) / 10000.0)[None, :]
    order = np.zeros_like(values, dtype=np.int64)
    line = _module().records(["1"], ["fr"], [(b'"t": ', ["a"], ["a"], [b'"a"'], order[:, :1], values[:, :1])],
                             b"", json.encoder.encode_basestring)[0]
    assert line == '{"id": "1", "t": "a", "scores": {"t": {"a": 0.0}}, "lang": "fr"}\n'
    for k in range(10001):
        one = values[:, k:k + 1]
        line = _module().records(["1"], [None], [(b'"t": ', ["a"], ["a"], [b'"a"'], order[:, :1], one)], b"",
                                 json.encoder.encode_basestring)[0]
        assert line == _JSON.encode({"id": "1", "t": "a", "scores": {"t": {"a": float(one[0, 0])}},
                                     "lang": None}) + "\n"


ids = st.text(max_size=12) | st.sampled_from(['1', 'doc "2"', "a\\b", "tab\there", "line\nbreak", "é", "\x7f",
                                              "\ud800 lone surrogate", "😀"])
labels = st.lists(st.text(min_size=1, max_size=6) | st.sampled_from(["panne", "négatif", 'q"uote', "\u2028"]),
                  min_size=2, max_size=5, unique=True)
probabilities = st.floats(0, 1) | st.sampled_from([0.5, 0.00005, 0.99995, 0.12345, 1.0, 0.0, float("nan"),
                                                   float("inf"), -0.0])


def _draw_task(data, n: int, label_sets) -> tuple:
    """A task's labels, and for `n` documents its kept labels best first, their rounded probabilities and
    its decisions (one label, or a list for a multi-label task)."""
    task_labels = data.draw(label_sets)
    multi = data.draw(st.booleans())
    kept = data.draw(st.integers(1, len(task_labels)))
    order = np.array([data.draw(st.permutations(range(len(task_labels))))[:kept] for _ in range(n)],
                     dtype=np.int64).reshape(n, kept)
    scores = round_scores(np.array([[data.draw(probabilities) for _ in range(kept)] for _ in range(n)],
                                   dtype=float).reshape(n, kept))
    values = [sorted(data.draw(st.sets(st.sampled_from(task_labels)))) if multi else
              data.draw(st.sampled_from(task_labels)) for _ in range(n)]
    return task_labels, order, scores, values


def _prediction(tasks: list, doc_id: str, lang, i: int) -> Prediction:
    """Document i's Prediction from tasks drawn by `_draw_task` (with their names first)."""
    return Prediction(doc_id, {t[0]: t[4][i] for t in tasks},
                      {t[0]: dict(zip([t[1][j] for j in t[2][i]], t[3][i].tolist())) for t in tasks}, lang=lang)


def _check_line(line: str | None, expected: str) -> None:
    """The compiled writer's line is Python's, or None (left to Python) where Python's has no UTF-8 form."""
    try:
        expected.encode()
    except UnicodeEncodeError:  # a lone surrogate
        assert line is None
        return
    assert line == expected


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_records_are_the_python_records(data):
    n = data.draw(st.integers(0, 4))
    tasks = []
    for number in range(data.draw(st.integers(1, 3))):
        name = f"task{number}" if number else data.draw(st.text(min_size=1, max_size=5).filter(
            lambda name: name not in ("id", "scores", "lang")))
        tasks.append((name, *_draw_task(data, n, labels)))
    doc_ids = [data.draw(ids) for _ in range(n)]
    langs = [data.draw(st.sampled_from(["fr", "en", None])) for _ in range(n)]
    stamp = data.draw(st.sampled_from([{}, {"model": "0123abcd"}, {"model": "x", "adapted": True}]))
    names = [t[0] for t in tasks]
    if len(set(names)) < len(names):
        return
    writer = PredictionWriter(None, "jsonl", names, {t[0]: t[1] for t in tasks}, stamp=stamp)
    render = writer.compiled_records()
    if render is None:  # a name with no UTF-8 form: json writes it, the compiled writer is not asked
        with pytest.raises(UnicodeEncodeError):
            [name.encode() for t in tasks for name in (t[0], *t[1])]
        return
    kind, suffix, spec = render
    assert kind == "jsonl"
    lines = _module().records(doc_ids, langs, [(key, t[4], lab, enc, t[2], t[3]) for (_, key, lab, enc), t in
                                               zip(spec, tasks)], suffix, json.encoder.encode_basestring)
    for i in range(n):
        prediction = _prediction(tasks, doc_ids[i], langs[i], i)
        _check_line(lines[i], _JSON.encode({**prediction.to_record(names), **stamp}) + "\n")


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_csv_records_are_the_python_rows(data):
    n = data.draw(st.integers(0, 4))
    odd = st.sampled_from([["a,b", 'c"d', "e\rf", "g\nh"], ["é", "è ", " x"]])
    tasks = [(f"task{number}", *_draw_task(data, n, labels | odd)) for number in range(data.draw(st.integers(1, 3)))]
    doc_ids = [data.draw(ids | st.sampled_from(["a,b", "", " ", "x\ry"])) for _ in range(n)]
    langs = [data.draw(st.sampled_from(["fr", "en", None])) for _ in range(n)]
    names = [t[0] for t in tasks]
    labels_of = {t[0]: t[1] for t in tasks}
    sep = data.draw(st.sampled_from([";", "|", ","]))
    render = PredictionWriter(None, "csv", names, labels_of, label_sep=sep).compiled_records()
    if render is None:  # a label with no UTF-8 form
        return
    kind, sep_given, spec = render
    assert kind == "csv"
    lines = _module().csv_records(doc_ids, langs, [(t[4], lab, cells, t[2], t[3]) for (_, lab, cells), t in
                                                   zip(spec, tasks)], sep_given, csv_field)
    for i in range(n):
        writer = PredictionWriter(None, "csv", names, labels_of, label_sep=sep)
        writer.write(_prediction(tasks, doc_ids[i], langs[i], i))  # the row waits in `pending`, the header apart
        _check_line(lines[i], "".join(writer.pending))


def test_a_task_named_as_a_field_of_the_record_is_written_by_python():
    assert PredictionWriter(None, "jsonl", ["lang"], {"lang": ["a", "b"]}).compiled_records() is None
    assert PredictionWriter(None, "jsonl", ["model"], {"model": ["a", "b"]},
                            stamp={"model": "x"}).compiled_records() is None
    assert PredictionWriter(None, "table", ["t"], {"t": ["a", "b"]}).compiled_records() is None
    assert PredictionWriter(None, "csv", ["t"], {"t": ["a", "b"]}, explain=True).compiled_records() is None
    assert PredictionWriter(None, "jsonl", ["t"], {"t": ["a", "b"]}, explain=True).compiled_records() is None


@pytest.mark.parametrize("options", [[], ["--top-k", "1"], ["--threshold", "0.2", "--with-model"],
                                     ["--jobs", "2"], ["--format", "csv"], ["--format", "csv", "--top-k", "1"]],
                         ids=["default", "top-k", "threshold-stamp", "threads", "csv", "csv-top-k"])
def test_predict_writes_the_same_records_with_and_without_the_compiled_writer(cli, tiny_model, tmp_path,
                                                                            monkeypatch, options):
    texts = load_corpus(TINY).texts
    table = tmp_path / "in.jsonl"
    rows = [{"id": f'doc "{i}" é\\', "text": t} for i, t in enumerate(texts * 10)]
    rows[3]["text"] = "   "  # an empty document among them: its record comes from Python
    table.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    outputs = []
    for pure in ("1", "0"):
        monkeypatch.setenv("CLASSIFY_PURE_PYTHON", pure)
        fmt = [] if "--format" in options else ["--format", "jsonl"]
        code, out, err = cli("predict", table, "--model", tiny_model, *fmt, *options)
        outputs.append(out)
    assert outputs[0] == outputs[1]
    if "csv" in options:
        assert len(outputs[1].splitlines()) == len(rows) + 1 and outputs[1].splitlines()[4].endswith(",true,empty text")
    else:
        assert len(outputs[1].splitlines()) == len(rows) and json.loads(outputs[1].splitlines()[3])["empty"]
