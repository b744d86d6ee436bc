"""The rules of the options that the command line and the Python API share, each written once: the API
runs them on its arguments, the command line where the option's value enters (`cli._usage`: a usage
error, exit code 2)."""

from __future__ import annotations

from classify.errors import ConfigError


def check_top_k(top_k: int | None) -> None:
    if top_k is not None and top_k < 1:
        raise ConfigError(f"--top-k must be 1 or more, got {top_k}.")


def check_folds(folds: int) -> None:
    if folds < 2:
        raise ConfigError(f"--folds must be 2 or more, got {folds}.")


def check_top(top: int) -> None:
    if top < 1:
        raise ConfigError(f"--top must be 1 or more, got {top}.")


def check_jobs(jobs: int) -> None:
    if jobs < 0:
        raise ConfigError(f"--jobs must be 0 (one per core) or more, got {jobs}.")
