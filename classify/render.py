"""Rendering results for people (tables) and for programs (JSON, JSONL, CSV). No computation here."""

from __future__ import annotations

import csv
import json


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


class PredictionWriter:
    """Writes prediction records as they come. jsonl/csv lines are flushed one by one."""

    def __init__(self, stream, fmt: str, tasks: list[str], labels: dict[str, list[str]], label_sep=";"):
        self.stream, self.fmt, self.tasks, self.labels, self.sep = stream, fmt, tasks, labels, label_sep
        self.rows: list[list] = []
        self.csv = None

    def write(self, prediction) -> None:
        if self.fmt == "jsonl":
            self.stream.write(json.dumps(prediction.to_record(self.tasks), ensure_ascii=False) + "\n")
            self.stream.flush()
        elif self.fmt == "csv":
            if self.csv is None:  # the header goes out with the first record: no input, no output
                self.csv = csv.writer(self.stream, lineterminator="\n")
                header = [f"score:{t}:{lab}" for t in self.tasks for lab in self.labels[t]]
                self.csv.writerow(["id", *self.tasks, *header, "error"])
            row = [prediction.id]
            for t in self.tasks:
                value = None if prediction.labels is None else prediction.labels[t]
                row.append(self.sep.join(value) if isinstance(value, list) else (value or ""))
            for t in self.tasks:
                scores = (prediction.scores or {}).get(t, {})
                row.extend(scores.get(lab, "") for lab in self.labels[t])
            row.append(prediction.error or "")
            self.csv.writerow(row)
            self.stream.flush()
        else:
            self.rows.append(self._table_row(prediction))

    def _table_row(self, p) -> list:
        if p.error:
            return [_shorten(p.id, 48), f"(not classified: {p.error})"] + [""] * (len(self.tasks) - 1)
        cells = [_shorten(p.id, 48)]
        for t in self.tasks:
            value, scores = p.labels[t], p.scores[t]
            if isinstance(value, list):
                cells.append(", ".join(f"{v} {scores[v]:.2f}" for v in value) or "(none)")
            else:
                cells.append(f"{value} {scores[value]:.2f}")
        return cells

    def close(self) -> None:
        if self.fmt == "table" and self.rows:
            self.stream.write(table(self.rows, ["id", *self.tasks]) + "\n")
        self.stream.flush()


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
        header = ["label", "documents"] + (["threshold"] if t["type"] == "multi" else []) + ["cv f1"]
        lines.append(table(rows, header, set(range(1, len(header)))))
        cv = data.get("cv_metrics", {}).get(name)
        lines.append("cross-validated: " + (metrics_line(cv) if cv else "not available"))
    for note in data.get("notes", []):
        lines.append(f"note: {note}")
    return "\n".join(lines)
