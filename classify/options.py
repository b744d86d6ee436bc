"""The rules of the options that the command line and the Python API share, each written once: the API
runs them on its arguments, the command line where the option's value enters (`cli._usage`: a usage
error, exit code 2)."""

from __future__ import annotations

from classify.errors import ConfigError


def _at_least(option: str, minimum: int, value: int | None, meaning: str = "") -> None:
    if value is not None and value < minimum:
        raise ConfigError(f"{option} must be {minimum}{meaning} or more, got {value}.")


def check_top_k(top_k: int | None) -> None:
    _at_least("--top-k", 1, top_k)


def check_folds(folds: int) -> None:
    _at_least("--folds", 2, folds)


def check_top(top: int) -> None:
    _at_least("--top", 1, top)


def check_jobs(jobs: int) -> None:
    _at_least("--jobs", 0, jobs, " (one per core)")
