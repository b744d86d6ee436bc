"""Dask: predict and cv on a cluster (a LocalCluster with 2 worker processes) give the single-process result."""

import json
import sys

import pytest

from .conftest import TINY
from .test_cli import error_line


@pytest.fixture(scope="module")
def scheduler():
    import logging

    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=logging.ERROR) as cluster:
        yield cluster.scheduler_address


def test_predict_on_the_cluster_writes_the_single_process_output(cli, tiny_model_path, scheduler, monkeypatch):
    from classify import api

    monkeypatch.setattr(api, "CHUNK", 4)  # 9 chunks over 2 workers, 4 in flight at most
    for fmt in ("jsonl", "csv"):
        code, alone, err = cli("predict", TINY, "--model", tiny_model_path, "--format", fmt, "-q")
        assert code == 0, err
        code, spread, err = cli("predict", TINY, "--model", tiny_model_path, "--format", fmt, "--scheduler", scheduler, "-q")
        assert code == 0, err
        assert spread == alone and len(alone.splitlines()) >= 36


def test_cv_on_the_cluster_gives_the_same_figures(cli, scheduler):
    code, alone, err = cli("cv", TINY, "--folds", "3", "--format", "json", "-q")
    assert code == 0, err
    code, spread, err = cli("cv", TINY, "--folds", "3", "--format", "json", "--scheduler", scheduler, "-q")
    assert code == 0, err
    assert json.loads(spread) == json.loads(alone)


@pytest.mark.parametrize("args, message", [
    (["--scheduler", "tcp://127.0.0.1:1", "--dask", "local"], "give one"),
    (["--dask", "yarn"], "--dask 'yarn' is not known"),
    (["--scheduler", "cluster"], "is not a scheduler address"),
    (["--scheduler", "tcp://127.0.0.1:8786", "--jobs", "4"], "with --scheduler, the cluster's workers do the work"),
])
def test_cluster_option_errors(cli, tiny_model_path, args, message):
    code, out, err = cli("predict", TINY, "--model", tiny_model_path, *args)
    assert code == 1 and message in error_line(err) and out == ""


def test_unreachable_scheduler_is_one_error_line(cli, tiny_model_path, monkeypatch):
    monkeypatch.setenv("CLASSIFY_DASK_TIMEOUT", "1")
    code, out, err = cli("predict", TINY, "--model", tiny_model_path, "--scheduler", "tcp://127.0.0.1:1")
    assert code == 1 and out == ""
    assert error_line(err).startswith("Error: cannot reach the Dask scheduler at tcp://127.0.0.1:1")


def test_without_dask_the_options_say_how_to_install_it(cli, tiny_model_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed
    for command in (["predict", TINY, "--model", tiny_model_path], ["cv", TINY, "--folds", "3"]):
        code, _, err = cli(*command, "--dask", "local")
        assert code == 1
        assert error_line(err) == "Error: --scheduler and --dask need Dask, which is not installed: pip install 'classify[dask]'."
