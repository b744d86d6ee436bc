"""Plots people read (`evaluate --report`): value labels on the bars, axes zoomed to the data with the range
stated."""

from pathlib import Path

import pytest

from classify import report


@pytest.fixture
def figures(monkeypatch):
    """The figures the report draws, inspected before they are written (then written as usual)."""
    seen = []
    real = report._save

    def save(fig, path):
        seen.append((Path(path).name, fig))
        axes = [ax for ax in fig.axes if ax.get_visible()]
        seen[-1] = (
            Path(path).name,
            {
                "ylim": [ax.get_ylim() for ax in axes],
                "xlim": [ax.get_xlim() for ax in axes],
                "ylabel": [ax.get_ylabel() for ax in axes],
                "titles": [ax.get_title() for ax in axes],
                "texts": [t.get_text() for ax in axes for t in ax.texts],
            },
        )
        real(fig, path)

    monkeypatch.setattr(report, "_save", save)
    return seen


def _per_label(values: dict) -> dict:
    return {
        "per_label": {
            label: {"precision": p, "recall": r, "f1": f, "support": 10}
            for label, (p, r, f) in values.items()
        }
    }


def test_bars_carry_their_values_and_the_axis_is_zoomed_to_them(figures, tmp_path):
    report._plot_per_label(
        _per_label(
            {"negative": (0.87, 0.80, 0.83), "neutral": (0.82, 0.86, 0.84), "positive": (0.79, 0.82, 0.80)}
        ),
        "sentiment",
        tmp_path / "bars.png",
    )
    ((_, fig),) = figures
    assert sorted(fig["texts"]) == sorted(
        ["0.87", "0.80", "0.83", "0.82", "0.86", "0.84", "0.79", "0.82", "0.80"]
    )
    low, high = fig["ylim"][0]
    assert low == pytest.approx(0.70) and 1.0 < high < 1.05
    assert fig["ylabel"][0] == "score (axis from 0.70 to 1.00)" and "zoomed: 0.70-1.00" in fig["titles"][0]
    assert (tmp_path / "bars.png").exists()


def test_low_scores_keep_the_axis_from_zero(figures, tmp_path):
    report._plot_per_label(
        _per_label({"a": (0.0, 0.45, 0.2), "b": (0.9, 0.95, 0.92)}), "t", tmp_path / "b.png"
    )
    ((_, fig),) = figures
    assert fig["ylim"][0][0] == 0 and fig["ylabel"][0] == "score" and "zoomed" not in fig["titles"][0]
    assert "0.00" in fig["texts"]


@pytest.mark.parametrize(
    "values, bottom",
    [([0.79, 0.95], 0.70), ([0.995, 1.0], 0.90), ([0.31], 0.25), ([0.3, 0.9], 0.0), ([], 0.0)],
)
def test_zoomed_floor(values, bottom):
    assert report._zoomed_floor(values) == pytest.approx(bottom)


def test_precision_recall_axes_are_zoomed_on_the_chosen_threshold(figures, tiny_model_path, tmp_path, cli):
    from .conftest import TINY

    code, _, err = cli("evaluate", TINY, "--model", tiny_model_path, "--report", tmp_path / "r", "-q")
    assert code == 0, err
    pr = dict(figures)["pr-curves-topics.png"]
    for (low, high), (xlow, xhigh), title in zip(pr["ylim"], pr["xlim"], pr["titles"], strict=True):
        assert (low, high) == (xlow, xhigh) and high == pytest.approx(1.02)
        if low > 0:
            assert f"axes {low:.1f}-1)" in title
    bars = dict(figures)["per-label-topics.png"]
    assert len(bars["texts"]) == 9  # 3 labels x precision, recall, F1
