"""Rendering results for people (tables) and for programs (JSON, JSONL, CSV). No computation here."""

from __future__ import annotations

import csv
import json
import os


_JSON = json.JSONEncoder(ensure_ascii=False)  # `json.dumps` with options builds an encoder per call


def _fmt(x) -> str:
    return f"{x:.3f}" if isinstance(x, float) else str(x)


def table(rows: list[list], header: list[str], align_right: set[int] = frozenset()) -> str:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)] if rows else [len(h) for h in header]
    def line(cells):
        out = []
        for i, c in enumerate(cells):
            c = str(c)
            out.append(c.rjust(widths[i]) if i in align_right else c.ljust(widths[i]))
        return "  ".join(out).rstrip()
    sep = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), sep] + [line(r) for r in rows])


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else "…" + text[-(width - 1):]


class _Lines(list):
    """A file-like list of the lines written to it (csv.writer writes one row per call)."""

    write = list.append


class PredictionWriter:
    """Writes prediction records as they come: jsonl/csv lines are kept and go out together at each
    `flush` (the caller's, once per chunk of documents) and at `close`, so that the output holds whole
    records only; the table waits for `close`, to size its columns. `written`: the records gone out."""

    def __init__(self, stream, fmt: str, tasks: list[str], labels: dict[str, list[str]], label_sep=";",
                 explain: bool = False, stamp: dict | None = None):
        self.stream, self.fmt, self.tasks, self.labels, self.sep = stream, fmt, tasks, labels, label_sep
        self.explain = explain
        self.stamp = stamp or {}  # fields added to every JSONL record (which model wrote it, --adapt)
        self.rows: list[list] = []
        self.pending = _Lines()  # one line per record (the CSV header goes out with the first `flush`)
        self.header: str | None = None
        self.csv = None
        self.written = 0

    def compiled_records(self) -> tuple | None:
        """What the compiled writer needs to write this writer's lines (`api._predict_chunk`'s `render`):
        ("jsonl", the JSON of the stamp's fields, per task its name, the JSON of its key and of its labels),
        or ("csv", the label separator, per task its name, its labels and each as a CSV field). None for the
        table, with --explain, or when a task's name is also a field of a JSONL record (the compiled writer
        does not merge fields)."""
        try:
            if self.fmt == "csv" and not self.explain:
                return "csv", self.sep, [(name, list(self.labels[name]),
                                          [csv_field(label).encode() for label in self.labels[name]])
                                         for name in self.tasks]
            fields = {"id", "scores", "lang", "explanation", "empty", "error", *self.stamp}
            if self.fmt != "jsonl" or self.explain or fields & set(self.tasks):
                return None
            suffix = "".join(f", {_JSON.encode(key)}: {_JSON.encode(value)}" for key, value in self.stamp.items())
            tasks = [(name, (_JSON.encode(name) + ": ").encode(), list(self.labels[name]),
                      [_JSON.encode(label).encode() for label in self.labels[name]]) for name in self.tasks]
            return "jsonl", suffix.encode(), tasks
        except UnicodeEncodeError:  # a name with no UTF-8 form: Python writes it, the compiled writer cannot
            return None

    def write(self, prediction) -> None:
        line = getattr(prediction, "line", None)  # written by the compiled writer (`compiled_records`)
        if line is not None:
            if self.fmt == "csv" and self.csv is None:
                self._csv_header()
            self.pending.append(line)
        elif self.fmt == "jsonl":
            record = prediction.to_record(self.tasks)
            if self.stamp:
                record.update(self.stamp)
            self.pending.append(_JSON.encode(record) + "\n")
        elif self.fmt == "csv":
            if self.csv is None:
                self._csv_header()
            row = [prediction.id]
            for t in self.tasks:
                value = None if prediction.labels is None else prediction.labels[t]
                row.append(self.sep.join(value) if isinstance(value, list) else (value or ""))
            for t in self.tasks:
                scores = (prediction.scores or {}).get(t, {})
                row.extend(scores.get(lab, "") for lab in self.labels[t])
            if self.explain:
                row.append(_evidence(prediction.explanation))
            row.append(prediction.lang or "")
            row.append("true" if prediction.empty else "")
            row.append(prediction.error or "")
            self.csv.writerow(row)
        else:
            self.rows.append(self._table_row(prediction))

    def _csv_header(self) -> None:
        """The CSV header, kept to go out with the first record: no input, no output."""
        self.csv = csv.writer(self.pending, lineterminator="\n")
        header = [f"score:{t}:{lab}" for t in self.tasks for lab in self.labels[t]]
        self.csv.writerow(["id", *self.tasks, *header, *(["explanation"] if self.explain else []),
                           "lang", "empty", "error"])
        self.header = self.pending.pop()

    def _table_row(self, p) -> list:
        if p.error:
            what = "(empty)" if p.empty else f"(not classified: {p.error})"
            return [_shorten(p.id, 48), what] + [""] * (len(self.tasks) - 1) + ([""] if self.explain else [])
        marker = f" [{p.lang}]" if p.lang and p.lang != "fr" else ""  # labels of a text in another language
        cells = [_shorten(p.id, 48 - len(marker)) + marker]
        for t in self.tasks:
            value, scores = p.labels[t], p.scores[t]
            if isinstance(value, list):
                cells.append(", ".join(f"{v} {scores[v]:.2f}" for v in value) or "(none)")
            else:
                cells.append(f"{value} {scores[value]:.2f}")
        if self.explain:
            cells.append(_evidence(p.explanation))
        return cells

    def flush(self) -> None:
        if self.fmt == "table":
            return
        records = list(self.pending)
        self.pending.clear()
        text = "".join(records)
        if self.header is not None:
            text, self.header = self.header + text, None
        if text:
            _write_all(self.stream, text)
        self.stream.flush()
        self.written += len(records)

    def close(self) -> None:
        """Write what is pending; a second call writes nothing more."""
        if self.fmt == "table" and self.rows:
            header = ["id", *self.tasks, *(["evidence"] if self.explain else [])]
            _write_all(self.stream, table(self.rows, header) + "\n")
            self.written += len(self.rows)
            self.rows = []
        self.flush()


def csv_field(value: str) -> str:
    """`value` as the csv module writes it in a row of `PredictionWriter` (quoted where it must be)."""
    out = _Lines()
    csv.writer(out, lineterminator="\n").writerow([value, ""])
    return out[0][:-2]


def _write_all(stream, text: str) -> None:
    """Write `text` whole. A buffered binary stream may write part of a large write when a signal handler
    runs during it (Ctrl-C while a pipe is full) and say so only by the count it returns, which text
    streams drop: the rest is written here, through the binary buffer, until none is left."""
    buffer = getattr(stream, "buffer", None)
    if buffer is None or os.name == "nt":  # no buffer to count with (a StringIO); Windows translates newlines
        stream.write(text)
        return
    stream.flush()
    view = memoryview(text.encode(stream.encoding or "utf-8", errors=stream.errors or "strict"))
    while view:
        view = view[buffer.write(view) or 0:]
    buffer.flush()


def _evidence(explanation: dict | None) -> str:
    """`label: ngram, ngram; label: ...` from a prediction's explanation (one line, for table and CSV)."""
    if not explanation:
        return ""
    parts = []
    for labels in explanation.values():
        for label, pairs in labels.items():
            parts.append(f"{label}: " + ", ".join(ngram for ngram, _ in pairs))
    return "; ".join(parts)


def evaluation_table(report: dict) -> str:
    parts = [f"{report['n_documents']} documents"]
    for name, m in report["tasks"].items():
        parts.append("")
        parts.append(
            f"task {name} ({m['type']}-label, {m['n']} documents): accuracy {m['accuracy']:.3f}  "
            f"macro-F1 {m['macro_f1']:.3f}  micro-F1 {m['micro_f1']:.3f}  weighted-F1 {m['weighted_f1']:.3f}"
        )
        rows = [[lab, _fmt(v["precision"]), _fmt(v["recall"]), _fmt(v["f1"]), v["support"]]
                for lab, v in m["per_label"].items()]
        parts.append(table(rows, ["label", "precision", "recall", "f1", "support"], {1, 2, 3, 4}))
        cm = m["confusion_matrix"]
        if m["type"] == "single":
            parts.append("confusion matrix (rows: true, columns: predicted)")
            parts.append(table([[lab, *row] for lab, row in zip(cm["labels"], cm["matrix"])],
                               ["", *cm["labels"]], set(range(1, len(cm["labels"]) + 1))))
        else:
            rows = [[lab, c[0][0], c[0][1], c[1][0], c[1][1]] for lab, c in zip(cm["labels"], cm["matrix"])]
            parts.append(table(rows, ["label", "tn", "fp", "fn", "tp"], {1, 2, 3, 4}))
        if m.get("unseen_labels"):
            parts.append("labels the model never saw: " + ", ".join(m["unseen_labels"]))
        if m.get("skipped"):
            parts.append(f"{m['skipped']} documents without a label for this task were skipped")
    for note in report.get("notes", []):
        parts.append(f"note: {note}")
    return "\n".join(parts)


def metrics_line(m: dict) -> str:
    return (f"accuracy {m['accuracy']:.3f}, macro-F1 {m['macro_f1']:.3f}, micro-F1 {m['micro_f1']:.3f}")


def score_kind(metrics: dict | None) -> str:
    """How the scores stored in a model were measured."""
    if metrics and metrics.get("held_out"):
        return f"held-out ({metrics['held_out']} rows)"
    return "cross-validated"


def info_table(data: dict) -> str:
    v = data.get("versions", {})
    c = data.get("corpus", {})
    lines = [
        f"model          {data.get('path')}",
        f"created        {data.get('created_at')}",
        f"versions       " + ", ".join(f"{k} {val}" for k, val in v.items()),
        f"corpus         {c.get('path')} ({c.get('n_documents')} documents)",
        f"corpus sha256  {c.get('sha256')}",
        f"features       {data.get('n_features')}",
        f"config         " + ", ".join(f"{k}={val}" for k, val in data.get("config", {}).items()),
    ]
    for name, t in data.get("tasks", {}).items():
        lines.append("")
        lines.append(f"task {name} ({t['type']}-label, {t['n_documents']} documents)")
        rows = []
        for lab in t["labels"]:
            row = [lab, t["label_counts"].get(lab, 0)]
            if t["type"] == "multi":
                row.append(f"{t['thresholds'][lab]:.2f}")
            cv = data.get("cv_metrics", {}).get(name)
            row.append(_fmt(cv["per_label"][lab]["f1"]) if cv and lab in cv["per_label"] else "-")
            rows.append(row)
        cv = data.get("cv_metrics", {}).get(name)
        f1 = "held-out f1" if cv and cv.get("held_out") else "cv f1"
        header = ["label", "documents"] + (["threshold"] if t["type"] == "multi" else []) + [f1]
        lines.append(table(rows, header, set(range(1, len(header)))))
        lines.append(f"{score_kind(cv)}: " + (metrics_line(cv) if cv else "not available"))
    if data.get("tuning"):
        lines.append("")
        lines.extend(tuning_lines(data["tuning"], top=10))
    for note in data.get("notes", []):
        lines.append(f"note: {note}")
    return "\n".join(lines)


def _changes(changes: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in changes.items()) or "(the given configuration)"


def tuning_lines(t: dict, top: int = 10) -> list[str]:
    """What `--tune` did: schedule, stop reason, the winner, the best trials of the furthest rung."""
    done = [x for x in t["trials"] if x.get("score") is not None]
    lines = [f"tuning         {len(t['trials'])} trials over {t['trials_planned']} configurations in "
             f"{t['search_seconds']:.0f}s of a {t['budget_seconds']:.0f}s budget ({t['strategy']}; {t['stopped']})",
             f"               scored by {t['metric']} on the {t['selection']}",
             f"best           {t['best']['score']:.4f} on {t['best']['documents']} documents: "
             f"{_changes(t['best']['changes'])}"]
    if "final_fit_seconds" in t:
        lines.append(f"final fit      on every document: {t['final_fit_seconds']:.0f}s (expected "
                     f"{t['final_fit_estimate_seconds']:.0f}s); {t['total_seconds']:.0f}s in all")
    if done:
        furthest = max(x["documents"] for x in done)
        ranked = sorted((x for x in done if x["documents"] == furthest), key=lambda x: -x["score"])[:top]
        rows = [[x["trial"], f"{x['score']:.4f}", f"{x['seconds']:.1f}", _changes(x["changes"])] for x in ranked]
        lines.append(f"best trials on {furthest} documents:")
        lines.append(table(rows, ["trial", "score", "seconds", "changes"], {0, 1, 2}))
    return lines


def cv_table(result: dict) -> str:
    parts = [f"{result['n_documents']} documents, {result['folds']}-fold cross-validation (seed {result['seed']}); "
             f"mean ± standard deviation over folds"]
    for name, m in result["tasks"].items():
        parts.append("")
        head = "  ".join(f"{label} {m[key]['mean']:.3f} ± {m[key]['std']:.3f}" for key, label in
                         (("accuracy", "accuracy"), ("macro_f1", "macro-F1"), ("micro_f1", "micro-F1"),
                          ("weighted_f1", "weighted-F1")))
        parts.append(f"task {name} ({m['type']}-label): {head}")
        rows = [[lab, *(f"{v[k]['mean']:.3f} ± {v[k]['std']:.3f}" for k in ("precision", "recall", "f1")), v["support"]]
                for lab, v in m["per_label"].items()]
        parts.append(table(rows, ["label", "precision", "recall", "f1", "support"], {1, 2, 3, 4}))
    return "\n".join(parts)


def explain_table(data: dict) -> str:
    parts = []
    for task, labels in data.items():
        for label, sides in labels.items():
            parts.append(f"task {task}, label {label}")
            towards, against = sides["towards"], sides["against"]
            rows = []
            for i in range(max(len(towards), len(against))):
                t = towards[i] if i < len(towards) else ["", ""]
                a = against[i] if i < len(against) else ["", ""]
                rows.append([t[0], f"{t[1]:+.3f}" if t[1] != "" else "", a[0], f"{a[1]:+.3f}" if a[1] != "" else ""])
            parts.append(table(rows, ["towards", "weight", "against", "weight"], {1, 3}))
            for block in sides.get("blocks", []):
                parts.append(_block_line(block))
            parts.append("")
    return "\n".join(parts).rstrip()


def _block_line(block: dict) -> str:
    """A dense block of `explain` in one sentence."""
    if "one_positive_word" in block:
        return (f"{block['name']}: {block['one_positive_word']:+.3f} for a text with one positive word of "
                f"the lexicon (one negative word: the opposite)")
    (up, up_value), (down, down_value) = block["most_towards"], block["most_against"]
    return (f"{block['name']}: from {up_value:+.3f} ({up!r} alone) to {down_value:+.3f} ({down!r} alone): "
            f"what one word's vector adds, at the extremes of {block['vectors']:,} vectors of "
            f"{block['dimensions']} dimensions")


def compare_table(data: dict) -> str:
    parts = [f"A: {data['model_a']}", f"B: {data['model_b']}", f"corpus: {data['corpus']} ({data['n_documents']} documents)"]
    for name, t in data["tasks"].items():
        parts.append("")
        parts.append(f"task {name} ({t['type']}-label, {t['n']} documents)")
        rows = [[key, f"{v['a']:.3f}", f"{v['b']:.3f}", f"{v['diff']:+.3f}"] for key, v in t["metrics"].items()]
        parts.append(table(rows, ["metric", "A", "B", "B - A"], {1, 2, 3}))
        rows = [[lab, f"{v['f1_a']:.3f}", f"{v['f1_b']:.3f}", f"{v['diff']:+.3f}", v["support"]]
                for lab, v in t["per_label"].items()]
        parts.append(table(rows, ["label", "F1 A", "F1 B", "B - A", "support"], {1, 2, 3, 4}))
        c = t["changed"]
        parts.append(f"{c['n']} document{'s' if c['n'] != 1 else ''} changed prediction: B right where A was wrong {c['only_b_right']}, "
                     f"A right where B is wrong {c['only_a_right']}, both wrong {c['neither_right']}")
        show = lambda v: ", ".join(v) or "(none)" if isinstance(v, list) else str(v)
        rows = [[_shorten(d["id"], 40), show(d["truth"]), show(d["a"]), show(d["b"]), d["right"]] for d in c["documents"][:20]]
        if rows:
            parts.append(table(rows, ["id", "reference", "A", "B", "right"]))
            if c["n"] > 20:
                parts.append(f"... and {c['n'] - 20} more (--format json lists them all)")
    for note in data.get("notes", []):
        parts.append(f"note: {note}")
    return "\n".join(parts)


_SHOWN_ESTIMATORS = ("cc", "acc", "em")  # the table's columns; csv and json have every estimator


def _percent(entry: dict | None) -> str:
    if entry is None:
        return "-"
    text = f"{100 * entry['share']:.1f}"
    if "low" in entry:
        text += f" [{100 * entry['low']:.1f}-{100 * entry['high']:.1f}]"
    return text


def shares_table(data: dict) -> str:
    """One table per task: a row per group and label, shares in % with their interval in brackets."""
    interval = f"{data['confidence']:.0%} bootstrap interval, {data['resamples']} resamples" if data["resamples"] \
        else "no interval"
    out = []
    for task, kind in data["tasks"].items():
        what = "share of the documents with each label" if kind == "multi" else "share of the documents per label"
        out.append(f"{task} ({kind}-label): {what}, in % [{interval}]")
        rows = []
        for g in data["groups"]:
            if g["status"] != "ok":
                rows.append([g["name"], g["n"], f"too small (under {data['min_documents']} documents)", "", "", "", ""])
                continue
            for i, (label, entry) in enumerate(g["tasks"][task]["labels"].items()):
                rows.append([g["name"] if i == 0 else "", g["n"] if i == 0 else "", label,
                             f"{100 * entry['training']:.1f}", *(_percent(entry[e]) for e in _SHOWN_ESTIMATORS)])
        out.append(table(rows, ["group", "n", "label", "training", "CC", "ACC", "EM"], align_right={1, 3}))
        out.append("")
    notes = list(data.get("notes", []))
    if data["unreadable"]:
        notes.append(f"{data['unreadable']} document(s) could not be read and are not counted.")
    mixes = [(g["name"], g["sources"]) for g in data["groups"] if g.get("sources")]
    if mixes:
        shown = "; ".join(f"{name}: {_mix(mix)}" for name, mix in mixes[:3]) + ("; ..." if len(mixes) > 3 else "")
        notes.append("the model was trained on several sources: EM and `training` use each source's shares, mixed "
                     f"as the group's documents look ({shown}; --format json: `sources`).")
    notes.append("CC counts predicted labels; ACC corrects the counts with the misclassification rates measured "
                 "at training (its interval includes their uncertainty); EM re-estimates the shares from the "
                 "probabilities (see README, Label shares).")
    out += [f"note: {note}" for note in notes]
    return "\n".join(out)


def shares_csv(data: dict) -> str:
    """One row per group, task and label; a group too small has one row per task with its status only."""
    import io

    stream = io.StringIO()
    writer = csv.writer(stream, lineterminator="\n")
    estimators = data["estimators"]
    writer.writerow(["group", "by", "period", "start", "n", "status", "task", "label", "training",
                     *[f"{e}{suffix}" for e in estimators for suffix in ("", "_low", "_high")]])
    for g in data["groups"]:
        head = [g["name"], g["by"] or "", g["period"] or "", g["start"] or "", g["n"], g["status"]]
        if g["status"] != "ok":
            for task in data["tasks"]:
                writer.writerow([*head, task, "", "", *[""] * (3 * len(estimators))])
            continue
        for task, result in g["tasks"].items():
            for label, entry in result["labels"].items():
                cells = []
                for e in estimators:
                    value = entry[e] or {}
                    cells += [value.get("share", ""), value.get("low", ""), value.get("high", "")]
                writer.writerow([*head, task, label, entry["training"], *cells])
    return stream.getvalue().rstrip("\n")


def _mix(mix: dict) -> str:
    return ", ".join(f"{name} {100 * share:.0f} %" for name, share in sorted(mix.items(), key=lambda x: -x[1]))


def adaptation_lines(shares: dict, n_documents: int, sources: dict | None = None) -> list[str]:
    """What `predict --adapt` re-estimated, for stderr."""
    lines = [f"Label shares re-estimated on these {n_documents} documents (EM, Saerens et al. 2002); probabilities and",
             "labels adjusted to them where they differ from the training shares (likelihood-ratio test, p < 0.05):"]
    if sources:
        lines.append(f"  (training shares of the model's sources, mixed as these documents look: {_mix(sources)})")
    rows = []
    for task, s in shares.items():
        for i, (label, training, estimated) in enumerate(zip(s["labels"], s["training"], s["estimated"])):
            # a single-label task is tested as a whole (its first row), a multi-label one label by label
            k = i if s["multi"] else 0
            verdict = "" if not s["multi"] and i else \
                f"{'yes' if s['adjusted'][k] else 'no'} (p {_p_value(s['p_values'][k])})"
            rows.append([task if i == 0 else "", label, f"{100 * training:.1f} %", f"{100 * estimated:.1f} %", verdict])
    lines += ["  " + line for line in
              table(rows, ["task", "label", "training", "this batch", "adjusted"], {2, 3}).splitlines()]
    return lines


def _p_value(p: float) -> str:
    return "< 0.001" if p < 0.001 else f"= {p:.3f}"
