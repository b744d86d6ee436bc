"""A worker process killed from outside (as the out-of-memory killer does) ends the command within seconds:
one `Error:` line, exit code 1, no traceback, and no model written. Never a hang."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from tests.conftest import TINY

ROOT = Path(__file__).resolve().parent.parent


def _kill_a_worker_of(args, wait_for: bytes = b"", env: dict | None = None):
    """Run the installed `classify` with `args`; once `wait_for` shows on stderr and it has worker processes,
    SIGKILL one of them; returns (code, stderr, seconds from the kill to the end)."""
    exe = Path(sys.executable).with_name("classify")
    process = subprocess.Popen([str(exe), *map(str, args)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               env={**os.environ, "TYPER_USE_RICH": "0", **(env or {})}, start_new_session=True)
    seen = b""
    try:
        while wait_for not in seen:
            line = process.stderr.readline()
            assert line, f"the command ended before {wait_for!r}: {seen.decode()}"
            seen += line
        parent = psutil.Process(process.pid)
        deadline = time.monotonic() + 60
        children = []
        while not children and time.monotonic() < deadline and process.poll() is None:
            children = parent.children()
            time.sleep(0.02)
        assert children, f"no worker process appeared: {seen.decode()}"
        children[0].send_signal(signal.SIGKILL)
        killed = time.monotonic()
        err = process.communicate(timeout=30)[1]
        return process.returncode, (seen + err).decode(), time.monotonic() - killed
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _big_corpus(path: Path, n: int = 12_000) -> Path:
    """Enough documents for training to fit the character n-grams in a worker process beside this one."""
    import csv

    rows = list(csv.DictReader(TINY.open(encoding="utf-8")))
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["id", "text", "topics", "sentiment"])
        writer.writeheader()
        for i in range(n):
            row = rows[i % len(rows)]
            writer.writerow({**row, "id": f"r{i}", "text": f"{row['text']} (message {i}, lot {i % 97})"})
    return path


def _one_error_line(err: str) -> None:
    errors = [line for line in err.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, err
    assert "worker process was killed by SIGKILL" in errors[0], err
    assert "Traceback" not in err, err


def test_a_worker_killed_during_training_ends_it_with_one_error_and_no_model(tmp_path):
    out = tmp_path / "model.joblib"
    code, err, seconds = _kill_a_worker_of(
        ["train", _big_corpus(tmp_path / "big.csv"), "--out", out, "--jobs", "2"], b"extracting features")
    assert code == 1, err
    _one_error_line(err)
    assert seconds < 10, seconds
    assert not out.exists() and not list(tmp_path.glob(".model.joblib.*"))


@pytest.mark.parametrize("jobs", ["2"])
def test_a_worker_killed_during_prediction_ends_it_with_one_error(tiny_model_path, tmp_path, jobs):
    big = tmp_path / "big.csv"
    lines = [f"{i},Le réseau est en panne depuis {i} jours et le service client ne répond pas" for i in range(60_000)]
    big.write_text("id,text\n" + "\n".join(lines) + "\n", encoding="utf-8")
    # on the pure-Python path: the compiled core predicts in threads, not in worker processes
    code, err, seconds = _kill_a_worker_of(
        ["predict", big, "--model", tiny_model_path, "--format", "jsonl", "--jobs", jobs],
        env={"CLASSIFY_PURE_PYTHON": "1"})
    assert code == 1, err
    _one_error_line(err)
    assert seconds < 10, seconds


_DYING_WORKER = r'''
import os, signal, sys, time
from classify.parallel import WorkerLost, ordered_map

def work(item, shared):
    if item == 0:  # die halfway through writing a result, holding the result pipe's lock
        frame = sys._getframe()
        while frame is not None and "result_queue" not in frame.f_locals:
            frame = frame.f_back
        assert frame is not None, "no result queue above this call"
        queue = frame.f_locals["result_queue"]
        queue._wlock.acquire()
        os.write(queue._writer.fileno(), (1 << 20).to_bytes(4, "big") + b"half a message")
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(0.5)  # the other worker then waits for that lock
    return item

start = time.monotonic()
try:
    list(ordered_map(work, range(8), jobs=2))
except WorkerLost as exc:
    print(f"lost after {time.monotonic() - start:.1f} s: {exc}", flush=True)
'''


def test_a_worker_killed_while_writing_its_result_ends_the_work_and_the_process():
    """The executor's own thread would wait for the rest of that message forever, and the interpreter for
    that thread at exit: the work must stop with `WorkerLost`, and the process must end."""
    done = subprocess.run([sys.executable, "-c", _DYING_WORKER], capture_output=True, text=True, timeout=60,
                          cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("lost after "), done.stdout + done.stderr
    assert "was killed by SIGKILL" in done.stdout, done.stdout
    assert float(done.stdout.split()[2]) < 10, done.stdout


def test_predict_with_jobs_runs_in_threads_on_the_compiled_core_and_gives_what_one_job_gives(tiny_model_path,
                                                                                         monkeypatch):
    """Threads where the compiled core computes every block without the GIL (no worker process, one copy of
    the model); forked processes on the pure-Python path. The records are the same either way."""
    from classify import api, core, parallel

    loaded = api.load(tiny_model_path)
    texts = [f"Le réseau Free est en panne depuis {i} jours, le service client ne répond pas" for i in range(2500)]
    texts += ["Super accueil en boutique, merci !", "", "Bravo SFR, trois semaines pour rétablir ma ligne… 👏"]
    one = [r.to_record(loaded.tasks) for r in api.predict(texts, loaded, jobs=1)]
    threaded = core.in_threads(loaded.model)
    assert threaded == (core.module() is not None)

    def no_process(*args, **kwargs):
        raise AssertionError("a worker process was started")

    if threaded:
        monkeypatch.setattr(parallel, "_Workers", no_process)
    two = [r.to_record(loaded.tasks) for r in api.predict(texts, loaded, jobs=2)]
    assert two == one


def test_a_large_batch_is_scored_in_threads_on_the_compiled_core_with_the_same_numbers(tiny_model_path,
                                                                                       monkeypatch):
    """`ClassifyModel.predict_scores` splits a large batch over its `n_jobs` threads (at most one per core)
    when the compiled core computes every block; each document's probabilities are those of one thread,
    to the bit. In a worker of `predict --jobs` (already one of several), it does not split again."""
    import numpy as np

    from classify import api, core, parallel

    model = api.load(tiny_model_path).model
    model.n_jobs_ = 2
    texts = [f"Le réseau Free est en panne depuis {i} jours, le service client ne répond pas" for i in range(900)]
    texts += ["Super accueil en boutique, merci !", "", "Bravo SFR, trois semaines pour rétablir ma ligne… 👏"
              ] * 50
    parts = model._thread_parts(texts)
    assert (parts is not None) == (core.module() is not None and (os.cpu_count() or 1) >= 2)
    if parts is not None:
        assert [t for part in parts for t in part] == texts and len(parts) == 2
    threaded = model.predict_scores(texts)
    monkeypatch.setattr(parallel, "_IN_WORKER", True)
    assert model._thread_parts(texts) is None
    alone = model.predict_scores(texts)
    assert threaded.keys() == alone.keys()
    assert all(np.array_equal(threaded[name], alone[name]) for name in alone)



def test_one_job_asked_is_one_thread(tiny_model_path, monkeypatch):
    """`predict --jobs 1` (the default) and `predict_scores(..., jobs=1)` stay on one thread whatever the
    model's `n_jobs`: several commands run side by side do not compete for the cores."""
    from classify import api
    from classify.model import ClassifyModel

    loaded = api.load(tiny_model_path)
    loaded.model.n_jobs_ = 2
    texts = [f"Le réseau est en panne depuis {i} jours" for i in range(1000)]
    assert loaded.model._thread_parts(texts, 1) is None
    # 0 and -1 count as --jobs does (one per core, every core), never as "no thread"
    cores = os.cpu_count() or 1
    assert loaded.model._thread_parts(texts, 0) == loaded.model._thread_parts(texts, cores)
    assert loaded.model._thread_parts(texts, -1) == loaded.model._thread_parts(texts, cores)
    asked = []
    original = ClassifyModel._thread_parts
    monkeypatch.setattr(ClassifyModel, "_thread_parts",
                        lambda self, texts, jobs=None: asked.append(jobs) or original(self, texts, jobs))
    assert len(list(api.predict(texts, loaded, jobs=1))) == 1000
    assert asked and set(asked) == {1}
