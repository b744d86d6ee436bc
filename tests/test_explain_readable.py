"""Explanations people read: dense blocks as one named row with their total, internal tokens in readable
forms, `--raw` for the internal names."""

import json

import numpy as np
import pytest

from classify.explain import DocumentExplainer, dense_blocks, readable_chars, readable_ngram

from .conftest import TINY
from .test_vectors import vectors  # noqa: F401 (a fixture)


@pytest.mark.parametrize(
    "internal, shown",
    [
        ("neg_bon", "ne … pas bon"),
        ("pas neg_bon", "pas bon"),  # the negation word is there already
        ("ne neg_marche", "ne marche"),
        ("neg_tres neg_bon", "ne … pas tres bon"),
        ("xnumx", "(number)"),
        ("xnumx euros", "(number) euros"),
        ("xurlx", "(URL)"),
        ("xemailx", "(e-mail)"),
        ("xuserx merci", "(@mention) merci"),
        ("neg_xnumx", "ne … pas (number)"),
        ("box", "box"),  # unchanged
        ("neg_", "neg_"),
        ("service client", "service client"),
        ("!", "!"),
    ],
)
def test_readable_ngram(internal, shown):
    assert readable_ngram(internal) == shown


@pytest.mark.parametrize(
    "gram, shown",
    [
        ("xnumx", "(number)"),
        (" xnum", "(number)"),
        ("umx ", "(number)"),
        ("xurlx", "(URL)"),
        (" xuse", "(@mention)"),
        ("mailx", "(e-mail)"),
        ("num", "num"),
        ("x ", "x "),
        ("ix ", "ix "),
        (" xia", " xia"),
        ("xem", "xem"),
        ("prix", "prix"),  # words
    ],
)
def test_readable_chars(gram, shown):
    assert readable_chars(gram) == shown


INTERNAL = ("xnumx", "xurlx", "xuserx", "xemailx", "neg_", "<vector[", "<lexicon:")


def _names(data) -> list[str]:
    return [
        name
        for labels in data.values()
        for sides in labels.values()
        for side in ("towards", "against")
        for name, _ in sides[side]
    ]


def test_explain_shows_no_internal_names_and_one_row_per_block(cli, tmp_path, vectors):  # noqa: F811
    model = tmp_path / "m.joblib"
    assert cli("train", TINY, "--out", model, "--vectors", "--cv", "3", "-q")[0] == 0
    code, out, _ = cli("explain", model, "--format", "json", "--top", "200")
    assert code == 0
    data = json.loads(out)
    names = _names(data)
    assert names and not [n for n in names if any(token in n for token in INTERNAL)]
    for labels in data.values():
        for sides in labels.values():
            assert [b["name"] for b in sides["blocks"]] == ["word vectors", "sentiment lexicon"]
            vectors_row, lexicon_row = sides["blocks"]
            (up, up_value), (down, down_value) = vectors_row["most_towards"], vectors_row["most_against"]
            assert up_value >= down_value and {up, down} <= {"panne", "nul", "super", "merci"}
            assert vectors_row["vectors"] == 4 and vectors_row["dimensions"] == 3
    lexicon = {label: sides["blocks"][1]["one_positive_word"] for label, sides in data["sentiment"].items()}
    assert lexicon["positive"] > 0 > lexicon["negative"]  # positive words push towards positive
    # a text of one word alone: the vectors' row is exactly what that word's vector adds to the score
    from classify.api import load

    loaded = load(model)
    negative = data["sentiment"]["negative"]["blocks"][0]
    word, value = negative["most_towards"]
    (name, _, start, n), _ = dense_blocks(loaded.model)
    X = loaded.model.transform([word])[:, start : start + n].toarray()[0]
    task = loaded.model.tasks_["sentiment"]
    assert float(X @ task.scorer.coef[task.labels.index("negative"), start : start + n]) == pytest.approx(
        value, abs=1e-3
    )
    code, out, _ = cli("explain", model, "--task", "sentiment", "--label", "negative")
    assert code == 0 and "<vector[" not in out
    assert f"word vectors: from {value:+.3f} ('{word}' alone) to" in out
    assert "sentiment lexicon: -" in out and "for a text with one positive word of the lexicon" in out
    code, out, _ = cli("explain", model, "--format", "json", "--top", "300", "--raw")
    raw = json.loads(out)
    assert any(n.startswith("<vector[") for n in _names(raw))
    assert "blocks" not in raw["sentiment"]["negative"]


def test_predict_explain_sums_a_dense_block_into_one_row(cli, tmp_path, vectors):  # noqa: F811
    from classify.api import load

    model = tmp_path / "m.joblib"
    assert cli("train", TINY, "--out", model, "--vectors", "--cv", "3", "-q")[0] == 0
    loaded = load(model)
    text = "Panne encore, le service est nul et pas du tout réactif !"
    X = loaded.model.transform([text])
    label = "negative"
    explainer = DocumentExplainer(loaded.model, top=1000)
    rows = dict(explainer.explain(X, {"topics": [[]], "sentiment": [label]})[0]["sentiment"][label])
    task = loaded.model.tasks_["sentiment"]
    coef = task.scorer.coef[task.labels.index(label)]
    dense = {name: (start, n) for name, _, start, n in dense_blocks(loaded.model)}
    for name, (start, n) in dense.items():
        total = float((X[:, start : start + n].toarray()[0] * coef[start : start + n]).sum())
        if total > 0:
            assert rows[name] == pytest.approx(total, abs=1e-4)
        else:
            assert name not in rows
    assert not [n for n in rows if any(token in n for token in INTERNAL)]
    raw = DocumentExplainer(loaded.model, top=1000, raw=True).explain(
        X, {"topics": [[]], "sentiment": [label]}
    )
    assert not {"word vectors", "sentiment lexicon"} & {n for n, _ in raw[0]["sentiment"][label]}


def test_predict_explain_cli_is_readable_unless_raw(cli, tiny_model):
    text = "Pas de réseau depuis 3 jours, @SFR ne répond pas !\n"
    code, out, _ = cli(
        "predict",
        "-",
        "--model",
        tiny_model,
        "--format",
        "jsonl",
        "--explain",
        "--explain-top",
        "50",
        input=text,
    )
    assert code == 0
    evidence = [
        name
        for labels in json.loads(out)["explanation"].values()
        for pairs in labels.values()
        for name, _ in pairs
    ]
    assert evidence and not [n for n in evidence if any(token in n for token in INTERNAL)]
    code, out, _ = cli(
        "predict",
        "-",
        "--model",
        tiny_model,
        "--format",
        "jsonl",
        "--explain",
        "--explain-top",
        "50",
        "--raw",
        input=text,
    )
    raw = [
        name
        for labels in json.loads(out)["explanation"].values()
        for pairs in labels.values()
        for name, _ in pairs
    ]
    assert any(token in n for n in raw for token in INTERNAL)
    code, _, err = cli("predict", "-", "--model", tiny_model, "--raw", input=text)
    assert code == 1 and "--raw only makes sense with --explain" in err


def test_dense_rows_rank_among_ngrams_by_contribution(tiny_model):
    from classify.api import load

    loaded = load(tiny_model)
    X = loaded.model.transform(["Génial, super, merci, parfait, excellent !"])
    pairs = DocumentExplainer(loaded.model, top=1000).explain(X, {"topics": [[]], "sentiment": ["positive"]})
    values = [v for _, v in pairs[0]["sentiment"]["positive"]]
    assert values == sorted(values, reverse=True) and np.all(np.array(values) > 0)


def test_short_character_ngrams_of_masked_tokens_are_named_in_a_document(tiny_model):
    from classify.api import load

    explainer = DocumentExplainer(load(tiny_model).model)
    for words, gram, shown in [
        (["pas", "xuserx", "xurlx"], "xu", "(URL) or (@mention)"),  # `xu` begins both
        (["merci", "xuserx"], " xu", "(@mention)"),
        (["luxueux", "xuserx"], "xu", "xu"),  # the document has it in a word too
        (["xnumx", "euros"], "um", "(number)"),
        (["xnumx", "numero"], "um", "um"),
        (["xnumx"], "xnumx", "(number)"),  # four characters or more: named without the document
        (["box"], "box", "box"),
    ]:
        explainer._words = words
        assert explainer._placeholder_of(gram) == shown, (words, gram)
