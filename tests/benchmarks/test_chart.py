"""The chart and the Markdown table a bench run writes (benchmarks/chart.py), from sample figures."""

from pathlib import Path

import pytest

from benchmarks.chart import NO_SCALE, NO_THROUGHPUT, draw, scale_target_ms, throughput_bars, write_results
from benchmarks.report import Results

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def sizes(small: float | None, org_100: float, org_100k: float | None) -> dict:
    figures = {"org_100": {"p50": org_100 * 0.7, "p95": org_100}}
    if small is not None:
        figures["small"] = {"p50": small * 0.7, "p95": small}
    if org_100k is not None:
        figures["org_100k"] = {"p50": org_100k * 0.7, "p95": org_100k}
    return figures


@pytest.fixture
def results() -> Results:
    """Figures of the size the issue-19 runs measured."""
    results = Results()
    results.add("list: throughput ratio API / baseline", ">= 0.6", "0.70", True)
    results.add("mixed: reads older than a PATCH already answered", "0", "0", True)
    results.data["scale"] = [
        {"operation": "list, first page", "small": {"p50": 3.1, "p95": 4.8}, **sizes(None, 5.0, 326.9)},
        {"operation": "prompt-particles", **sizes(4.1, 28.4, None)},
        {"operation": "create", **sizes(7.0, 7.4, 141.8)},
    ]
    results.data["list"] = {"api_rps": 447.0, "baseline_rps": 640.0, "ratio": 0.70}
    results.data["resolved"] = {"rps": 1748.0, "p50_ms": 4.1, "p99_ms": 11.75}
    results.data["conditional"] = {
        "list page (?limit=50)": {"rendered 200": 310.0, "304": 1450.0, "cached 200": 1390.0},
        "resolved": {"rendered 200": 520.0, "304": 1700.0, "cached 200": 1650.0},
    }
    results.data["mixed"] = {
        "organizations": 100,
        "written_organizations": 5,
        "hit_rate_unwritten": 1.0,
        "hit_rate_written": 0.78,
        "stale_reads": 0,
    }
    return results


def texts(figure) -> str:
    return "\n".join(text.get_text() for text in figure.findobj(lambda artist: hasattr(artist, "get_text")))


def test_both_panels_are_drawn_with_the_scale_figures(results):
    figure = draw(results, "code: abc1234")
    assert len(figure.axes) == 2
    assert NO_SCALE not in texts(figure)
    assert "326.9" in texts(figure) and "1,450" in texts(figure)
    assert "hit rate 1.000 without writes" in texts(figure)


def test_without_scale_figures_only_the_throughput_is_drawn_and_the_picture_says_so(results):
    del results.data["scale"]
    figure = draw(results, "code: abc1234")
    assert len(figure.axes) == 1
    assert NO_SCALE in texts(figure)


def test_a_run_without_figures_still_gets_a_picture_that_says_so():
    figure = draw(Results(), "code: abc1234")
    assert NO_THROUGHPUT in texts(figure)


def test_throughput_bars_put_the_api_beside_its_anchor(results):
    labels = [label for label, _, _ in throughput_bars(results.data)]
    assert labels[:3] == ["list ?limit=50: API", "list ?limit=50: plain .values() view", "resolved: API"]
    assert "conditional list page (?limit=50): 304" in labels


def test_the_resolved_floor_is_drawn_beside_the_api_when_the_run_measured_it(results):
    assert "resolved: the hit's I/O, no DRF" not in [label for label, _, _ in throughput_bars(results.data)]
    results.data["resolved"]["floor_rps"] = 1523.0

    bars = throughput_bars(results.data)

    labels = [label for label, _, _ in bars]
    assert labels[labels.index("resolved: API") + 1] == "resolved: the hit's I/O, no DRF"
    assert "1,523" in texts(draw(results, "code: abc1234"))


@pytest.mark.parametrize(("small", "target"), [(2.0, 10.0), (6.6, 10.0), (8.0, 12.0)])
def test_the_scale_target_is_1_5x_the_small_figure_or_10_ms(small, target):
    assert scale_target_ms(small) == pytest.approx(target, abs=0.01)


def test_the_png_and_the_markdown_table_are_written_side_by_side(results, tmp_path: Path):
    report = "code: abc1234; machine: 2 CPUs\n\n| metric | target | measured | result |\n\nall targets met"
    png, markdown = write_results(results, report, tmp_path / "results", command="benchmarks/run.py --only list")
    assert png.read_bytes().startswith(PNG_SIGNATURE)
    text = markdown.read_text()
    assert "![" in text and "](latest.png)" in text
    assert "`benchmarks/run.py --only list`" in text
    assert report in text
