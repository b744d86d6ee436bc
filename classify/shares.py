"""`classify shares`: the label shares of a batch per task, by classify-and-count, adjusted count and EM
(`classify.quantify`), each with a bootstrap interval, optionally per value of a column or per period.

`estimate_shares` returns plain data; `plot_shares` draws it. The inputs are those of `classify predict`,
or a predictions JSONL that `classify predict --format jsonl --with-model` wrote with the same model.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from classify import quantify
from classify.errors import CorpusError, InputError

log = logging.getLogger("classify")

PERIODS = ("week", "month")
NO_GROUP = "all"


class SharesError(quantify.QuantifyError):
    """A batch's shares cannot be computed as asked (bad dates, missing column, foreign predictions)."""


# -- reading -------------------------------------------------------------------------------------------------
def is_predictions_file(path: Path, text_column: str) -> bool:
    """A JSONL file whose first record has `scores` and no text: what `classify predict --format jsonl`
    writes."""
    if path.suffix.lower() not in (".jsonl", ".ndjson") or not path.is_file():
        return False
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.strip():
                    record = json.loads(line)
                    return isinstance(record, dict) and "scores" in record and text_column not in record
    except (OSError, ValueError):
        return False
    return False


def _columns_wanted(by: str | None, date_column: str | None) -> list[tuple[str, str]]:
    return [(c, option) for c, option in ((by, "--by"), (date_column, "--date-column")) if c]


def _table_rows(path: Path, text_column: str, wanted, fmt, skip_bad_lines):
    """(Document, values of the wanted columns) for every row of a table."""
    from classify.corpus import iter_rows, require_column, table_format
    from classify.inputs import Document

    try:
        fmt = table_format(path, fmt)
    except CorpusError as exc:
        raise InputError(str(exc)) from None
    checked = False
    for number, row in iter_rows(path, fmt, skip_bad_lines):
        if not checked:
            require_column(list(row), text_column, path, "--text-column")
            for column, option in wanted:
                require_column(list(row), column, path, option)
            checked = True
        text = row.get(text_column, "")
        doc_id = row.get("id") or f"{path}:{number}"
        document = Document(doc_id, text) if text.strip() else Document(doc_id, None, "empty text")
        yield document, tuple(row.get(column, "") for column, _ in wanted)


def _predictions(path: Path, loaded, wanted) -> tuple[dict, list, list]:
    """(task -> probabilities, ids, the wanted columns' values) of a predictions JSONL, after checking that
    this model wrote it, without --adapt, with a probability for every label."""
    model = loaded.model
    tasks = {name: task.labels for name, task in model.tasks_.items()}
    rows = {name: [] for name in tasks}
    ids, values = [], []
    checked = False
    with open(path, encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                raise InputError(f"{path} line {number} is not valid JSON.") from None
            if not isinstance(record, dict):
                raise InputError(f"{path} line {number} is not a prediction record (a JSON object).")
            if not checked:
                for column, option in wanted:
                    if column not in record:
                        raise SharesError(
                            f"{path} has no column {column!r} (its records have: {', '.join(record)}); "
                            f"a predictions file keeps only what predict wrote: give the table itself, or "
                            f"choose another {option}.")
                checked = True
            fingerprint = record.get("model")
            if fingerprint is None:
                raise SharesError(
                    f"{path} line {number} does not say which model wrote it (no \"model\" field): write it "
                    f"with `classify predict --format jsonl --with-model`, or give `classify shares` the texts.")
            if fingerprint != loaded.fingerprint:
                raise SharesError(
                    f"{path} was written by another model (fingerprint {fingerprint}; {loaded.path} has "
                    f"{loaded.fingerprint}): pass that model with --model, or predict again with this one.")
            if record.get("adapted"):
                raise SharesError(
                    f"{path} holds probabilities adjusted by `predict --adapt`, which no estimator here "
                    f"expects: predict again without --adapt.")
            ids.append(str(record.get("id", f"{path}:{number}")))
            values.append(tuple(str(record.get(column, "")) for column, _ in wanted))
            scores = record.get("scores")
            if scores is None and record.get("error"):  # a document predict could not read
                for name, labels in tasks.items():
                    rows[name].append([np.nan] * len(labels))
                continue
            for name, labels in tasks.items():
                task_scores = scores.get(name) if isinstance(scores, dict) else None
                missing = [label for label in labels if not isinstance(task_scores, dict) or label not in task_scores]
                if missing:
                    raise SharesError(
                        f"{path} line {number} has no probability for {', '.join(missing)} ({name}): shares "
                        f"needs every label's; write the predictions without --top-k.")
                rows[name].append([float(task_scores[label]) for label in labels])
    P = {name: np.asarray(r, dtype=float).reshape(len(r), len(tasks[name])) for name, r in rows.items()}
    for name, task in model.tasks_.items():
        if not task.multi and len(P[name]):  # written to 4 decimals: back to rows that sum to 1
            P[name] = P[name] / np.nansum(P[name], axis=1, keepdims=True).clip(1e-12)
    return P, ids, values


def read_batch(inputs, loaded, *, by=None, date_column=None, text_column="text", fmt=None,
               skip_bad_lines=False, jobs=1, client=None) -> tuple[dict, list, list]:
    """Every input document's probabilities (task -> (n, k), NaN for a document that could not be read),
    ids and the values of the --by and --date-column columns, in input order."""
    from classify.batch import probabilities
    from classify.inputs import iter_documents

    wanted = _columns_wanted(by, date_column)
    parts = []  # (probabilities, ids, values) per run of inputs
    for item in inputs:
        path = Path(item)
        if item != "-" and not path.exists():
            raise InputError(f"{item}: no such file or folder.")
        if item != "-" and path.is_file() and is_predictions_file(path, text_column):
            parts.append(_predictions(path, loaded, wanted))
            continue
        from classify.corpus import _EXTENSIONS

        table = item != "-" and path.is_file() and (fmt or path.suffix.lower() in _EXTENSIONS)
        if wanted and not table:
            kind = "standard input" if item == "-" else "a folder" if path.is_dir() else "a text file"
            raise InputError(f"{item} is {kind}: --by and --date-column read a column of table inputs "
                             f"(CSV, TSV, JSONL).")
        ids, values = [], []
        if table:
            def documents(path=path, ids=ids, values=values):
                for document, row_values in _table_rows(path, text_column, wanted, fmt, skip_bad_lines):
                    ids.append(document.id)
                    values.append(row_values)
                    yield document
        else:
            def documents(item=item, ids=ids, values=values):
                for document in iter_documents([item], text_column=text_column, skip_bad_lines=skip_bad_lines):
                    ids.append(document.id)
                    values.append(())
                    yield document
        parts.append((probabilities(documents(), loaded, jobs=jobs, client=client), ids, values))
    P = {name: np.vstack([p[0][name] for p in parts]) for name in loaded.model.tasks_}
    # a predictions file does not hold the source probabilities: a batch read (in part) from one is
    # estimated with the pooled rates, as by a model of one source
    if parts and all(quantify.SOURCES_KEY in p[0] for p in parts):
        P[quantify.SOURCES_KEY] = np.vstack([p[0][quantify.SOURCES_KEY] for p in parts])
    return P, [i for p in parts for i in p[1]], [v for p in parts for v in p[2]]


# -- grouping ------------------------------------------------------------------------------------------------
def parse_dates(values: list[str], ids: list[str], column: str):
    """Timestamps of a date column: ISO 8601 (2024-07-16, 2024-07-16T10:30:00+02:00) or day first
    (16/07/2024). A value that is neither stops everything with its document named."""
    import pandas as pd

    series = pd.Series(values, dtype=object)
    parsed = pd.to_datetime(series, errors="coerce", format="ISO8601", utc=True)
    missing = parsed.isna()
    if missing.any():
        parsed[missing] = pd.to_datetime(series[missing], errors="coerce", dayfirst=True, format="mixed", utc=True)
        missing = parsed.isna()
    if missing.any():
        i = int(np.flatnonzero(missing.to_numpy())[0])
        raise SharesError(
            f"--date-column {column!r}: {values[i]!r} (document {ids[i]}) is not a date; dates such as "
            f"2024-07-16, 2024-07-16T10:30:00 or 16/07/2024 are read ({int(missing.sum())} value(s) do not parse).")
    return parsed.dt.tz_convert(None)


def periods(dates, every: str) -> tuple[list[str], list]:
    """Each date's period name and start: ISO weeks (Monday to Sunday, `2024-W29`) or months (`2024-07`)."""
    if every not in PERIODS:
        raise SharesError(f"--every {every!r} is not a period; use one of: {', '.join(PERIODS)}.")
    p = dates.dt.to_period("W-SUN" if every == "week" else "M")
    starts = p.dt.start_time
    names = [f"{s:%G-W%V}" if every == "week" else f"{s:%Y-%m}" for s in starts]
    return names, list(starts)


# -- estimating ----------------------------------------------------------------------------------------------
def _problems(task, P: np.ndarray, provenance: dict, mix: dict | None = None, S: np.ndarray | None = None,
              sources: dict | None = None):
    """(label, quantify.Problem, index of the label's share in the problem's classes) for a task, with the
    training shares of a batch whose sources are mixed as `mix` (`quantify.composition`). With the documents'
    source probabilities `S` and the model's source classifier (`sources`), ACC and PACC correct each
    document with the rates of the training documents like it (`quantify.strata_for`), and a single-label
    task's EM runs on its probabilities recalibrated per source (`quantify.source_calibrated`)."""
    priors = quantify.batch_priors(task, provenance, mix)
    rates = getattr(task, "rates", None)
    source_names = None if sources is None else sources["names"]
    like = None if S is None else quantify.source_groups(sources, S)
    if not task.multi:
        problem = quantify.Problem(P, P.argmax(axis=1), rates, np.asarray(priors),
                                   strata=quantify.strata_for(rates, len(P), S, source_names, mix, like))
        recalibrated = quantify.source_calibrated(P, rates, S, source_names, mix)
        if recalibrated is not None:
            problem.em_P, problem.em_priors = recalibrated
        return [(label, problem, j) for j, label in enumerate(task.labels)], [problem]
    out, problems = [], []
    for j, label in enumerate(task.labels):
        P2 = quantify.binary_probabilities(P[:, j])
        label_rates = None if rates is None else rates["per_label"][j]
        problem = quantify.Problem(P2, (P[:, j] >= task.thresholds[j]).astype(int), label_rates, priors[j],
                                   strata=quantify.strata_for(label_rates, len(P2), S, source_names, mix, like))
        out.append((label, problem, 1))
        problems.append(problem)
    return out, problems


def _round(x) -> float:
    return round(float(x), 4)


def estimate_shares(P: dict, ids: list, values: list, loaded, *, by=None, date_column=None, every=None,
                    min_documents=quantify.MIN_DOCUMENTS, resamples=quantify.RESAMPLES,
                    confidence=quantify.CONFIDENCE, seed=0, progress=None) -> dict:
    """The shares of every group (one group without --by and --date-column), per task and label, by every
    estimator, with their bootstrap intervals. A group under `min_documents` readable documents is a row
    marked too small."""
    progress = progress or (lambda message: None)
    if not 0 < confidence < 1:
        raise quantify.QuantifyError(f"--confidence must be between 0 and 1, got {confidence}.")
    if every and not date_column:
        raise quantify.QuantifyError("--every groups by period of a --date-column: give one.")
    n = len(ids)
    keys = [[] for _ in range(n)]
    starts = {}
    position = 0
    if by:
        for i in range(n):
            keys[i].append(values[i][position])
        position += 1
    if date_column:
        dates = parse_dates([v[position] for v in values], ids, date_column)
        names, period_starts = periods(dates, every or "month")
        for i in range(n):
            keys[i].append(names[i])
            starts[names[i]] = period_starts[i]
    keys = [tuple(k) for k in keys]
    readable = ~np.isnan(next(iter(P.values()))).any(axis=1) if P else np.zeros(n, dtype=bool)
    members: dict[tuple, list] = {}
    for i, key in enumerate(keys):
        members.setdefault(key, []).append(i)
    if date_column:  # periods in time order, within each --by value
        order = sorted(members, key=lambda k: (k[0] if by else "", starts[k[-1]]))
    else:
        order = sorted(members)
    model = loaded.model
    groups, notes = [], []
    if any(getattr(task, "rates", None) is None for task in model.tasks_.values()):
        notes.append(f"{loaded.path} was trained before classify stored its misclassification rates: no ACC or "
                     f"PACC; retrain it to have them.")
    rates = [r for task in model.tasks_.values() if getattr(task, "rates", None) is not None
             for r in (task.rates["per_label"] if task.multi else [task.rates])]
    if getattr(model, "sources_", None) is not None and quantify.SOURCES_KEY in P:
        if all("groups" in r for r in rates) and model.sources_.get("groups"):
            notes.append("ACC corrects each document with the error rates of the training documents like it (the "
                         "same group of source probabilities).")
        elif all("guessed" in r for r in rates) and "groups" in model.sources_:  # too few documents for groups
            notes.append("ACC corrects each document with the error rates of the training documents the model took "
                         "for the same source as this one.")
        elif all("guessed" in r for r in rates):
            notes.append(f"{loaded.path} was trained before ACC's error rates were stored per group of like "
                         f"documents: ACC corrects each document with the error rates of the training documents "
                         f"the model took for the same source; retrain for the rates per group.")
        else:
            notes.append(f"{loaded.path} was trained before ACC's error rates were stored per source the documents "
                         f"are taken for: ACC uses the sources' rates mixed as the group's documents look, which "
                         f"errs when that look depends on the label; retrain for the rates per source taken for.")
    if getattr(model, "sources_", None) is not None and quantify.SOURCES_KEY not in P:
        notes.append("a predictions file does not say which source (" + ", ".join(model.sources_["names"]) +
                     ") each document is like: corrected with the training mix's rates, which suit a batch "
                     "of one source less well; give the texts for rates matched to the batch.")
    for g, key in enumerate(order):
        rows = np.asarray([i for i in members[key] if readable[i]], dtype=int)
        group = {"by": key[0] if by else None, "period": key[-1] if date_column else None,
                 "start": str(starts[key[-1]].date()) if date_column else None,
                 "n": int(len(rows)), "unreadable": len(members[key]) - int(len(rows))}
        group["name"] = " ".join(str(k) for k in key) or NO_GROUP
        if len(rows) < min_documents:
            group["status"] = "too small"
            groups.append(group)
            continue
        progress(f"group {group['name']}: {len(rows)} documents")
        group["status"] = "ok"
        mix = quantify.composition(getattr(model, "sources_", None),
                                   P[quantify.SOURCES_KEY][rows] if quantify.SOURCES_KEY in P else None)
        if mix is not None:
            group["sources"] = {source: _round(share) for source, share in mix.items()}
        group["tasks"] = {}
        for t, (name, task) in enumerate(model.tasks_.items()):
            per_label, problems = _problems(task, P[name][rows], loaded.provenance, mix,
                                            P[quantify.SOURCES_KEY][rows] if mix is not None else None,
                                            model.sources_ if mix is not None else None)
            points, intervals = {}, {}
            for p, problem in enumerate(problems):
                points[p] = quantify.estimate(problem)
                intervals[p] = (quantify.bootstrap(problem, points[p], resamples=resamples, confidence=confidence,
                                                   seed=[seed, g, t, p]) if resamples else None)
            labels = {}
            for j, (label, problem, index) in enumerate(per_label):
                p = j if task.multi else 0
                entry = {"training": _round(problem.priors[index])}
                for estimator in quantify.ESTIMATORS:
                    value = points[p][estimator]
                    if value is None:
                        entry[estimator] = None
                        continue
                    entry[estimator] = {"share": _round(value[index])}
                    interval = intervals[p] and intervals[p][estimator]
                    if interval is not None:
                        entry[estimator]["low"] = _round(interval[0][index])
                        entry[estimator]["high"] = _round(interval[1][index])
                labels[label] = entry
            group["tasks"][name] = {"type": task.type, "labels": labels}
        groups.append(group)
    small = sum(g["status"] == "too small" for g in groups)
    if small:
        notes.append(f"{small} group(s) with fewer than {min_documents} documents: marked too small, not estimated.")
    return {
        "model": str(loaded.path), "fingerprint": loaded.fingerprint, "n_documents": n,
        "unreadable": int(n - readable.sum()),
        "grouping": {"by": by, "date_column": date_column, "every": (every or "month") if date_column else None},
        "min_documents": min_documents, "resamples": resamples, "confidence": confidence, "seed": seed,
        "estimators": list(quantify.ESTIMATORS), "tasks": {name: task.type for name, task in model.tasks_.items()},
        "groups": groups, "notes": notes,
    }


# -- plotting ------------------------------------------------------------------------------------------------
def plot_shares(data: dict, path: Path, estimator: str = "em") -> Path:
    """One panel per task (and --by value): each label's share per group with its interval as a band, the
    label and its last value written at the end of its line (no legend to look up)."""
    from classify.report import _pyplot, _save

    plt = _pyplot()
    import matplotlib.dates as mdates

    dated = bool(data["grouping"]["date_column"])
    # over time, a panel per --by value; without dates the --by values are the x axis of one panel per task
    bys = sorted({g["by"] for g in data["groups"]}) if data["grouping"]["by"] and dated else [None]
    panels = [(task, by) for task in data["tasks"] for by in bys]
    fig, axes = plt.subplots(len(panels), 1, figsize=(9, 3.3 * len(panels)), squeeze=False)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, (task, by) in zip(axes[:, 0], panels):
        groups = [g for g in data["groups"] if g["by"] == by or not dated]
        ok = [g for g in groups if g["status"] == "ok"]
        if dated:
            import pandas as pd

            x_of = {id(g): pd.Timestamp(g["start"]) for g in groups}
        else:
            x_of = {id(g): i for i, g in enumerate(groups)}
        if not ok:
            ax.text(0.5, 0.5, f"no group has {data['min_documents']} documents or more", ha="center",
                    va="center", transform=ax.transAxes)
            ax.set_axis_off()
            continue
        first, last = min(x_of[id(g)] for g in ok), max(x_of[id(g)] for g in ok)
        shown = [g for g in groups if first <= x_of[id(g)] <= last]
        labels = list(ok[0]["tasks"][task]["labels"])
        ends = []
        for c, label in enumerate(labels):
            xs, ys, lows, highs = [], [], [], []
            for g in shown:
                xs.append(x_of[id(g)])
                entry = g["tasks"][task]["labels"][label][estimator] if g["status"] == "ok" else None
                ys.append(entry["share"] if entry else np.nan)
                lows.append(entry.get("low", np.nan) if entry else np.nan)
                highs.append(entry.get("high", np.nan) if entry else np.nan)
            colour = colours[c % len(colours)]
            if dated:  # a period without any document breaks the line, as a too small one does
                longest = pd.Timedelta(days=8 if data["grouping"]["every"] == "week" else 32)
                for i in range(len(xs) - 1, 0, -1):
                    if xs[i] - xs[i - 1] > longest:
                        for values in (ys, lows, highs):
                            values.insert(i, np.nan)
                        xs.insert(i, xs[i - 1] + (xs[i] - xs[i - 1]) / 2)
                ax.fill_between(xs, lows, highs, color=colour, alpha=0.18, linewidth=0)
                ax.plot(xs, ys, color=colour, marker="o", markersize=3.5, linewidth=1.8)
            else:
                err = [np.subtract(ys, lows), np.subtract(highs, ys)]
                ax.errorbar(np.asarray(xs) + (c - (len(labels) - 1) / 2) * 0.08, ys, yerr=err, fmt="o",
                            color=colour, capsize=3, markersize=4)
            finite = [i for i, y in enumerate(ys) if not np.isnan(y)]
            ends.append((ys[finite[-1]], xs[finite[-1]], label, colour))
        _label_line_ends(ax, ends, dated)
        small = [g for g in shown if g["status"] != "ok"]
        for g in small:
            ax.axvline(x_of[id(g)], color="0.75", linestyle=":", linewidth=1)
        hidden = len(groups) - len(shown)
        ax.set_ylim(0, 1)
        ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
        ax.set_ylabel("share of documents")
        ax.grid(axis="y", alpha=0.3)
        title = f"{task} ({data['tasks'][task]}-label)" + (f", {data['grouping']['by']} = {by}" if by is not None else
                                                            f", per {data['grouping']['by']}" if data["grouping"]["by"] else "")
        kind = "each label's share of the documents" if data["tasks"][task] == "multi" else \
            "share of the documents per label"
        ax.set_title(f"{title}: {kind}", fontsize=10, loc="left")
        notes = []
        if small:
            notes.append(f"dotted: {len(small)} period(s) under {data['min_documents']} documents, not estimated")
        if hidden:
            notes.append(f"{hidden} such group(s) before or after not shown")
        if notes:
            ax.text(0.0, -0.28 if dated else -0.16, "; ".join(notes), transform=ax.transAxes, fontsize=7.5,
                    color="0.35")
        if dated:
            span = (last - first).days if last != first else 30
            pad = pd.Timedelta(days=max(span * 0.2, 20))
            ax.set_xlim(first - pd.Timedelta(days=max(span * 0.02, 5)), last + pad)
            locator = mdates.AutoDateLocator(maxticks=12)
            ax.xaxis.set_major_locator(locator)
            ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
            every = data["grouping"]["every"]
            ax.set_xlabel(f"{every} ({'ISO weeks, ' if every == 'week' else ''}points at each period's first day; "
                          f"{ok[0]['period']} to {ok[-1]['period']})", fontsize=8)
        else:
            ax.set_xticks(range(len(groups)), [f"{g['name']}\n(n={g['n']})" for g in groups], fontsize=8)
            ax.set_xlim(-0.5, len(groups) - 0.5 + 0.6)
    interval = f"{data['confidence']:.0%} bootstrap interval" if data["resamples"] else "no interval"
    fig.suptitle(f"Label shares, {estimator.upper()} estimate (band: {interval}, {data['resamples']} resamples)",
                 fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    _save(fig, Path(path))
    return Path(path)


def _label_line_ends(ax, ends: list, dated: bool) -> None:
    """Each line's label and last value just right of its last point, nudged apart so none overlap."""
    import pandas as pd

    ends = sorted(ends, key=lambda e: e[0])
    gap = 0.07
    placed = []
    for y, *_ in ends:
        y_text = max(y, placed[-1] + gap) if placed else max(y, 0.035)  # not under the axis
        placed.append(y_text)
    overflow = placed[-1] - 0.97 if placed else 0
    if overflow > 0:
        placed = [p - overflow for p in placed]
    for (y, x, label, colour), y_text in zip(ends, placed):
        x_text = x + (pd.Timedelta(days=6) if dated else 0.15)
        ax.annotate(f"{label} {y:.0%}", xy=(x, y), xytext=(x_text, y_text), color=colour, fontsize=8.5,
                    va="center", fontweight="bold")
