"""The picture of a bench run, beside its table: `results/latest.png` and `results/latest.md`.

Issue 19, target 7. Two panels, from the figures the benchmarks keep in `Results.data`:

1. p95 latency by operation at 1k rows, and at 1M rows for an organization of 100 models and one
   of 100k (`data["scale"]`, for the scale benchmark of issue 19 to fill: a list of
   `{"operation", "small", "org_100", "org_100k"}`, each size `{"p50", "p95"}` in ms), with
   each operation's target (1.5x its 1k figure or 10 ms, whichever is larger). A log scale: the
   figures span two orders of magnitude. A run without them says so in the picture instead.
2. req/s of the API against its anchors: the list against the plain `.values()` view
   (`data["list"]`), `/resolved` (`data["resolved"]`), and each conditional GET rendered,
   answered 304 and from the cache (`data["conditional"]`).

The mixed benchmark's hit rates (`data["mixed"]`) go under the title: they are rates, not req/s.

matplotlib through its object API (`Figure`, no pyplot): no GUI backend is ever chosen and no
global state is left behind, so it runs headless (CI, SSH) as it runs here. It is a dev
requirement only: the server never imports this.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from benchmarks.report import Results

SIZES = (("small", "1k rows"), ("org_100", "1M rows, org of 100"), ("org_100k", "1M rows, org of 100k"))
SIZE_COLOURS = ("#4c72b0", "#dd8452", "#c44e52")
# The scale target (issue 19, target 1): p95 within 1.5x of the 1k-row figure, or under 10 ms.
SCALE_FACTOR = 1.5
SCALE_FLOOR_MS = 10.0
KIND_COLOURS = {
    "api": "#4c72b0",
    "baseline": "#8c8c8c",
    "rendered 200": "#dd8452",
    "304": "#55a868",
    "cached 200": "#4c72b0",
}
NO_SCALE = "No latency at 1k / 1M rows in this run (the scale benchmark, issue 19, is to fill it)"
NO_THROUGHPUT = "No throughput figures in this run (the list, resolved and conditional benchmarks draw them)"


def scale_target_ms(small_p95: float) -> float:
    return max(SCALE_FACTOR * small_p95, SCALE_FLOOR_MS)


def p95(entry: dict[str, Any], size: str) -> float | None:
    return (entry.get(size) or {}).get("p95")


def draw_scale(ax: Axes, scale: list[dict[str, Any]]) -> None:
    width = 0.8 / len(SIZES)
    for index, entry in enumerate(scale):
        for offset, ((size, label), colour) in enumerate(zip(SIZES, SIZE_COLOURS, strict=True)):
            value = p95(entry, size)
            if value is None:
                continue
            x = index - 0.4 + width * (offset + 0.5)
            ax.bar(x, value, width, color=colour, label=label if index == 0 else None)
            ax.annotate(
                f"{value:.1f}",
                (x, value),
                ha="center",
                va="bottom",
                fontsize=7,
                xytext=(0, 2),
                textcoords="offset points",
            )
        small = p95(entry, "small")
        if small is not None:
            ax.hlines(
                scale_target_ms(small),
                index - 0.45,
                index + 0.45,
                colors="black",
                linestyles="dashed",
                linewidth=1,
                label="target (1.5x 1k rows, or 10 ms)" if index == 0 else None,
            )
    ax.set_yscale("log")
    ax.set_xticks(range(len(scale)), [entry["operation"] for entry in scale], rotation=20, ha="right", fontsize=8)
    ax.set_ylabel("p95 latency, ms (log scale)")
    ax.set_title("Latency by operation, 1k rows against 1M rows")
    ax.legend(fontsize=8, loc="upper left")


def throughput_bars(data: dict[str, Any]) -> list[tuple[str, float, str]]:
    """(label, req/s, kind) of every throughput figure the run kept, top to bottom."""
    bars = []
    if "list" in data:
        bars += [
            ("list ?limit=50: API", data["list"]["api_rps"], "api"),
            ("list ?limit=50: plain .values() view", data["list"]["baseline_rps"], "baseline"),
        ]
    if "list_uncached" in data:  # the same pair on a server with every cache off
        bars += [
            ("list ?limit=50, caches off: API", data["list_uncached"]["api_rps"], "rendered 200"),
            ("list ?limit=50, caches off: plain view", data["list_uncached"]["baseline_rps"], "baseline"),
        ]
    if "resolved" in data:
        bars.append(("resolved: API", data["resolved"]["rps"], "api"))
        if "floor_rps" in data["resolved"]:  # v1/bench/resolved-floor, in runs from 2026-12-08 on
            bars.append(("resolved: the hit's I/O, no DRF", data["resolved"]["floor_rps"], "baseline"))
    for label, ways in data.get("conditional", {}).items():
        bars += [(f"conditional {label}: {way}", rps, way) for way, rps in ways.items()]
    return bars


def draw_throughput(ax: Axes, data: dict[str, Any]) -> None:
    bars = throughput_bars(data)
    positions = range(len(bars))
    values = [rps for _, rps, _ in bars]
    ax.barh(positions, values, color=[KIND_COLOURS.get(kind, "#8c8c8c") for _, _, kind in bars])
    for position, value in zip(positions, values, strict=True):
        ax.annotate(
            f"{value:,.0f}", (value, position), va="center", fontsize=8, xytext=(3, 0), textcoords="offset points"
        )
    ax.set_yticks(positions, [label for label, _, _ in bars], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, max(values) * 1.15)
    ax.set_xlabel("requests per second (wrk, 8 connections)")
    title = "Throughput of the API against its anchors"
    if "list" in data:
        title += f" (list: {data['list']['ratio']:.2f}x the plain view)"
    ax.set_title(title)


def draw(results: Results, title: str) -> Figure:
    data = results.data
    scale = data.get("scale") or []
    has_throughput = bool(throughput_bars(data))
    panels = int(bool(scale)) + int(has_throughput)
    figure = Figure(figsize=(12, 4.5 * max(1, panels) + 0.8), layout="constrained")
    subtitle = [] if scale else [NO_SCALE]
    if "mixed" in data:
        mixed = data["mixed"]
        subtitle.append(
            f"mixed load over {mixed['organizations']} organizations: response cache hit rate "
            f"{mixed['hit_rate_unwritten']:.3f} without writes, {mixed['hit_rate_written']:.3f} in the "
            f"{mixed['written_organizations']} written to; {mixed['stale_reads']} stale reads"
        )
    figure.suptitle(title + "".join(f"\n{line}" for line in subtitle), fontsize=10)
    axes = figure.subplots(max(1, panels), 1, squeeze=False)[:, 0]
    if scale:
        draw_scale(axes[0], scale)
    if has_throughput:
        draw_throughput(axes[-1], data)
    if not panels:
        axes[0].axis("off")
        axes[0].text(0.5, 0.5, NO_THROUGHPUT, ha="center", va="center")
    return figure


def write_results(results: Results, report: str, directory: Path, *, command: str) -> tuple[Path, Path]:
    """`latest.png` and `latest.md` (the table, under the picture) in `directory`; their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    png, markdown = directory / "latest.png", directory / "latest.md"
    title = report.splitlines()[0]
    draw(results, title).savefig(png, dpi=100)
    markdown.write_text(
        "# Latest benchmark run\n\n"
        f"`{command}`\n\n"
        f"![Latency by operation and throughput of the API against its anchors]({png.name})\n\n"
        f"{report}\n"
    )
    return png, markdown
