"""`python -m tools.bench shares` (`make eval-shares`): how well `classify shares` and `predict --adapt`
estimate label shares, measured on data the model did not see.

1. The written corpus is split 80/20 as `make eval` splits it (stratified, seed 0); a model is trained on
   the 80 % with the default model's settings.
2. Skewed resamples of the held-out 20 %: for each sentiment setting (80/10/10, 10/80/10, 10/10/80) and
   each of 20 seeds, 200 documents drawn with those label shares (with replacement: the held-out set has
   fewer than 160 documents of some labels). Each estimator's mean absolute error over the labels, and
   how often its bootstrap interval (the CLI's: 1,000 resamples, 95 %) contains the true share.
3. Accuracy with and without `--adapt` on the whole held-out 20 % (whose shares are the training ones).
4. Optionally, an annotated real set (`--real`, columns id,text,topics,sentiment): the annotated negative
   share beside the CC, ACC and EM estimates, and sentiment accuracy with and without `--adapt`; the same
   with a model trained without the real messages (a kind of traffic it has not seen, other shares).
5. `classify shares` against `classify predict --format jsonl` on 100,000 documents (lemonde-2022 texts read
   in place when ../shared/benchmarks is there, else the held-out texts; repeats have their words
   shuffled), each timed as a command, best of two.

Writes OUT/shares.md and OUT/shares.json, with the date, commit and machine.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

SETTINGS = {"80/10/10": (0.8, 0.1, 0.1), "10/80/10": (0.1, 0.8, 0.1), "10/10/80": (0.1, 0.1, 0.8)}
SIZE = 200
SEEDS = 20
TASK = "sentiment"
LABELS = ("negative", "neutral", "positive")  # the order of SETTINGS' shares
SHOWN = ("cc", "acc", "em", "pcc", "pacc")
# other estimates of the skewed resamples, to explain the errors (`render` says what each is)
DIAGNOSES = ("acc_own_rates", "acc_pooled", "em_pooled", "em_uncalibrated", "acc_mixed", "acc_written", "acc_taken")
TIMED_DOCUMENTS = 100_000


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _rows(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


# trained on beside the 80 % split, as the default model is (the rest of the bundled corpus)
EXTRA_TRAINING = (Path(__file__).resolve().parent.parent / "seeds" / "general-french.csv",)


def _model(train_csv: Path, out: Path, vectors: bool, weighted: bool = True):
    from classify import api
    from classify.config import ModelConfig

    files = [train_csv, *EXTRA_TRAINING]
    _stderr(f"training on {' + '.join(map(str, files))} (vectors: {'yes' if vectors else 'no'})")
    # the default model's configuration (make model): classify train's defaults, with word vectors
    from classify.paths import BUNDLED_WEIGHTS

    api.train([f for f in files if Path(f).exists()], out, config=ModelConfig(vectors=vectors, seed=0,
                                                                               weights=BUNDLED_WEIGHTS if weighted else ()),
              jobs=0)
    return api.load(out)


def skewed_resamples(loaded, P: np.ndarray, y: np.ndarray, *, resamples: int = 1000, seeds: int = SEEDS,
                     size: int = SIZE, progress=None, S: np.ndarray | None = None) -> dict:
    """MAE and interval coverage of every estimator over the skewed resamples of a labelled set whose
    sentiment probabilities are `P`, labels (indices into the model's labels) `y` and source probabilities
    `S` (None for a model of one source)."""
    from classify import quantify
    from classify.shares import _problems

    task = loaded.model.tasks_[TASK]
    order = [task.labels.index(label) for label in LABELS]
    # diagnosis: ACC with the misclassification rates of this labelled set itself instead of the
    # cross-validated ones stored in the model (what ACC would do if the stored rates were exact here)
    sources = None if S is None else loaded.model.sources_
    source_names = None if S is None else sources["names"]
    own_rates = quantify.training_rates(task.labels, False, P, np.asarray(task.labels, dtype=object)[y].tolist())
    out = {}
    for setting, shares in SETTINGS.items():
        counts = np.round(np.asarray(shares) * size).astype(int)
        errors = {name: [] for name in (*SHOWN, *DIAGNOSES)}
        mixes, taken = [], []
        accuracy = {"without": [], "with": []}  # of the resample's documents, without and with --adapt
        covered = {name: 0 for name in SHOWN}
        widths = {name: [] for name in SHOWN}
        pairs = 0
        for seed in range(seeds):
            rng = np.random.default_rng([seed, sum(counts * [1, 10, 100])])
            rows = np.concatenate([rng.choice(np.flatnonzero(y == order[j]), counts[j], replace=True)
                                   for j in range(len(LABELS))])
            truth = np.bincount(y[rows], minlength=len(task.labels)) / len(rows)
            mix = quantify.composition(getattr(loaded.model, "sources_", None), None if S is None else S[rows])
            mixes.append(mix)
            if S is not None:  # the share of the documents taken for each source (ACC's strata)
                taken.append(np.bincount(S[rows].argmax(axis=1), minlength=S.shape[1]) / len(rows))
            (_, problem, _), *_ = _problems(task, P[rows], loaded.provenance, mix, None if S is None else S[rows],
                                            sources)[0]
            point = quantify.estimate(problem)
            # what the model's pooled rates and training shares give (the estimate before sources were stored)
            (_, pooled, _), *_ = _problems(task, P[rows], loaded.provenance)[0]
            pooled = quantify.estimate(pooled)
            errors["acc_pooled"].append(float(np.abs(pooled["acc"] - truth).mean()))
            errors["em_pooled"].append(float(np.abs(pooled["em"] - truth).mean()))
            intervals = quantify.bootstrap(problem, point, resamples=resamples, seed=seed)
            pairs += len(truth)
            # --adapt adjusts the model's probabilities (not recalibrated per source) where its test finds the
            # shares moved, as `api.adapt` does
            result = quantify.adapt_batch(problem.P, problem.priors,
                                          None if problem.em_P is None else (problem.em_P, problem.em_priors))
            adapt_shares, adapted = result["shares"], result["P"]
            errors["em_uncalibrated"].append(float(np.abs(adapt_shares - truth).mean()))
            accuracy["without"].append(float((problem.predicted == y[rows]).mean()))
            accuracy["with"].append(float((adapted.argmax(axis=1) == y[rows]).mean()))
            own = quantify.adjust(point["cc"], own_rates["confusion"])[0]
            errors["acc_own_rates"].append(float(np.abs(own - truth).mean()))
            rates = task.rates if S is not None and "sources" in task.rates else None
            if rates is not None:
                # ACC as before the strata: the sources' rates mixed as the batch's estimated source mix; and
                # with the written source's rates, as a source classifier that is never wrong would give them
                # and with a stratum per source the documents are taken for, not per group of like documents
                for name, strata in (("acc_mixed", quantify.strata_for(rates, len(rows), mix=mix)),
                                     ("acc_written", quantify.strata_for(rates, len(rows), mix={"written": 1.0})),
                                     ("acc_taken", quantify.strata_for(rates, len(rows), S[rows], source_names))):
                    shares = quantify.estimate(quantify.Problem(P[rows], problem.predicted, rates, problem.priors,
                                                                strata=strata))["acc"]
                    errors[name].append(float(np.abs(shares - truth).mean()))
            for name in SHOWN:
                errors[name].append(float(np.abs(point[name] - truth).mean()))
                low, high = intervals[name]
                covered[name] += int(((low - 1e-9 <= truth) & (truth <= high + 1e-9)).sum())
                widths[name].append(float((high - low).mean()))
        out[setting] = {name: {"mae": round(float(np.mean(errors[name])), 4),
                               "coverage": round(covered[name] / pairs, 4),
                               "mean_width": round(float(np.mean(widths[name])), 4)} for name in SHOWN}
        for name in DIAGNOSES:
            if errors[name]:
                out[setting][name] = {"mae": round(float(np.mean(errors[name])), 4)}
        if mixes[0] is not None:
            out[setting]["sources"] = {source: round(float(np.mean([m[source] for m in mixes])), 4) for source in mixes[0]}
        if taken:
            out[setting]["taken_for"] = dict(zip(source_names, np.round(np.mean(taken, axis=0), 4).tolist()))
        out[setting]["adapt_accuracy"] = {k: round(float(np.mean(v)), 4) for k, v in accuracy.items()}
        if progress:
            progress(f"{setting}: " + ", ".join(f"{n.upper()} {100 * out[setting][n]['mae']:.2f}" for n in SHOWN))
    return out


def _adapt_accuracy(loaded, texts: list[str], truth: dict) -> dict:
    """Accuracy per task without and with `--adapt` on one batch (exact-match accuracy for multi-label)."""
    from classify import api
    from classify.inputs import Document

    documents = [Document(str(i), t) for i, t in enumerate(texts)]
    plain = list(api.predict(documents, loaded))
    adapted_batch = api.adapt(documents, loaded)
    adapted = list(api.predict(documents, loaded, adapted=adapted_batch))
    out = {}
    for name, values in truth.items():
        multi = loaded.model.tasks_[name].multi
        key = (lambda v: sorted(v)) if multi else (lambda v: v)
        rows = [i for i, v in enumerate(values) if v is not None]
        before = np.mean([key(plain[i].labels[name]) == key(values[i]) for i in rows])
        after = np.mean([key(adapted[i].labels[name]) == key(values[i]) for i in rows])
        out[name] = {"without": round(float(before), 4), "with": round(float(after), 4),
                     "change_points": round(100 * float(after - before), 2),
                     "estimated": dict(zip(adapted_batch.shares[name]["labels"],
                                           map(lambda x: round(x, 4), adapted_batch.shares[name]["estimated"]))),
                     "training": dict(zip(adapted_batch.shares[name]["labels"],
                                          map(lambda x: round(x, 4), adapted_batch.shares[name]["training"]))),
                     # the likelihood-ratio test's p-values (one per label of a multi-label task), and whether
                     # --adapt adjusted the probabilities
                     "p_values": [round(p, 4) for p in adapted_batch.shares[name]["p_values"]],
                     "adjusted": adapted_batch.shares[name]["adjusted"]}
    return out


def _truth(rows: list[dict], loaded) -> dict:
    out = {}
    for name, task in loaded.model.tasks_.items():
        if rows and name in rows[0]:
            if task.multi:
                out[name] = [[x.strip() for x in r[name].split(";") if x.strip()] for r in rows]
            else:
                out[name] = [r[name].strip() or None for r in rows]
    return out


def real_set(loaded, path: Path, resamples: int = 1000) -> dict:
    """The annotated negative share of a real set beside its estimates, and --adapt's accuracy there."""
    from classify import api, quantify
    from classify.inputs import Document
    from classify.shares import _problems

    rows = _rows(path)
    texts = [r["text"] for r in rows]
    truth = _truth(rows, loaded)
    task = loaded.model.tasks_[TASK]
    annotated = [i for i, v in enumerate(truth[TASK]) if v is not None]
    raw = api.probabilities([Document(str(i), texts[i]) for i in annotated], loaded)
    mix = quantify.composition(getattr(loaded.model, "sources_", None), raw.get(quantify.SOURCES_KEY))
    S = raw.get(quantify.SOURCES_KEY)
    (_, problem, _), *_ = _problems(task, raw[TASK], loaded.provenance, mix, S,
                                    None if S is None else loaded.model.sources_)[0]
    point = quantify.estimate(problem)
    intervals = quantify.bootstrap(problem, point, resamples=resamples, seed=0)
    j = task.labels.index("negative")
    share = float(np.mean([truth[TASK][i] == "negative" for i in annotated]))
    estimates = {}
    for name in SHOWN:
        if point[name] is None:
            continue
        estimates[name] = {"share": round(float(point[name][j]), 4), "error_points": round(100 * float(point[name][j] - share), 2),
                           "low": round(float(intervals[name][0][j]), 4), "high": round(float(intervals[name][1][j]), 4)}
    return {"path": str(path), "n": len(annotated), "negative_share": round(share, 4), "estimates": estimates,
            "sources": None if mix is None else {k: round(v, 4) for k, v in mix.items()},
            "accuracy": _adapt_accuracy(loaded, texts, {TASK: truth[TASK]})[TASK]}


def _timing_file(texts: list[str], path: Path, n: int, seed: int = 0) -> None:
    """`n` documents cycling through `texts`; every repeat has its words shuffled, so that no two are alike."""
    rng = np.random.default_rng(seed)
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "text"])
        for i in range(n):
            text = texts[i % len(texts)]
            if i >= len(texts):
                words = text.split()
                rng.shuffle(words)
                text = " ".join(words)
            writer.writerow([f"d{i}", text])


def _best_of(command: list[str], runs: int = 2) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        best = min(best, time.perf_counter() - start)
    return best


def timing(model_path: Path, texts: list[str], source: str, n: int = TIMED_DOCUMENTS) -> dict:
    """`classify predict --format jsonl` and `classify shares` on the same `n` documents, alternated."""
    exe = str(Path(sys.executable).with_name("classify"))
    with tempfile.TemporaryDirectory(prefix="classify-shares-") as tmp:  # outside the project: generated
        data = Path(tmp) / "documents.csv"
        _timing_file(texts, data, n)
        _stderr(f"timing predict and shares on {n:,} documents ({source})")
        predict = [exe, "predict", str(data), "--model", str(model_path), "--format", "jsonl", "-q"]
        shares = [exe, "shares", str(data), "--model", str(model_path), "--format", "json", "-q"]
        results = {"predict": float("inf"), "shares": float("inf")}
        for _ in range(2):  # alternated, best of two each: the machine is shared
            results["predict"] = min(results["predict"], _best_of(predict, 1))
            results["shares"] = min(results["shares"], _best_of(shares, 1))
    return {"documents": n, "source": source, "predict_s": round(results["predict"], 1),
            "shares_s": round(results["shares"], 1), "ratio": round(results["shares"] / results["predict"], 3)}


def run(corpus: Path, out: Path, *, real: Path | None = None, benchmarks: Path | None = None,
        vectors: bool | None = None, timed: int = TIMED_DOCUMENTS, resamples: int = 1000, seeds: int = SEEDS) -> dict:
    from classify import vectors as word_vectors
    from tools import bench
    from tools.bench import split

    start = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    if vectors is None:
        vectors = word_vectors.available()
    split(corpus, 0.2, 0, out / "held-out", ("real-", "offtopic-", "message-"))  # the written held-out set of make eval
    model_path = out / "held-out" / "model.joblib"
    loaded = _model(out / "held-out" / "train.csv", model_path, vectors)
    test = _rows(out / "held-out" / "test.csv")
    texts = [r["text"] for r in test]
    from classify import api, quantify
    from classify.inputs import Document

    task = loaded.model.tasks_[TASK]
    raw = api.probabilities([Document(str(i), t) for i, t in enumerate(texts)], loaded)
    P, S = raw[TASK], raw.get(quantify.SOURCES_KEY)
    y = np.array([task.labels.index(r[TASK]) for r in test])
    _stderr(f"skewed resamples: {len(SETTINGS)} settings x {seeds} seeds x {SIZE} documents")
    data = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "commit": bench._commit(),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "corpus": str(corpus), "vectors": vectors, "held_out": len(test), "resamples": resamples, "seeds": seeds,
        "size": SIZE,
        "skewed": skewed_resamples(loaded, P, y, resamples=resamples, seeds=seeds, progress=_stderr, S=S),
        "balanced": _adapt_accuracy(loaded, texts, _truth(test, loaded)),
    }
    if real is not None and Path(real).exists():
        _stderr(f"real annotated set: {real}")
        data["real"] = real_set(loaded, Path(real), resamples)
        # the situation --adapt is for: a model that has not seen this kind of traffic, whose training shares
        # are not the batch's (the default model has seen real messages, so their shares are its own)
        unseen_csv = out / "held-out" / "train-without-real.csv"
        kept = [r for r in _rows(out / "held-out" / "train.csv") if not r["id"].startswith("real-")]
        with open(unseen_csv, "w", encoding="utf-8", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(kept[0]))
            writer.writeheader()
            writer.writerows(kept)
        # (its weights are the real messages': without them, the default model's other settings)
        unseen = _model(unseen_csv, out / "held-out" / "model-without-real.joblib", vectors, weighted=False)
        data["real_unseen"] = real_set(unseen, Path(real), resamples)
    else:
        data["real"] = None
        data["real_note"] = (f"{real} does not exist yet: the real annotated set was not measured."
                             if real else "no --real file given: the real annotated set was not measured.")
        _stderr(f"Note: {data['real_note']}")
    if timed:
        lemonde = (benchmarks or Path("../shared/benchmarks")) / "lemonde-2022"
        if (lemonde / "train.csv").exists():
            source_texts = [r["text"] for name in ("train.csv", "test.csv") for r in _rows(lemonde / name)]
            source = f"{lemonde} train+test texts, read in place"
        else:
            source_texts, source = texts, "the held-out texts"
        data["timing"] = timing(model_path, source_texts, source, timed)
    data["seconds"] = round(time.perf_counter() - start, 1)
    (out / "shares.json").write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (out / "shares.md").write_text(render(data), encoding="utf-8")
    _stderr(f"Wrote {out / 'shares.md'} and {out / 'shares.json'} in {data['seconds']:.0f}s")
    return data


def _real_rows(r: dict) -> list[str]:
    """The estimates of a real set's negative share, and its accuracy without and with --adapt."""
    lines = ["| estimator | negative share | error (points) | 95 % interval |", "|---|---:|---:|---:|"]
    for name, e in r["estimates"].items():
        lines.append(f"| {name.upper()} | {100 * e['share']:.1f} % | {e['error_points']:+.1f} | "
                     f"{100 * e['low']:.1f}-{100 * e['high']:.1f} |")
    a = r["accuracy"]
    return lines + ["", f"Sentiment accuracy: {a['without']:.4f} without `--adapt`, {a['with']:.4f} with it "
                        f"({a['change_points']:+.2f} points; {_test(a)})."]


def _test(a: dict) -> str:
    """What --adapt's likelihood-ratio test decided (reports written before it: nothing)."""
    if "adjusted" not in a:
        return "no test"
    return ", ".join(f"{'adjusted' if adjusted else 'kept'}, p {'< 0.001' if p < 0.001 else f'= {p:.3f}'}"
                     for adjusted, p in zip(a["adjusted"], a["p_values"]))


def render(data: dict) -> str:
    lines = [f"# Label shares: evaluation (commit {data['commit']}, {data['date']}, {data['machine']['cpus']} CPUs, "
             f"Python {data['machine']['python']})", "",
             f"Model trained on the 80 % split of `{data['corpus']}` (word vectors: "
             f"{'yes' if data['vectors'] else 'no'}); {data['held_out']} held-out documents.", "",
             f"## Skewed resamples of the held-out set ({data['seeds']} seeds x {data['size']} documents, {TASK})", "",
             "Mean absolute error over the labels, in points (ratio to CC's); the 95 % bootstrap interval's "
             f"coverage of the true share ({data['resamples']} resamples; ACC's and PACC's also draw the stored rates "
             "from their posterior) and mean width, in points.", "",
             "| setting | " + " | ".join(n.upper() for n in SHOWN) + " |", "|---|" + "---:|" * len(SHOWN)]
    for setting, r in data["skewed"].items():
        cc = r["cc"]["mae"]
        cells = [f"{100 * r[n]['mae']:.2f}" + ("" if n == "cc" or not cc else f" ({r[n]['mae'] / cc:.2f})")
                 for n in SHOWN]
        lines.append(f"| {setting} | " + " | ".join(cells) + " |")
    sourced = [(setting, r) for setting, r in data["skewed"].items() if r.get("sources")]
    if sourced:
        lines += ["", "The resamples' source mix as estimated by the model (mean over seeds): " + ", ".join(
            f"{setting} " + " / ".join(f"{k} {100 * v:.1f} %" for k, v in r["sources"].items()) for setting, r in sourced)
            + ". Without the per-source rates (the training mix's pooled rates and label shares, as models of one "
            "source or trained before them use): " + ", ".join(
                f"{setting} ACC {100 * r['acc_pooled']['mae']:.2f} ({r['acc_pooled']['mae'] / r['cc']['mae']:.2f}), "
                f"EM {100 * r['em_pooled']['mae']:.2f} ({r['em_pooled']['mae'] / r['cc']['mae']:.2f})"
                for setting, r in sourced) + "."]
    stratified = [(setting, r) for setting, r in data["skewed"].items() if r.get("taken_for") and "acc_mixed" in r]
    if stratified:
        def mae(r, name):
            return f"{100 * r[name]['mae']:.2f} ({r[name]['mae'] / r['cc']['mae']:.2f})"

        lines += ["", "ACC corrects each document with the rates of the training documents in its group of like "
                  "documents (groups of their source probabilities, out of fold); the resamples' documents were "
                  "taken for (mean over seeds): "
                  + ", ".join(f"{setting} " + " / ".join(f"{k} {100 * v:.1f} %" for k, v in r["taken_for"].items())
                              for setting, r in stratified)
                  + ". ACC with a stratum per source the documents are taken for instead of per group (models saved "
                  "before the groups): " + ", ".join(f"{setting} {mae(r, 'acc_taken')}" for setting, r in stratified
                                                   if "acc_taken" in r)
                  + "; with the sources' rates mixed as the estimated source mix (models saved before "
                  "the rates per source taken for): "
                  + ", ".join(f"{setting} {mae(r, 'acc_mixed')}" for setting, r in stratified)
                  + "; with the written source's rates, as a source classifier that is never wrong would give them: "
                  + ", ".join(f"{setting} {mae(r, 'acc_written')}" for setting, r in stratified) + "."]
    lines += ["", "Diagnosis: ACC with the held-out set's own misclassification rates instead of the cross-validated "
              "ones stored in the model: " + ", ".join(
                  f"{setting} {100 * r['acc_own_rates']['mae']:.2f} ({r['acc_own_rates']['mae'] / r['cc']['mae']:.2f})"
                  for setting, r in data["skewed"].items() if "acc_own_rates" in r and r["cc"]["mae"]) + ". "
              "EM on the model's probabilities as they are (not recalibrated per source; what `--adapt` uses): "
              + ", ".join(f"{setting} {100 * r['em_uncalibrated']['mae']:.2f} ({r['em_uncalibrated']['mae'] / r['cc']['mae']:.2f})"
                          for setting, r in data["skewed"].items() if "em_uncalibrated" in r and r["cc"]["mae"]) + ".",
              "", "Sentiment accuracy of the resamples' documents without and with `--adapt` (mean over seeds): " + ", ".join(
                  f"{setting} {r['adapt_accuracy']['without']:.3f} -> {r['adapt_accuracy']['with']:.3f}"
                  for setting, r in data["skewed"].items() if "adapt_accuracy" in r) + ".",
              "", "| setting | " + " | ".join(f"{n.upper()} coverage / width" for n in SHOWN) + " |",
              "|---|" + "---:|" * len(SHOWN)]
    for setting, r in data["skewed"].items():
        lines.append(f"| {setting} | " + " | ".join(f"{100 * r[n]['coverage']:.0f} % / {100 * r[n]['mean_width']:.1f}"
                                                    for n in SHOWN) + " |")
    lines += ["", "## `--adapt` on the whole held-out set (its label shares are the training ones)", "",
              "`--adapt` adjusts a task's (a multi-label task's label's) probabilities where its likelihood-ratio test "
              "finds the batch's shares differ from the training ones (p < 0.05), else keeps them.", "",
              "| task | accuracy without | with `--adapt` | change (points) | test |", "|---|---:|---:|---:|---|"]
    for name, r in data["balanced"].items():
        lines.append(f"| {name} | {r['without']:.4f} | {r['with']:.4f} | {r['change_points']:+.2f} | {_test(r)} |")
    lines += ["", "## Annotated real messages", ""]
    if data.get("real"):
        r = data["real"]
        mix = ("; source mix estimated by the model: " + " / ".join(f"{k} {100 * v:.1f} %" for k, v in r["sources"].items())
               if r.get("sources") else "")
        lines += [f"`{r['path']}`: {r['n']} annotated messages, negative share {100 * r['negative_share']:.1f} %{mix}.", ""]
        lines += _real_rows(r)
        if data.get("real_unseen"):
            lines += ["", "The same messages with a model trained without any real message (written and off-topic "
                          "texts only: traffic of a kind it has not seen, with other label shares):", ""]
            lines += _real_rows(data["real_unseen"])
    else:
        lines.append(data["real_note"])
    if data.get("timing"):
        t = data["timing"]
        lines += ["", f"## Time on {t['documents']:,} documents", "",
                  f"{t['source']}; best of two alternated runs each, one process.", "",
                  f"`classify predict --format jsonl`: {t['predict_s']:.1f} s; `classify shares`: {t['shares_s']:.1f} s "
                  f"(ratio {t['ratio']:.2f})."]
    return "\n".join(lines) + "\n"


def add_parser(sub) -> None:
    p = sub.add_parser("shares", help="how well shares/--adapt estimate label shares (make eval-shares)")
    p.add_argument("--corpus", type=Path, default=Path("seeds/corpus.csv"))
    p.add_argument("--out", type=Path, default=Path("reports/shares"))
    p.add_argument("--real", type=Path, help="annotated real messages (id,text,topics,sentiment); skipped if absent")
    p.add_argument("--benchmarks", type=Path, default=Path("../shared/benchmarks"))
    p.add_argument("--vectors", action=argparse.BooleanOptionalAction, default=None,
                   help="train with word vectors (default: when they are built)")
    p.add_argument("--timed", type=int, default=TIMED_DOCUMENTS, help="documents of the timing (0: no timing)")
    p.add_argument("--resamples", type=int, default=1000)
    p.add_argument("--seeds", type=int, default=SEEDS)


def main(args) -> None:
    run(args.corpus, args.out, real=args.real, benchmarks=args.benchmarks, vectors=args.vectors, timed=args.timed,
        resamples=args.resamples, seeds=args.seeds)
