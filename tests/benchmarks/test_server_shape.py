"""The benchmark servers' workers and threads (benchmarks/harness.py): from `--workers` and
`--threads` alone, never from what a developer left in the environment, and reported as gunicorn
resolves them from gunicorn.conf.py."""

from pathlib import Path

import pytest

from benchmarks import harness
from benchmarks.run import parse_args


def bench_of(tmp_path: Path, *argv: str) -> harness.Bench:
    env = harness.bench_environment("unused", tmp_path / "jwks.json", "unused")  # loading the app connects nowhere
    return harness.Bench(parse_args(list(argv)), tmp_path, "unused", env, "unused")


SHELL = {
    "WEB_CONCURRENCY": "7",
    "GUNICORN_THREADS": "9",
    "GUNICORN_CMD_ARGS": "--threads 8",  # gunicorn would apply it over gunicorn.conf.py
    "GUNICORN_MAX_REQUESTS": "10",
    "GUNICORN_GIL_SWITCH_INTERVAL": "0.005",
    "GUNICORN_TIMEOUT": "1",
    "DATABASE_POOL_MIN_SIZE": "3",
    "DATABASE_POOL_MAX_SIZE": "1",
}


def test_the_default_is_two_workers_of_gunicorn_conf_threads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    for name, value in SHELL.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("UNRELATED_SETTING", "kept")

    env = harness.server_environment(bench_of(tmp_path))

    assert env["WEB_CONCURRENCY"] == "2"
    assert not {name for name in SHELL if name != "WEB_CONCURRENCY"} & set(env)
    assert env["DATABASE_URL"].endswith("/unused") and env["UNRELATED_SETTING"] == "kept"


def test_what_the_shell_says_does_not_change_the_resolved_shape(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    for name, value in SHELL.items():
        monkeypatch.setenv(name, value)

    assert harness.server_shape(bench_of(tmp_path)) == "2 workers x 2 threads"


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
def test_the_shape_is_what_gunicorn_resolves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, argv: tuple[str, ...], shape: str
):
    scratch = tmp_path / "tmp"  # a temporary directory of this test's own: no other process writes there
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))

    assert harness.server_shape(bench_of(tmp_path, *argv)) == shape
    # gunicorn.conf.py makes its metrics directory there when given none, and --print-config runs no
    # exit hook to remove it: none may be left behind.
    assert list(scratch.iterdir()) == []
