"""The anchors of the HTTP benchmarks (benchmarks/http_benchmarks.py): the ceiling of the list's
ratio, the order of the alternating rounds, and the empty view they are read against."""

import json

import pytest
from django.test import RequestFactory
from django.urls import resolve

from benchmarks.http_benchmarks import alternating_rounds, by_p99, ratio_ceiling
from benchmarks.load import WrkResult
from benchmarks.urls import baseline_view, empty_view, resolved_floor_view


def test_the_ceiling_is_the_baseline_over_the_fixed_cost_plus_the_plain_views_rows():
    # 3.5 ms of baseline, 0.5 of it the stack: 3.0 ms of rows; the API's 304 costs 2.0 ms.
    assert ratio_ceiling(baseline_cpu_ms=3.5, fixed_cpu_ms=2.0, empty_cpu_ms=0.5) == pytest.approx(3.5 / 5.0)


def test_an_api_whose_fixed_cost_is_the_stacks_alone_could_match_the_plain_view():
    assert ratio_ceiling(baseline_cpu_ms=3.5, fixed_cpu_ms=0.5, empty_cpu_ms=0.5) == pytest.approx(1.0)


def test_an_empty_view_dearer_than_the_baseline_counts_no_negative_rows():
    # On a noisy host the two can cross; the rows then cost nothing, not less than nothing.
    assert ratio_ceiling(baseline_cpu_ms=0.4, fixed_cpu_ms=2.0, empty_cpu_ms=0.5) == pytest.approx(0.2)


def run_of(way: str, order: list[str]) -> WrkResult:
    order.append(way)
    return WrkResult(requests_per_second=len(order), latency_ms={}, requests=1, errors=0, raw=way)


def test_rounds_alternate_the_order_so_drift_falls_on_every_way_alike():
    order: list[str] = []
    runs = alternating_rounds(["a", "b", "c"], 3, lambda way: run_of(way, order))
    assert order == ["a", "b", "c", "c", "b", "a", "a", "b", "c"]
    assert {way: [run.requests_per_second for run in results] for way, results in runs.items()} == {
        "a": [1, 6, 7],
        "b": [2, 5, 8],
        "c": [3, 4, 9],
    }


def test_no_rounds_run_nothing():
    order: list[str] = []
    assert alternating_rounds(["a", "b"], 0, lambda way: run_of(way, order)) == {"a": [], "b": []}
    assert order == []


@pytest.mark.parametrize(
    ("p99s", "median"), [([30.0], 30.0), ([12.0, 9.0, 30.0], 12.0), ([12.0, 9.0, 30.0, 10.0], 12.0)]
)
def test_the_median_run_is_the_middle_one_by_p99(p99s: list[float], median: float):
    runs = [WrkResult(requests_per_second=1, latency_ms={"99%": p99}, requests=1, errors=0, raw="") for p99 in p99s]
    ordered, middle = by_p99(runs)
    assert [run.latency_ms["99%"] for run in ordered] == sorted(p99s)
    assert middle.latency_ms["99%"] == median


def test_the_empty_view_answers_an_empty_object_and_reads_nothing():
    # No django_db mark: pytest-django fails any query this test would make.
    response = empty_view(RequestFactory().get("/bench/empty"))
    assert response.status_code == 200
    assert json.loads(response.content) == {}


def test_the_benchmark_server_routes_its_anchors():
    assert resolve("/bench/empty", urlconf="benchmarks.urls").func is empty_view
    assert resolve("/bench/baseline-models", urlconf="benchmarks.urls").func is baseline_view
    floor = resolve("/v1/bench/resolved-floor/0edb7fd3-7940-4f71-8456-a829dcec7f6d", urlconf="benchmarks.urls")
    assert floor.func is resolved_floor_view
