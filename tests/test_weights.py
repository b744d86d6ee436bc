"""`train --weight TASK:PREFIX=WEIGHT`: documents named by the start of their id weigh more (or less) in one
task's fit. The default model relies on it (Makefile WEIGHTS, `classify.paths.BUNDLED_WEIGHTS`)."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

from classify.api import load, train
from classify.errors import ConfigError
from classify.config import ModelConfig, parse_weights, sample_weights
from classify.paths import BUNDLED_WEIGHTS

ROOT = Path(__file__).resolve().parent.parent


def _conflicting_corpus(path: Path) -> Path:
    """Two sources that label the same kind of text in opposite ways: `a-` documents call praise positive,
    `b-` documents call it negative (and complaints the other way)."""
    praise = ["super service", "excellent produit", "vraiment génial", "très bon accueil", "parfait merci",
              "top qualité", "formidable équipe", "bravo pour tout", "un vrai plaisir", "content du résultat"]
    blame = ["service nul", "produit horrible", "vraiment décevant", "accueil minable", "catastrophe totale",
             "qualité lamentable", "équipe incompétente", "honte à vous", "un vrai cauchemar", "furieux du résultat"]
    rows = ["id,text,sentiment"]
    for k, (p, b) in enumerate(zip(praise, blame)):
        rows += [f"a-{k}p,{p},positive", f"a-{k}n,{b},negative", f"b-{k}p,{p} !,negative", f"b-{k}n,{b} !,positive"]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def _positive_share(model_path, texts):
    loaded = load(model_path)
    labels = loaded.model.predict(texts)["sentiment"]
    return sum(label == "positive" for label in labels) / len(labels)


def test_the_weighted_source_wins_where_two_sources_disagree(tmp_path):
    corpus = _conflicting_corpus(tmp_path / "c.csv")
    texts = ["super service", "excellent produit", "vraiment génial", "parfait merci", "bravo pour tout"]
    shares = {}
    for prefix in ("a-", "b-"):
        out = tmp_path / f"{prefix}.joblib"
        train(corpus, out, config=ModelConfig(weights=(f"sentiment:{prefix}=20",), cv_folds=3, char=False))
        shares[prefix] = _positive_share(out, texts)
    assert shares["a-"] >= 0.8 and shares["b-"] <= 0.2, shares


def test_rules_parse_and_multiply():
    assert parse_weights(["sentiment:real-=3", "topics:=2", "topics:real-=0.75"]) == [
        ("sentiment", "real-", 3.0), ("topics", "", 2.0), ("topics", "real-", 0.75)]
    ids = ["real-1", "news-1", "real-2"]
    assert list(sample_weights(BUNDLED_WEIGHTS, "topics", ids)) == [1.5, 2.0, 1.5]
    assert list(sample_weights(BUNDLED_WEIGHTS, "sentiment", ids)) == [3.0, 1.0, 3.0]
    assert sample_weights(BUNDLED_WEIGHTS, "other", ids) is None
    assert sample_weights((), "sentiment", ids) is None


@pytest.mark.parametrize("rule", ["sentiment=2", "sentiment:real-", "sentiment:real-=0", "sentiment:real-=-1",
                                  "sentiment:real-=abc", ":real-=2", "sentiment:real-=inf"])
def test_a_malformed_rule_is_refused(rule):
    with pytest.raises(ConfigError, match="TASK:PREFIX=WEIGHT"):
        ModelConfig(weights=(rule,))


def _classify(*args):
    return subprocess.run([sys.executable, "-m", "classify", *map(str, args)], capture_output=True, text=True)


@pytest.mark.parametrize("rule, code, message", [
    ("sentiment=2", 2, "is not TASK:PREFIX=WEIGHT"),
    ("senti:social-=2", 1, "the corpus has no task 'senti'; its tasks: topics, sentiment"),
    ("sentiment:zz-=2", 1, "no document id starts with 'zz-'"),
])
def test_the_command_line_names_a_bad_rule(tmp_path, rule, code, message):
    out = tmp_path / "m.joblib"
    r = _classify("train", ROOT / "seeds" / "sample.csv", "--weight", rule, "--out", out, "--quiet")
    assert r.returncode == code and message in r.stderr and "Traceback" not in r.stderr
    assert not out.exists()


def test_streaming_refuses_weights_it_cannot_apply(tmp_path):
    out = tmp_path / "m.joblib"
    r = _classify("train", ROOT / "seeds" / "sample.csv", "--streaming", "--weight", "sentiment:social-=2",
                  "--out", out, "--quiet")
    assert r.returncode == 1 and "--weight cannot be combined with --streaming" in r.stderr
    assert "Traceback" not in r.stderr and not out.exists()


def test_the_rules_are_recorded_in_the_model(tmp_path):
    out = tmp_path / "m.joblib"
    r = _classify("train", ROOT / "seeds" / "sample.csv", "--weight", "sentiment:social-=2", "--out", out, "--quiet")
    assert r.returncode == 0, r.stderr
    assert load(out).model.config.weights == ("sentiment:social-=2",)
    assert "weights=['sentiment:social-=2']" in _classify("info", out).stdout


def test_the_makefile_trains_the_default_model_with_the_bundled_weights():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    line = re.search(r"^WEIGHTS\s*:=(.*)$", makefile, re.M).group(1)
    assert tuple(re.findall(r"--weight (\S+)", line)) == BUNDLED_WEIGHTS
    assert "$(WEIGHTS)" in re.search(r"^\$\(MODEL\):.*\n(\t.*\n)+", makefile, re.M).group(0)
