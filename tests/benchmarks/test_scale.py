"""The scale benchmark's arithmetic (benchmarks/scale.py): rounds in alternation, a p95 per round,
their median as the figure. The runs themselves need gunicorn and the 1.1M-row set (`make bench`)."""

import pytest

from benchmarks.scale import MAX_REQUESTS, MIN_REQUESTS, WARMUP_REQUESTS, Timing, percentile, round_order, time_requests


def test_percentile_is_the_nearest_rank():
    values = [float(n) for n in range(1, 21)]  # 1..20
    assert percentile(values, 0.95) == 19.0
    assert percentile(values, 0.5) == 10.0
    assert percentile([7.0], 0.95) == 7.0
    assert percentile([*values, 1000.0], 0.95) == 20.0  # 21 values: the 20th, not the outlier


def test_the_p95_is_the_median_of_the_rounds_p95s_and_the_p50_that_of_every_request():
    steady = [float(n) for n in range(1, 21)]  # p95 19
    burst = [*steady[:-2], 500.0, 600.0]  # one round hit by steal: p95 500
    timing = Timing.of_rounds([steady, steady, burst, [2.0 * v for v in steady], steady])
    assert timing.round_p95s == [19.0, 19.0, 500.0, 38.0, 19.0]
    assert timing.p95 == 19.0  # the burst moves one round of five, not the figure
    assert timing.requests == 100
    all_requests = sorted([*steady, *steady, *burst, *(2.0 * v for v in steady), *steady])
    assert timing.p50 == (all_requests[49] + all_requests[50]) / 2
    assert timing.as_data() == {"p50": round(timing.p50, 2), "p95": 19.0}


def test_each_organization_goes_first_in_turn():
    labels = ["small", "org_100", "org_100k"]
    orders = [round_order(labels, number) for number in range(6)]
    assert orders[:3] == [
        ["small", "org_100", "org_100k"],
        ["org_100", "org_100k", "small"],
        ["org_100k", "small", "org_100"],
    ]
    assert orders[3:] == orders[:3]
    for order in orders:
        assert sorted(order) == sorted(labels)


class FakeClient:
    """Answers every request at once with `status`; records the indexes asked for."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.sent: list[int] = []

    def send(self, request):
        self.sent.append(request[1])
        return self.status, b"{}", 1.5


def make(index: int):
    return "GET", index, None


def test_a_round_warms_up_then_times_from_the_given_index_up_to_its_maximum():
    client = FakeClient()
    samples = time_requests(client, make, 200, first=80, budget=60.0)
    assert samples == [1.5] * MAX_REQUESTS  # a long budget: the maximum stops it
    assert client.sent[:WARMUP_REQUESTS] == [-1 - i for i in range(WARMUP_REQUESTS)]
    assert client.sent[WARMUP_REQUESTS:] == list(range(80, 80 + MAX_REQUESTS))  # cold reads never repeat


def test_a_round_with_no_budget_left_still_times_its_minimum():
    client = FakeClient()
    assert len(time_requests(client, make, 200, budget=0.0)) == MIN_REQUESTS


def test_an_unexpected_status_stops_the_benchmark():
    with pytest.raises(RuntimeError, match="404"):
        time_requests(FakeClient(status=404), make, 200)


def test_each_list_operation_records_how_many_rows_its_page_returns():
    """A page of 10 and a page of 50 are not the same work: the table shows each organization's."""
    from benchmarks.scale import CREATE, Tenant, page_rows

    pages = {"/particles": {"count": 5005, "results": [{}] * 50}, "/resolved": {"id": "x"}, "/empty": {"results": []}}

    class PagesClient:
        def __init__(self) -> None:
            self.asked: list[str] = []

        def json(self, request):
            self.asked.append(request[1])
            return pages[request[1]]

    tenant = Tenant("org", "token", "warm", [], "parent")
    tenant.requests = {
        "particles": lambda i: ("GET", "/particles", None),
        "resolved": lambda i: ("GET", "/resolved", None),
        "empty": lambda i: ("GET", "/empty", None),
        "cursor": None,  # not measured: nothing to ask
        CREATE: lambda i: ("POST", "/models", {}),
    }
    client = PagesClient()

    assert page_rows(tenant, client) == {"particles": 50, "empty": 0}
    assert client.asked == ["/particles", "/resolved", "/empty"]  # the create is not sent
