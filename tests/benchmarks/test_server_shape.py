"""The benchmark servers' workers and threads (benchmarks/harness.py): from `--workers` and
`--threads` alone, never from what a developer left in the environment, and reported as gunicorn
resolves them from gunicorn.conf.py."""

import tempfile
from pathlib import Path

import pytest

from benchmarks import harness
from benchmarks.run import parse_args


def bench_of(tmp_path: Path, *argv: str) -> harness.Bench:
    env = harness.bench_environment("unused", tmp_path / "jwks.json", "unused")  # loading the app connects nowhere
    return harness.Bench(parse_args(list(argv)), tmp_path, "unused", env, "unused")


def test_the_default_is_two_workers_of_gunicorn_conf_threads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    for name, value in (("WEB_CONCURRENCY", "7"), ("GUNICORN_THREADS", "9"), ("DATABASE_POOL_MAX_SIZE", "1")):
        monkeypatch.setenv(name, value)

    env = harness.server_environment(bench_of(tmp_path))

    assert env["WEB_CONCURRENCY"] == "2"
    assert "GUNICORN_THREADS" not in env and "DATABASE_POOL_MAX_SIZE" not in env
    assert env["DATABASE_URL"].endswith("/unused")


def test_the_arguments_set_workers_and_threads_and_a_servers_own_settings_win(tmp_path: Path):
    bench = bench_of(tmp_path, "--workers", "3", "--threads", "1")

    assert {name: harness.server_environment(bench)[name] for name in ("WEB_CONCURRENCY", "GUNICORN_THREADS")} == {
        "WEB_CONCURRENCY": "3",
        "GUNICORN_THREADS": "1",
    }
    assert harness.server_environment(bench, {"GUNICORN_THREADS": "4"})["GUNICORN_THREADS"] == "4"


@pytest.mark.parametrize(
    ("argv", "shape"),
    [((), "2 workers x 2 threads"), (("--workers", "1", "--threads", "1"), "1 worker x 1 thread")],
)
def test_the_shape_is_what_gunicorn_resolves(tmp_path: Path, argv: tuple[str, ...], shape: str):
    def metrics_directories() -> set[Path]:  # gunicorn.conf.py's own, when it is given none
        return set(Path(tempfile.gettempdir()).glob("model-registry-metrics-*"))

    before = metrics_directories()

    assert harness.server_shape(bench_of(tmp_path, *argv)) == shape
    assert metrics_directories() == before  # none left behind: --print-config runs no exit hook
