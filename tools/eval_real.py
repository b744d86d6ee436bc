"""Score a model on real text nobody on the project wrote (run by `make eval`).

    python tools/eval_real.py --model models/default.joblib --out reports

- `seeds/real-test.csv` (held-out real messages to an operator): `classify evaluate --report` into
  `reports/real-test/` (per-label scores, confusion matrix, most confident errors), with the score of a
  constant `negative` answer beside it.
- Off-topic text: the share of texts tagged with any topic on `seeds/general-french-test.csv` (its rows
  labelled with a topic are left out), and, when `../shared/benchmarks` is present, on every text of the
  off-topic benchmarks (xlmt-fr, allocine-sample, masakhanews-fr, deft2017: all splits) and on lemonde-2022
  outside its economy, technology and media sections. Benchmark texts that are truly on a topic are listed
  by the SHA-256 of their text in `tools/on-topic-benchmark-texts.csv` (read one by one; the reasons are
there, the texts are not: their licences keep them out of the project) and not counted. Missing benchmarks
  are skipped with a note.

Writes `reports/real.md` and `reports/real.json`; prints the Markdown.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OFF_TOPIC = {  # benchmark -> its files (all splits)
    "xlmt-fr": ("train.csv", "dev.csv"),
    "allocine-sample": ("train.csv", "dev.csv"),
    "masakhanews-fr": ("train.csv", "dev.csv"),
    "deft2017": ("train.csv",),
}
LEMONDE_ON_TOPIC = ("economie", "technologies", "medias")


def _rows(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def known_on_topic() -> set[str]:
    path = ROOT / "tools" / "on-topic-benchmark-texts.csv"
    return {row["sha256"] for row in _rows(path)} if path.exists() else set()


def tagged_share(model, texts: list[str]) -> tuple[float, list[int]]:
    tagged = []
    for start in range(0, len(texts), 1000):
        for i, labels in enumerate(model.predict(texts[start:start + 1000])["topics"]):
            if labels:
                tagged.append(start + i)
    return (len(tagged) / len(texts) if texts else 0.0), tagged


def off_topic_sets(benchmarks: Path) -> tuple[dict, list[str]]:
    """name -> texts, and notes on what was skipped."""
    sets, notes = {}, []
    known = known_on_topic()
    general = [r["text"] for r in _rows(ROOT / "seeds" / "general-french-test.csv") if not r["topics"]]
    sets["general-french-test.csv (held out)"] = [t for t in general if _digest(t) not in known]
    for name, files in OFF_TOPIC.items():
        paths = [benchmarks / name / f for f in files]
        if not all(p.exists() for p in paths):
            notes.append(f"{name}: not found under {benchmarks}, skipped")
            continue
        texts = [r["text"] for p in paths for r in _rows(p)]
        kept = [t for t in texts if _digest(t) not in known]
        if len(kept) < len(texts):
            notes.append(f"{name}: {len(texts) - len(kept)} texts listed as truly on topic, not counted")
        sets[name] = kept
    lemonde = [benchmarks / "lemonde-2022" / f for f in ("train.csv", "test.csv")]
    if all(p.exists() for p in lemonde):
        rows = [r for p in lemonde for r in _rows(p)]
        texts = [r["text"] for r in rows if not any(s in r["sections"].split(";") for s in LEMONDE_ON_TOPIC)]
        sets["lemonde-2022 outside economie/technologies/medias"] = [t for t in texts if _digest(t) not in known]
    else:
        notes.append(f"lemonde-2022: not found under {benchmarks}, skipped")
    return sets, notes


SENTIMENT = {  # benchmark -> files, metric; deft2017's `objective` is read as neutral and `mixed` left out
    "xlmt-fr": (("train.csv", "dev.csv"), "macro-F1"),
    "allocine-sample": (("train.csv", "dev.csv"), "accuracy"),
    "deft2017": (("train.csv",), "macro-F1"),
}


def sentiment_benchmarks(model, benchmarks: Path, notes: list) -> dict:
    """The model's sentiment on real tweets and film reviews of the benchmarks (the model also answers
    `neutral`, which allocine-sample does not have: those answers count as errors)."""
    from classify.metrics import single_label_metrics

    out = {}
    for name, (files, metric) in SENTIMENT.items():
        paths = [benchmarks / name / f for f in files]
        if not all(p.exists() for p in paths):
            continue  # already noted by off_topic_sets
        rows = [r for p in paths for r in _rows(p) if r["label"] != "mixed"]
        truth = [{"objective": "neutral"}.get(r["label"], r["label"]) for r in rows]
        predicted = []
        for start in range(0, len(rows), 1000):
            predicted += model.predict([r["text"] for r in rows[start:start + 1000]])["sentiment"]
        m = single_label_metrics(truth, predicted, sorted(set(truth)))
        out[name] = {"texts": len(rows), "metric": metric,
                     "score": m["accuracy"] if metric == "accuracy" else m["macro_f1"]}
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "default.joblib")
    parser.add_argument("--benchmarks", type=Path, default=ROOT.parent / "shared" / "benchmarks")
    parser.add_argument("--out", type=Path, default=ROOT / "reports")
    parser.add_argument("--list-tagged", type=Path, help="also write the tagged benchmark texts to this CSV")
    args = parser.parse_args(argv)

    from classify.api import evaluate, load
    from classify.report import write_report

    loaded = load(args.model)
    test = ROOT / "seeds" / "real-test.csv"
    report = evaluate(test, loaded)
    write_report(report, args.out / "real-test", model_name=args.model.name, corpus_name=test.name)
    topics, sentiment = report.tasks["topics"], report.tasks["sentiment"]
    baseline = sentiment["majority_baseline"]
    result = {"real-test": {
        "documents": report.n_documents, "topics_micro_f1": topics["micro_f1"], "topics_macro_f1": topics["macro_f1"],
        "sentiment_accuracy": sentiment["accuracy"], "sentiment_macro_f1": sentiment["macro_f1"],
        "constant_answer": baseline["label"], "constant_accuracy": baseline["accuracy"],
        "constant_macro_f1": baseline["macro_f1"]}, "off_topic": {}}
    sets, notes = off_topic_sets(args.benchmarks)
    tagged_rows = []
    for name, texts in sets.items():
        share, tagged = tagged_share(loaded.model, texts)
        result["off_topic"][name] = {"texts": len(texts), "tagged": len(tagged), "share": share}
        tagged_rows += [(name, texts[i]) for i in tagged]
    result["notes"] = notes
    result["sentiment_benchmarks"] = sentiment_benchmarks(loaded.model, args.benchmarks, notes)
    r = result["real-test"]
    lines = [f"# `{args.model.name}` on real text nobody on the project wrote", "",
             f"## Held-out real messages (`seeds/real-test.csv`, {r['documents']} messages)", "",
             "| topics micro-F1 | topics macro-F1 | sentiment accuracy | sentiment macro-F1 | "
             f"always `{r['constant_answer']}`: accuracy | macro-F1 |", "|---:|---:|---:|---:|---:|---:|",
             f"| {r['topics_micro_f1']:.3f} | {r['topics_macro_f1']:.3f} | {r['sentiment_accuracy']:.3f} | "
             f"{r['sentiment_macro_f1']:.3f} | {r['constant_accuracy']:.3f} | {r['constant_macro_f1']:.3f} |", "",
             "Per label, the confusion matrix and the most confident errors: `real-test/report.md`.", "",
             "## Off-topic text: share tagged with any topic", "", "| texts | documents | tagged | share |",
             "|---|---:|---:|---:|"]
    lines += [f"| {name} | {v['texts']} | {v['tagged']} | {v['share']:.1%} |" for name, v in result["off_topic"].items()]
    if result["sentiment_benchmarks"]:
        lines += ["", "## Sentiment on real text of other genres (benchmarks, all splits)", "",
                  "| data | texts | metric | score |", "|---|---:|---|---:|"]
        lines += [f"| {name} | {v['texts']} | {v['metric']} | {v['score']:.3f} |"
                  for name, v in result["sentiment_benchmarks"].items()]
    lines += [""] + [f"- {note}" for note in notes]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "real.md").write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")
    (args.out / "real.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    if args.list_tagged:
        with open(args.list_tagged, "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(["set", "sha256", "text"])
            w.writerows([name, _digest(text), text] for name, text in tagged_rows)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
