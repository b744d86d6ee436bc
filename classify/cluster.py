"""Dask (`dask.distributed`): batch prediction and cross-validation spread over a cluster.

    classify predict big.jsonl --scheduler tcp://10.0.0.5:8786 --format jsonl > out.jsonl
    classify predict big.jsonl --dask local --jobs 4      # a LocalCluster of 4 worker processes
    classify cv corpus.csv --scheduler tcp://10.0.0.5:8786

The model (or the corpus) is sent once to every worker; chunks of documents (folds) are submitted as
tasks (`classify.parallel.ordered_map`), at most two chunks per worker in flight, and the results are written in input order, so the
output is the one a single process writes. Workers need classify installed (the same version), and, for a
model trained with --vectors, the word vectors at the same path (or CLASSIFY_VECTORS set on the workers).
Dask is optional: `pip install 'classify[dask]'`.
"""

from __future__ import annotations

import contextlib
import logging
import os

from classify.errors import ConfigError

INSTALL = "pip install 'classify[dask]'"


def _imports():
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ConfigError(f"--scheduler and --dask need Dask, which is not installed: {INSTALL}.") from None
    return Client, LocalCluster


def check(scheduler: str | None, dask: str | None) -> None:
    """Validate the options before any work (and that Dask is there when they are used)."""
    if scheduler and dask:
        raise ConfigError("--scheduler and --dask are two ways to choose a cluster: give one.")
    if dask is not None and dask != "local":
        raise ConfigError(f"--dask {dask!r} is not known: use --dask local, or --scheduler ADDRESS for a running cluster.")
    if scheduler is not None and "://" not in scheduler and ":" not in scheduler:
        raise ConfigError(f"--scheduler {scheduler!r} is not a scheduler address (tcp://HOST:PORT).")
    if scheduler or dask:
        _imports()


@contextlib.contextmanager
def client_for(scheduler: str | None, dask: str | None, workers: int | None = None):
    """A connected `distributed.Client` (None when neither option is given); closed on exit."""
    if not scheduler and not dask:
        yield None
        return
    check(scheduler, dask)
    Client, LocalCluster = _imports()
    for name in ("distributed", "tornado", "asyncio"):
        logging.getLogger(name).setLevel(logging.ERROR)
    if dask == "local":
        from classify.parallel import workers as count

        n = count(workers)
        with LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                          silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
            yield client
        return
    try:
        client = Client(scheduler, timeout=f"{os.environ.get('CLASSIFY_DASK_TIMEOUT', '10')}s")
    except (OSError, TimeoutError) as exc:
        raise ConfigError(f"cannot reach the Dask scheduler at {scheduler} ({type(exc).__name__}: {exc}).") from None
    try:
        yield client
    finally:
        client.close()
