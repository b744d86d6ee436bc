"""`classify evaluate --report DIR`: a Markdown report, the metrics as JSON, and PNG plots.

Everything written is a function of the model and the corpus only (no timestamps, no absolute paths of
temporary files), so the same run gives byte-identical `report.md` and `metrics.json`.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import numpy as np

from classify.errors import ClassifyError

EXAMPLES = 3  # misclassified documents shown per confusion
CONFUSIONS = 5  # label pairs shown per task


def _slug(name: str) -> str:
    return re.sub(r"[^\w.-]+", "-", name).strip("-") or "task"


def _short(text: str, width: int = 140) -> str:
    text = " ".join(text.split()).replace("|", "\\|")
    return text if len(text) <= width else text[: width - 1] + "…"


def _md_table(header: list[str], rows: list[list]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def _f(x: float) -> str:
    return f"{x:.3f}"


def write_report(report, out_dir, *, model_name: str, corpus_name: str) -> list[Path]:
    """Write report.md, metrics.json and the plots into `out_dir`; returns the written paths."""
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ClassifyError(f"cannot create the report folder {out}: {exc.strerror}.") from None
    written = []
    data = report.to_dict()
    metrics_path = out / "metrics.json"
    metrics_path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    written.append(metrics_path)

    lines = [f"# Evaluation of `{model_name}` on `{corpus_name}`", ""]
    summary = [[name, m["type"], m["n"], _f(m["accuracy"]), _f(m["macro_f1"]), _f(m["micro_f1"]),
                _f(m["weighted_f1"])] for name, m in data["tasks"].items()]
    lines += [f"{data['n_documents']} documents.", "",
              _md_table(["task", "type", "documents", "accuracy", "macro-F1", "micro-F1", "weighted-F1"], summary), ""]
    if any(m["type"] == "multi" for m in data["tasks"].values()):
        lines += ["For multi-label tasks, accuracy is exact-match accuracy (every label of a document right).", ""]
    for note in data.get("notes", []):
        lines += [f"- Note: {note}"]
    if data.get("notes"):
        lines.append("")

    for name, m in data["tasks"].items():
        detail = report.details[name]
        slug = _slug(name)
        lines += [f"## Task `{name}` ({m['type']}-label)", ""]
        rows = [[f"`{lab}`", _f(v["precision"]), _f(v["recall"]), _f(v["f1"]), v["support"]]
                for lab, v in m["per_label"].items()]
        lines += [_md_table(["label", "precision", "recall", "F1", "support"], rows), ""]
        if m.get("unseen_labels"):
            lines += ["Labels the model never saw (always wrong): " + ", ".join(f"`{x}`" for x in m["unseen_labels"]), ""]
        if m.get("skipped"):
            lines += [f"{m['skipped']} documents without a label for this task were skipped.", ""]
        if m.get("majority_baseline"):
            b = m["majority_baseline"]
            lines += [f"Always answering `{b['label']}`, the most frequent label here, would score accuracy "
                      f"{_f(b['accuracy'])} and macro-F1 {_f(b['macro_f1'])}.", ""]
        bars = out / f"per-label-{slug}.png"
        _plot_per_label(m, name, bars)
        written.append(bars)
        lines += [f"![precision, recall and F1 per label]({bars.name})", ""]
        if m["type"] == "single":
            cm_path = out / f"confusion-{slug}.png"
            _plot_confusion(m["confusion_matrix"], name, cm_path)
            written.append(cm_path)
            cm = m["confusion_matrix"]
            lines += ["Confusion matrix (rows: true label, columns: predicted label):", "",
                      _md_table(["true \\ predicted", *cm["labels"]],
                                [[f"`{lab}`", *row] for lab, row in zip(cm["labels"], cm["matrix"])]), "",
                      f"![confusion matrix]({cm_path.name})", ""]
            lines += _single_confusions(detail)
        else:
            cm = m["confusion_matrix"]
            lines += ["Per-label confusion:", "",
                      _md_table(["label", "tn", "fp", "fn", "tp"],
                                [[f"`{lab}`", c[0][0], c[0][1], c[1][0], c[1][1]] for lab, c in zip(cm["labels"], cm["matrix"])]), ""]
            pr_path = out / f"pr-curves-{slug}.png"
            _plot_pr_curves(detail, name, pr_path)
            written.append(pr_path)
            lines += [f"![precision-recall curve per label, chosen threshold marked]({pr_path.name})", ""]
            lines += _multi_confusions(detail)
        if "calibration" in m:
            reliability = out / f"reliability-{slug}.png"
            _plot_reliability(detail, m["calibration"], name, reliability)
            written.append(reliability)
            lines += _calibration_lines(m["calibration"], m["type"], reliability.name)

    md = out / "report.md"
    md.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")
    written.insert(0, md)
    return written


def _single_confusions(detail) -> list[str]:
    labels = detail["labels"]
    pairs = Counter((t, p) for t, p in zip(detail["truth"], detail["predicted"]) if t != p)
    if not pairs:
        return ["No document was misclassified.", ""]
    lines = ["### Most frequent confusions", ""]
    for (true, pred), count in sorted(pairs.items(), key=lambda kv: (-kv[1], kv[0]))[:CONFUSIONS]:
        lines += [f"**`{true}` predicted as `{pred}`**: {count} document{'s' if count > 1 else ''}", ""]
        j = labels.index(pred) if pred in labels else None
        rows = [i for i, (t, p) in enumerate(zip(detail["truth"], detail["predicted"])) if t == true and p == pred]
        if j is not None:  # the most confident mistakes first
            rows.sort(key=lambda i: (-detail["scores"][i, j], detail["ids"][i]))
        for i in rows[:EXAMPLES]:
            conf = f" ({detail['scores'][i, j]:.2f})" if j is not None else ""
            lines.append(f"- `{detail['ids'][i]}`{conf}: {_short(detail['texts'][i])}")
        lines.append("")
    return lines


def _multi_confusions(detail) -> list[str]:
    labels = detail["labels"]
    errors = []
    for j, label in enumerate(labels):
        fp = [i for i, (t, p) in enumerate(zip(detail["truth"], detail["predicted"])) if label in p and label not in t]
        fn = [i for i, (t, p) in enumerate(zip(detail["truth"], detail["predicted"])) if label in t and label not in p]
        if fp:
            errors.append((len(fp), label, "predicted but not in the reference (false positives)", fp, j, -1))
        if fn:
            errors.append((len(fn), label, "in the reference but missed (false negatives)", fn, j, 1))
    if not errors:
        return ["No label was wrong on any document.", ""]
    lines = ["### Most frequent errors", ""]
    for count, label, what, rows, j, sign in sorted(errors, key=lambda e: (-e[0], e[1], e[2]))[:CONFUSIONS]:
        lines += [f"**`{label}` {what}**: {count} document{'s' if count > 1 else ''}", ""]
        # the worst mistakes first: highest scores for false positives, lowest for false negatives
        rows = sorted(rows, key=lambda i: (sign * detail["scores"][i, j], detail["ids"][i]))
        for i in rows[:EXAMPLES]:
            truth = ", ".join(detail["truth"][i]) or "(none)"
            lines.append(f"- `{detail['ids'][i]}` (score {detail['scores'][i, j]:.2f}, reference: {truth}): "
                         f"{_short(detail['texts'][i])}")
        lines.append("")
    return lines


def _calibration_lines(c: dict, kind: str, image: str) -> list[str]:
    """The calibration of a task's probabilities: what `predict --adapt` and `classify shares` rely on."""
    lines = ["### Calibration", "",
             "Are the probabilities frequencies? Of the documents given a probability near 0.8 for a label, about "
             "80 % should have it. `predict --adapt` and the EM estimate of `classify shares` rely on it. "
             f"ECE: expected calibration error over {c['bins']} equal-width probability bins (0 is perfect); "
             "Brier: mean squared gap between probability and outcome.", ""]
    rows = [[f"`{label}`", _f(v["ece"]), _f(v["brier"])] for label, v in c["per_label"].items()]
    rows.append(["all labels (mean ECE" + ("; Brier summed over labels" if kind == "single" else "") + ")",
                 _f(c["ece"]), _f(c["brier"])])
    lines += [_md_table(["label", "ECE", "Brier"], rows), ""]
    if "top_label_ece" in c:
        lines += [f"ECE of the predicted label's probability (confidence): {_f(c['top_label_ece'])}.", ""]
    lines += [f"![reliability: mean probability against observed frequency, per label]({image})", ""]
    return lines


# -- plots ------------------------------------------------------------------------------------------------

def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"figure.dpi": 100, "savefig.dpi": 100, "font.size": 9,
                         "svg.hashsalt": "classify", "path.simplify": True})
    return plt


def _save(fig, path: Path) -> None:
    # no creation date in the PNG: the same data gives the same file
    fig.savefig(path, bbox_inches="tight", metadata={"Software": None})
    import matplotlib.pyplot as plt

    plt.close(fig)


def _plot_confusion(cm: dict, task: str, path: Path) -> None:
    plt = _pyplot()
    labels, M = cm["labels"], np.asarray(cm["matrix"], dtype=float)
    rows = M.sum(axis=1, keepdims=True)
    share = np.divide(M, rows, out=np.zeros_like(M), where=rows > 0)
    size = max(3.5, 0.55 * len(labels) + 2)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    image = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    for (r, c), value in np.ndenumerate(M):
        if len(labels) <= 25:
            ax.text(c, r, f"{int(value)}", ha="center", va="center", fontsize=8,
                    color="white" if share[r, c] > 0.6 else "black")
    ax.set_xlabel("predicted label")
    ax.set_ylabel("true label")
    ax.set_title(f"{task}: confusion matrix (colour: share of the true label)")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    _save(fig, path)


def _zoomed_floor(values, step: float = 0.05) -> float:
    """The bottom of an axis zoomed to `values` (scores in [0, 1]): a step below the lowest, on the step
    grid; 0 when a value is 0.3 or less (zooming would only make a bad score look closer to the others)."""
    low = min(values) if len(values) else 0.0
    if low <= 0.3:
        return 0.0
    return max(0.0, float(np.floor((low - step) / step + 1e-9) * step))


def _ticks(bottom: float, top: float = 1.0) -> list[float]:
    """The axis' ends and the round values between them (every 0.05, 0.1 or 0.2, by the span)."""
    span = top - bottom
    step = 0.05 if span <= 0.3 else 0.1 if span <= 0.6 else 0.2
    inner = np.arange(np.ceil(bottom / step - 1e-9) * step, top + 1e-9, step)
    return sorted({round(bottom, 2), round(top, 2), *(round(float(t), 2) for t in inner
                                                       if t - bottom > step / 2 - 1e-9)})


def _plot_per_label(m: dict, task: str, path: Path) -> None:
    plt = _pyplot()
    labels = list(m["per_label"])
    keys = (("precision", "#4C72B0"), ("recall", "#DD8452"), ("f1", "#55A868"))
    values = {k: [m["per_label"][lab][k] for lab in labels] for k, _ in keys}
    width_in = max(5, 0.6 * len(labels) + 2)
    fig, ax = plt.subplots(figsize=(width_in, 4.2))
    x = np.arange(len(labels))
    bottom = _zoomed_floor([v for k, _ in keys for v in values[k]])
    # a value label fits across its bar when the bar is wide enough on paper, else it stands upright
    upright = (width_in - 1.2) / max(len(labels), 1) * 0.27 < 0.3
    for offset, (key, colour) in zip((-0.27, 0, 0.27), keys, strict=True):
        bars = ax.bar(x + offset, values[key], width=0.27, label=key, color=colour)
        ax.bar_label(bars, labels=[f"{v:.2f}" for v in values[key]], padding=2, fontsize=7,
                     rotation=90 if upright else 0)
    ax.set_xticks(x, [f"{lab}\n(n={m['per_label'][lab]['support']})" for lab in labels],
                  rotation=45 if len(labels) > 6 else 0, ha="right" if len(labels) > 6 else "center")
    headroom = (1 - bottom) * (0.16 if upright else 0.08)  # room for the labels of bars at 1.00
    ax.set_ylim(bottom, 1 + headroom)
    ax.set_yticks(_ticks(bottom))
    ax.set_ylabel("score" if bottom == 0 else f"score (axis from {bottom:.2f} to 1.00)")
    zoom = "" if bottom == 0 else f" (zoomed: {bottom:.2f}-1.00)"
    ax.set_title(f"{task}: precision, recall and F1 per label{zoom}", pad=22)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=3, fontsize=8, frameon=False)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    _save(fig, path)


def _plot_pr_curves(detail, task: str, path: Path) -> None:
    from sklearn.metrics import precision_recall_curve

    plt = _pyplot()
    labels = detail["labels"]
    cols = min(4, len(labels))
    rows = (len(labels) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.9 * rows), squeeze=False)
    truth = detail["truth"]
    for j, label in enumerate(labels):
        ax = axes[j // cols][j % cols]
        y = np.array([label in t for t in truth], dtype=int)
        s = detail["scores"][:, j]
        ax.grid(alpha=0.3)
        if y.sum() == 0:
            ax.set_title(f"{label} (n=0)", fontsize=9)
            ax.set_xlim(0, 1.02)
            ax.set_ylim(0, 1.02)
            ax.text(0.5, 0.5, "no positive example", ha="center", va="center")
            continue
        precision, recall, _ = precision_recall_curve(y, s)
        cut = detail["thresholds"][j]
        chosen = s >= cut
        tp = int((chosen & (y == 1)).sum())
        p = tp / chosen.sum() if chosen.sum() else 1.0
        r = tp / y.sum()
        # zoomed on the corner where the chosen threshold lies (both axes alike, so that the curve keeps its
        # shape): good labels no longer sit squeezed against 1.0
        bottom = _zoomed_floor([p, r], step=0.1)
        ax.set_xlim(bottom, 1.02)
        ax.set_ylim(bottom, 1.02)
        ax.set_xticks(_ticks(bottom))
        ax.set_yticks(_ticks(bottom))
        zoom = "" if bottom == 0 else f", axes {bottom:.1f}-1"
        ax.set_title(f"{label} (n={int(y.sum())}{zoom})", fontsize=9)
        ax.plot(recall, precision, color="#4C72B0")
        ax.plot([r], [p], "o", color="#C44E52", label=f"threshold {cut:.2f}: P {p:.2f}, R {r:.2f}")
        ax.legend(loc="lower left", fontsize=7)
        if j % cols == 0:
            ax.set_ylabel("precision")
        if j // cols == rows - 1:
            ax.set_xlabel("recall")
    for k in range(len(labels), rows * cols):
        axes[k // cols][k % cols].axis("off")
    fig.suptitle(f"{task}: precision-recall per label, chosen threshold marked (axes zoomed where stated)",
                 fontsize=10)
    fig.tight_layout()
    _save(fig, path)


def _plot_reliability(detail, calibration: dict, task: str, path: Path) -> None:
    """Per label, the observed frequency against the mean probability in each probability bin (points sized
    by their documents), beside the diagonal of perfect calibration; below, how many documents each bin has."""
    from classify.metrics import reliability_bins

    plt = _pyplot()
    labels = detail["labels"]
    truth = detail["truth"]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(6.2, 7.0), height_ratios=[3, 1.2], sharex=True)
    top.plot([0, 1], [0, 1], linestyle="--", color="0.5", linewidth=1, label="perfectly calibrated")
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    width = 1 / calibration["bins"]
    for j, label in enumerate(labels):
        y = np.array([(label in t) if detail["multi"] else (t == label) for t in truth], dtype=float)
        points = reliability_bins(detail["scores"][:, j], y, calibration["bins"])
        if not points:
            continue
        mean_p, freq, counts = (np.array(v) for v in zip(*points))
        colour = colours[j % len(colours)]
        ece = calibration["per_label"][label]["ece"]
        top.plot(mean_p, freq, color=colour, linewidth=1.4, label=f"{label} (ECE {ece:.3f})")
        top.scatter(mean_p, freq, s=12 + 120 * counts / counts.max(), color=colour, alpha=0.8, zorder=3)
        centres = (np.minimum((mean_p * calibration["bins"]).astype(int), calibration["bins"] - 1) + 0.5) * width
        shift = (j - (len(labels) - 1) / 2) * width / max(len(labels), 1)
        bottom.bar(centres + shift, counts, width=width / max(len(labels), 1), color=colour)
    top.set_xlim(0, 1)
    top.set_ylim(-0.02, 1.02)
    top.set_ylabel("observed frequency of the label")
    top.set_title(f"{task}: reliability of the probabilities (ECE {calibration['ece']:.3f}, "
                  f"Brier {calibration['brier']:.3f})", fontsize=10)
    top.grid(alpha=0.3)
    top.legend(loc="upper left", fontsize=8, frameon=False)
    bottom.set_yscale("log")
    bottom.set_xlabel(f"probability given by the model ({calibration['bins']} bins; point size: documents)")
    bottom.set_ylabel("documents")
    bottom.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    _save(fig, path)
