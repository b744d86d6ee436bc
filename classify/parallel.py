"""How work is spread over processes: the one parallel helper of classify.

- `workers(jobs)`: how many processes a `--jobs` value means (0: one per core), decided once, where the
  option enters.
- `ordered_map(function, items, shared, jobs=N)`: `function(item, shared)` for every item, results in item
  order, in N forked worker processes that inherit `shared` (the model, the matrices, the texts) instead of
  receiving a copy; at most `window` items in flight, so memory stays bounded. With `threads=True`, in N
  threads instead, for work done without the GIL (the compiled core's). With a Dask `client`, the same on
  a cluster (`shared` is sent to every worker once).
- `beside(function, shared)`: one job in another forked process while the caller goes on; its result comes
  back through a file.

A worker that dies (killed from outside, by the out-of-memory killer for instance) ends the work with
`WorkerLost`, one `Error:` line and exit code 1, never a hang: `concurrent.futures` notices a dead worker,
where `multiprocessing.Pool` waits for its lost task forever. Forked workers rather than joblib's loky
(which also notices) because they start in milliseconds with the model already in memory: loky's workers
start a new interpreter, import classify and receive the model, which costs `predict --jobs 2` more than a
second on every call.
"""

from __future__ import annotations

import collections
import contextlib
import os
import signal
import threading
from collections.abc import Iterable, Iterator

from classify.errors import ClassifyError


class WorkerLost(ClassifyError):
    """A worker process died before it finished its work."""


def workers(jobs: int | None, most: int | None = None) -> int:
    """The processes a `jobs` value means: itself when positive; 0 or None: one per core (at most `most`);
    negative: as joblib counts (-1: every core, -2: all but one)."""
    cores = os.cpu_count() or 1
    if jobs is None or jobs == 0:
        return min(cores, most) if most else cores
    if jobs < 0:
        return max(1, cores + 1 + jobs)
    return int(jobs)


_IN_WORKER = False  # a worker of this helper does its work itself: no pool inside a pool
_THREAD = threading.local()  # `.worker`: this thread is one of `_thread_map`'s


def in_worker() -> bool:
    """Whether this runs in one of this helper's workers, a forked process or a thread: its work is its own
    share already, to be done without more workers."""
    return _IN_WORKER or getattr(_THREAD, "worker", False)


def _worker_start() -> None:
    """Ctrl-C reaches the whole process group: the parent alone reacts (it stops the workers and says what
    was kept); a worker that took the signal too would print a traceback of its own."""
    global _IN_WORKER
    _IN_WORKER = True
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()


def _die_with_parent() -> None:
    """Linux: the kernel kills this worker if the command ends before it (a worker left behind would hold
    the command's output pipes open, and whoever reads them would wait forever)."""
    parent = os.getppid()
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent ended before the request
        os._exit(1)


def can_fork(jobs: int, size: int = 1, minimum: int = 0) -> bool:
    """Whether spreading work is worth it and possible: several jobs, a problem of at least `minimum`, a
    platform that forks, and not already inside a worker (this helper's, or a daemonic one, e.g. Dask's)."""
    if jobs <= 1 or size < minimum or in_worker():
        return False
    import multiprocessing  # not before: one process needs none of it (7 ms of a one-text predict)

    return "fork" in multiprocessing.get_all_start_methods() and not multiprocessing.current_process().daemon


@contextlib.contextmanager
def _forking():
    """Hold Ctrl-C back while worker processes are forked. A SIGINT that lands during `os.fork` is handled
    in one of the at-fork hooks of the parent (logging's lock release), where Python prints and ignores the
    KeyboardInterrupt: the command would go on as if nothing was pressed. Blocked, the signal waits and is
    raised in the parent's own code as soon as the workers exist. The executor's thread, started meanwhile,
    keeps it blocked, so it always reaches the main thread."""
    blocked = hasattr(signal, "pthread_sigmask")
    if blocked:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        if blocked:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


_TASK = None  # (function, shared) while workers are forked: they inherit it instead of receiving a copy


def _run(item):
    function, shared = _TASK
    return function(item, shared)


class _Workers:
    """`jobs` forked processes holding `(function, shared)`; stopped for good on `close`."""

    def __init__(self, function, shared, jobs: int):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self.executor = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork"),
                                            initializer=_worker_start)
        self.task = (function, shared)
        self.processes: list = []

    def submit(self, item):
        from concurrent.futures.process import BrokenProcessPool

        global _TASK
        try:
            if self.processes:
                # a Ctrl-C that lands inside `submit` can leave the executor's lock held or half a message
                # in its wake-up pipe, and its thread waiting at exit forever: it waits until submit is done
                with _forking():
                    return self.executor.submit(_run, item)
            _TASK = self.task
            try:
                with _forking():  # a fork context starts every worker at the first submit
                    future = self.executor.submit(_run, item)
            finally:
                _TASK = None
                # known before a Ctrl-C held back during the fork is raised (`_forking`), so that `close`
                # stops them
                self.processes = list((self.executor._processes or {}).values())
        except BrokenProcessPool:  # a worker died since the last result
            raise WorkerLost(self._lost()) from None
        return future

    def result(self, future):
        from concurrent.futures import TimeoutError
        from concurrent.futures.process import BrokenProcessPool

        try:
            while True:
                try:
                    return future.result(timeout=0.25)
                except TimeoutError:  # the executor misses a worker killed while writing (`_halt`)
                    if any(p.exitcode is not None for p in self.processes):
                        raise BrokenProcessPool from None
        except BrokenProcessPool:
            raise WorkerLost(self._lost()) from None

    def _lost(self) -> str:
        self._halt()
        codes = [p.exitcode for p in self.processes if p.exitcode is not None]
        killed = sorted((-code for code in codes if code < 0), key=lambda n: n == signal.SIGTERM)
        if killed:
            try:
                how = f"was killed by {signal.Signals(killed[0]).name}"
            except ValueError:
                how = f"was killed by signal {killed[0]}"
        else:
            how = f"exited with code {codes[0]}" if codes else "stopped"
        return (f"a worker process {how} (by another program or the out-of-memory killer?) before its work was "
                f"done, so the command stopped and wrote nothing more. Run it again, with fewer --jobs if memory "
                f"is short.")

    def close(self, finished: bool) -> None:
        if finished:  # every result is in: the workers end on their own
            try:
                self.executor.shutdown(wait=True)
                return
            except BaseException:  # Ctrl-C while they end: they are stopped below
                self._stop()
                raise
        self._stop()

    def _halt(self) -> None:
        """Stop the workers, and let the executor's own thread find them gone and release its pipes alone
        (shutting the executor down from here meanwhile races with it: Python 3.11 writes to a pipe that
        thread may have just closed, a traceback at exit). That thread notices a dead worker, except one
        killed while it was writing a result: it then waits for the rest of the message, and the other
        workers for the lock the dead one held, forever (and the interpreter waits for that thread at
        exit). Closing this process's end of the result pipe once the workers are gone ends that wait: the
        thread reads the end of the pipe, marks the pool broken and stops."""
        for process in self.processes:
            if process.is_alive():
                process.terminate()
        for process in self.processes:
            process.join(5)
        with contextlib.suppress(AttributeError, OSError):
            self.executor._result_queue._writer.close()
        thread = self.executor._executor_manager_thread
        if thread is not None:
            thread.join(5)

    def _stop(self) -> None:
        """Interrupted, or a worker died."""
        self._halt()
        try:
            self.executor.shutdown(wait=False, cancel_futures=True)
        except OSError:
            pass


def ordered_map(function, items: Iterable, shared=None, *, jobs: int = 1, client=None, window: int | None = None,
                threads: bool = False) -> Iterator:
    """`function(item, shared)` for every item, yielded in item order: on a Dask `client` when given, else in
    `jobs` threads with `threads` (for a function that spends its time without the GIL), else in `jobs`
    forked processes when `can_fork(jobs)`, else here. At most `window` items are in flight (default: all of
    them with processes, two per worker on a cluster or in threads); `items` is read as the work goes. A
    worker process that dies raises `WorkerLost`; an exception in `function` is raised here, as it would be
    without workers."""
    if client is not None:
        yield from _dask_map(client, function, items, shared, window)
        return
    if threads and jobs > 1 and not in_worker():
        yield from _thread_map(function, items, shared, jobs, window or 2 * jobs)
        return
    if not can_fork(jobs):
        for item in items:
            yield function(item, shared)
        return
    pool = _Workers(function, shared, jobs)
    pending: collections.deque = collections.deque()
    finished = False
    try:
        for item in items:
            pending.append(pool.submit(item))
            if window and len(pending) >= window:
                yield pool.result(pending.popleft())
        while pending:
            yield pool.result(pending.popleft())
        finished = True
    finally:
        pool.close(finished)


def _thread_map(function, items, shared, jobs: int, window: int) -> Iterator:
    """`ordered_map` in `jobs` threads of this process: they share `shared` as it is. On an exception or
    Ctrl-C, the items not started are dropped and the running ones finish (a thread cannot be stopped)."""
    from concurrent.futures import ThreadPoolExecutor

    def run(item):
        _THREAD.worker = True  # the pool's own threads, ended with it
        return function(item, shared)

    pool = ThreadPoolExecutor(jobs, thread_name_prefix="classify")
    pending: collections.deque = collections.deque()
    try:
        for item in items:
            pending.append(pool.submit(run, item))
            if len(pending) >= window:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _dask_map(client, function, items, shared, window: int | None):
    window = window or 2 * max(1, len(client.scheduler_info().get("workers", {})))
    shared_future = client.scatter(shared, broadcast=True)
    pending: collections.deque = collections.deque()
    try:
        for item in items:
            pending.append(client.submit(function, item, shared_future, pure=False))
            if len(pending) >= window:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for future in pending:
            future.cancel()


def _to_file(directory: str | None, shared):
    """In the worker: `function(*args)`, handed back through a file in `directory`, whose path is what the
    pipe carries. Pickled through the pipe, lemonde-2022's character block (about 70 MB) took 1 to 5 s to
    arrive; written and read back, under 0.1 s. Without a directory, or if the file cannot be written, the
    result itself is returned."""
    import pickle
    import tempfile

    function, args = shared
    result = function(*args)
    if directory is None:
        return result
    try:
        fd, path = tempfile.mkstemp(prefix="result-", suffix=".pickle", dir=directory)
        with os.fdopen(fd, "wb") as f:
            pickle.dump(result, f, protocol=pickle.HIGHEST_PROTOCOL)
    except OSError:
        return result
    return path


def _received(result):
    """What `_to_file` sent: the result, read from its file (a path), or the result itself."""
    if not isinstance(result, str):
        return result
    import pickle

    with open(result, "rb") as f:
        return pickle.load(f)


@contextlib.contextmanager
def beside(function, *args):
    """Start `function(*args)` in one forked process (it inherits the arguments) and yield a callable that
    waits for its result (which must not be a string: a string is the path of the file that holds it); the
    caller works meanwhile. The process is stopped on exit, whatever happens."""
    import tempfile

    try:
        handoff = tempfile.TemporaryDirectory(prefix="classify-")  # removed whatever happens
    except OSError:  # no usable temporary folder: the result comes back through the pipe
        handoff = None
    pool = _Workers(_to_file, (function, args), 1)
    finished = False
    try:
        future = pool.submit(handoff and handoff.name)

        def result():
            nonlocal finished
            value = _received(pool.result(future))
            finished = True
            return value

        yield result
    finally:
        pool.close(finished)
        if handoff is not None:
            handoff.cleanup()
