"""In-process prediction speed, Python path against the compiled core (1 and 2 threads, and with the features
compiled but normalisation in Python), step by step.

    python -m tools.core_speed MODEL TABLE [TABLE ...] [--repeats 3]

Reads the `text` column of every table (each text once, in order), then, for each repeat, runs the four
set-ups one after the other (interleaved, since the machine is shared): a freshly loaded model predicts every
text in chunks of `classify.batch.CHUNK` documents, timing normalisation, features and the linear layer with
its calibration. Prints the median of each figure, in docs/s and µs per document, as a Markdown table.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import sys
import time


def _texts(paths) -> list[str]:
    texts = []
    for path in paths:
        with open(path, encoding="utf-8", newline="") as f:
            texts.extend(row["text"] for row in csv.DictReader(f))
    return texts


def run(model_path: str, texts: list[str], pure: bool, threads: int, python_normaliser: bool = False) -> dict:
    from classify import core
    from classify.batch import CHUNK
    from classify.persist import load_model

    os.environ["CLASSIFY_PURE_PYTHON"] = "1" if pure else "0"
    core.set_threads(threads)
    model = load_model(model_path)[0]  # fresh: no n-gram tables or word caches from an earlier run
    core._NORM.clear()  # nor the compiled normaliser's tables (built again, as a new process would)
    steps = {"normalise": 0.0, "features": 0.0, "linear layer": 0.0}
    clock = time.perf_counter
    start = clock()
    for i in range(0, len(texts), CHUNK):
        chunk = texts[i:i + CHUNK]
        t0 = clock()
        normalised = ([model.normalizer_(t) for t in chunk] if python_normaliser
                      else core.normalize_texts(model.normalizer_, chunk))
        t1 = clock()
        X = model.features_.transform(normalised).tocsr()
        t2 = clock()
        for task in model.tasks_.values():
            task.decide(task.scores(X))
        t3 = clock()
        steps["normalise"] += t1 - t0
        steps["features"] += t2 - t1
        steps["linear layer"] += t3 - t2
    steps["total"] = clock() - start
    return steps


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.core_speed", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("tables", nargs="+")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    texts = _texts(args.tables)
    setups = [("Python path", True, 1, False), ("compiled features, Python normaliser", False, 1, True),
              ("compiled core, 1 thread", False, 1, False), ("compiled core, 2 threads", False, 2, False)]
    results = {name: [] for name, *_ in setups}
    for r in range(args.repeats):
        for name, pure, threads, python_normaliser in setups:
            results[name].append(run(args.model, texts, pure, threads, python_normaliser))
            print(f"repeat {r + 1}: {name}: {results[name][-1]['total']:.2f} s", file=sys.stderr)
    n = len(texts)
    print(f"{n:,} texts, median of {args.repeats} interleaved runs; µs per document\n")
    print("| set-up | docs/s | total µs | normalise | features | linear layer |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, runs in results.items():
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        print(f"| {name} | {n / med['total']:,.0f} | {1e6 * med['total'] / n:.1f} | "
              f"{1e6 * med['normalise'] / n:.1f} | {1e6 * med['features'] / n:.1f} | "
              f"{1e6 * med['linear layer'] / n:.1f} |")


if __name__ == "__main__":
    main()
