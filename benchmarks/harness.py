"""The setting the benchmarks run in, set up and always torn down.

A throwaway PostgreSQL database (created, migrated, dropped at the end), the environment of the
server and of this process (Redis db 14 under a key prefix of this run only, a JWKS generated
with core.devkeys and served from a file, throttle rates that never throttle), and the production
gunicorn configuration with 2 workers on 127.0.0.1 and a free port. The server is always stopped,
the database always dropped and the run's Redis keys always deleted, even on Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_URL_TEMPLATE = os.environ.get("BENCH_PG_URL_TEMPLATE", "postgres://postgres@127.0.0.1:5432/{name}")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
HOST = "127.0.0.1"

PROJECT_ID = "project-test-00000000-0000-0000-0000-0000000bench"
ORGANIZATION_ID = "organization-test-bench"
# A rate no benchmark reaches. Per second, not per minute: DRF's throttles keep one timestamp
# per request of the window in the cache, so a minute-long window would grow the cached list
# (and the cost of every request) by the whole run's traffic.
UNTHROTTLED_RATE = "1000000/second"


def log(message: str) -> None:
    print(f"» {message}", file=sys.stderr, flush=True)


# --- The environment --------------------------------------------------------------------------------------


@dataclass
class Bench:
    """Everything the benchmarks share: paths, the environment of the server, tokens, seeded ids."""

    args: argparse.Namespace
    workdir: Path
    db_name: str
    env: dict[str, str]
    cache_prefix: str
    private_key: Any = None
    kid: str = "bench-key-1"
    token: str = ""
    resolved_id: str = ""
    db_created: bool = False

    def mint(self, organization_id: str, **claims: Any) -> str:
        from core import devkeys

        return devkeys.mint_token(
            self.private_key,
            self.kid,
            devkeys.member_claims(
                project_id=PROJECT_ID,
                organization_id=organization_id,
                member_id=f"member-test-bench-{organization_id[-8:]}",
                roles=("stytch_member", "stytch_admin"),
                ttl=6 * 3600,
                **claims,
            ),
        )


def bench_environment(db_name: str, jwks_path: Path, cache_prefix: str) -> dict[str, str]:
    """The environment of the benchmark server (and of this process, for the in-process figures)."""
    return {
        "DJANGO_SETTINGS_MODULE": "benchmarks.settings",
        "DEBUG": "false",
        "DOTENV_FILE": "",  # a developer's .env (DEBUG=true) must not reach the measured server
        "SECRET_KEY": f"bench-{uuid.uuid4().hex}",
        "ALLOWED_HOSTS": HOST,
        "SECURE_SSL_REDIRECT": "false",
        "LOG_LEVEL": "WARNING",
        "DATABASE_URL": PG_URL_TEMPLATE.format(name=db_name),
        "REDIS_URL": REDIS_URL,
        "CACHE_KEY_PREFIX": cache_prefix,
        "STYTCH_PROJECT_ID": PROJECT_ID,
        "STYTCH_JWKS_URL": jwks_path.resolve().as_uri(),  # as core.devkeys.jwks_file_url
        "STYTCH_JWKS_ALLOW_INSECURE": "true",  # a file:// JWKS with DEBUG off
        "STYTCH_CUSTOM_BASE_URL": "",
        "THROTTLE_RATE_ORGANIZATION": UNTHROTTLED_RATE,
        "THROTTLE_RATE_CLIENT": UNTHROTTLED_RATE,
        "BENCH_ORGANIZATION_ID": ORGANIZATION_ID,
        # Longer than a run: a hit does not renew its entry, and v1/bench/resolved-floor only reads the
        # API's (production's 300 s could expire it between the resolved runs). A hit costs the same.
        "RESPONSE_CACHE_SECONDS": "3600",
        # The mixed benchmark reads the server's response cache counters from /metrics.
        "METRICS_TOKEN": f"bench-metrics-{uuid.uuid4().hex}",
    }


@contextmanager
def bench_setting(args: argparse.Namespace) -> Iterator[Bench]:
    """This process configured as the server (Django set up, a key pair, a token of ORGANIZATION_ID),
    and a created and migrated database; on exit the database, the Redis keys and the files go."""
    workdir = Path(tempfile.mkdtemp(prefix="model-registry-bench-"))
    cache_prefix = f"model-registry-bench-{uuid.uuid4().hex[:12]}"
    jwks_path = workdir / "jwks.json"
    bench = Bench(args, workdir, args.db_name, bench_environment(args.db_name, jwks_path, cache_prefix), cache_prefix)
    os.environ.update(bench.env)  # this process's in-process figures use the same settings as the server

    import django

    django.setup()
    from core import devkeys

    bench.private_key = devkeys.generate_private_key()
    devkeys.write_jwks(jwks_path, [devkeys.public_jwk(bench.private_key, bench.kid)])
    bench.token = bench.mint(ORGANIZATION_ID)

    try:
        create_database(bench)
        migrate()
        yield bench
    finally:
        for cleanup in (lambda: drop_database(bench), lambda: delete_cache_keys(cache_prefix)):
            try:
                cleanup()
            except Exception:  # the other clean-ups still run
                traceback.print_exc()
        shutil.rmtree(workdir, ignore_errors=True)


def api_client(token: str | None = None) -> Any:
    """DRF's test client, in this process, with a bearer token if one is given."""
    from rest_framework.test import APIClient

    client = APIClient(SERVER_NAME=HOST)
    if token:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


# --- PostgreSQL and Redis ---------------------------------------------------------------------------------


def admin_query(sql: str, params: tuple | None = None) -> list[tuple]:
    """One statement on the maintenance database (autocommit); its rows, if it returns any."""
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as connection:
        cursor = connection.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def _drop_database_if_exists(name: str) -> None:
    from psycopg import sql as pgsql

    admin_query(f"DROP DATABASE IF EXISTS {pgsql.Identifier(name).as_string(None)} WITH (FORCE)")


def create_database(bench: Bench) -> None:
    from psycopg import sql as pgsql

    _drop_database_if_exists(bench.db_name)  # a leftover of an interrupted run
    admin_query(f"CREATE DATABASE {pgsql.Identifier(bench.db_name).as_string(None)}")
    bench.db_created = True
    log(f"created database {bench.db_name}")


def drop_database(bench: Bench) -> None:
    if not bench.db_created:
        return
    close_django_connections()
    _drop_database_if_exists(bench.db_name)
    bench.db_created = False
    log(f"dropped database {bench.db_name}")


@contextmanager
def database_copy(bench: Bench, suffix: str) -> Iterator[str]:
    """A copy of the bench database as it is now (`CREATE DATABASE ... TEMPLATE`, a file copy:
    no other session may be connected to it meanwhile), dropped on exit; its name."""
    from psycopg import sql as pgsql

    name = f"{bench.db_name}_{suffix}"
    close_django_connections()
    _drop_database_if_exists(name)  # a leftover of an interrupted run
    admin_query(
        f"CREATE DATABASE {pgsql.Identifier(name).as_string(None)} "
        f"TEMPLATE {pgsql.Identifier(bench.db_name).as_string(None)}"
    )
    log(f"copied database {bench.db_name} to {name}")
    try:
        yield name
    finally:
        _drop_database_if_exists(name)
        log(f"dropped database {name}")


def close_django_connections() -> None:
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        connection.close()
        if hasattr(connection, "close_pool"):
            connection.close_pool()


def delete_cache_keys(prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=5)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def migrate() -> None:
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    log(f"migrated in {time.perf_counter() - started:.1f} s")


# --- The gunicorn server ------------------------------------------------------------------------------------


def pgrep(*arguments: str) -> list[int]:
    """The pids `pgrep` finds (none if it finds none)."""
    found = subprocess.run(["pgrep", *arguments], capture_output=True, text=True).stdout
    return [int(pid) for pid in found.split()]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    base_url: str
    process: subprocess.Popen
    log_path: Path
    db_name: str

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def worker_restarts(self) -> int:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return 0
        return len(re.findall(r"Autorestarting worker", text))


# How a benchmark server runs: from gunicorn.conf.py and the arguments alone. A developer's own,
# left in the shell, would change what is measured unseen (GUNICORN_CMD_ARGS wins over the file).
SERVER_VARIABLES = (
    "WEB_CONCURRENCY",
    "GUNICORN_THREADS",
    "GUNICORN_CMD_ARGS",
    "GUNICORN_TIMEOUT",
    "GUNICORN_MAX_REQUESTS",
    "GUNICORN_GIL_SWITCH_INTERVAL",
    "DATABASE_POOL_MIN_SIZE",
    "DATABASE_POOL_MAX_SIZE",
)


def server_environment(bench: Bench, extra_env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a benchmark server: `--workers` workers of `--threads` threads (else
    gunicorn.conf.py's), the pool then sized by gunicorn.conf.py (one connection a thread)."""
    inherited = {name: value for name, value in os.environ.items() if name not in SERVER_VARIABLES}
    shape = {"WEB_CONCURRENCY": str(bench.args.workers)}
    if bench.args.threads is not None:
        shape["GUNICORN_THREADS"] = str(bench.args.threads)
    return {**inherited, **bench.env, **shape, **(extra_env or {})}


def shape_variables(env: dict[str, str]) -> str:
    return f"WEB_CONCURRENCY={env['WEB_CONCURRENCY']}, GUNICORN_THREADS={env.get('GUNICORN_THREADS', 'unset')}"


def server_shape(bench: Bench) -> str:
    """ "2 workers x 2 threads": what gunicorn resolves from gunicorn.conf.py and the environment."""
    gunicorn = Path(sys.executable).parent / "gunicorn"
    # gunicorn.conf.py makes a metrics directory when none is given; --print-config runs no hook to remove it.
    env = {**server_environment(bench), "PROMETHEUS_MULTIPROC_DIR": str(bench.workdir / "print-config-metrics")}
    printed = subprocess.run(
        [str(gunicorn), "config.wsgi", "-c", "gunicorn.conf.py", "--print-config"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    settings = dict(re.findall(r"^(workers|threads)\s*=\s*(\d+)$", printed.stdout, flags=re.MULTILINE))
    if printed.returncode != 0 or len(settings) != 2:
        raise RuntimeError(f"gunicorn --print-config failed ({printed.returncode}):\n{printed.stderr[-2000:]}")
    workers, threads = int(settings["workers"]), int(settings["threads"])
    return f"{workers} worker{'s' * (workers != 1)} x {threads} thread{'s' * (threads != 1)}"


@contextmanager
def gunicorn_server(
    bench: Bench, extra_env: dict[str, str] | None = None, *, db_name: str | None = None
) -> Iterator[Server]:
    """`gunicorn config.wsgi -c gunicorn.conf.py` on 127.0.0.1 with `--workers` (2) workers of
    `--threads` (gunicorn.conf.py's default) threads; always stopped on exit.

    `extra_env` changes the settings of this server only (e.g. RESPONSE_CACHE_SECONDS=0). `db_name`
    serves another database than the bench's (a `database_copy`), with a cache key prefix of its own."""
    port = free_port()
    env = {**server_environment(bench, extra_env), "GUNICORN_BIND": f"{HOST}:{port}"}
    if db_name is not None and db_name != bench.db_name:
        # Under the run's prefix still (delete_cache_keys finds them), apart from the bench database's keys.
        env.update(
            DATABASE_URL=PG_URL_TEMPLATE.format(name=db_name), CACHE_KEY_PREFIX=f"{bench.cache_prefix}:{db_name}"
        )
    gunicorn = Path(sys.executable).parent / "gunicorn"
    log_path = bench.workdir / (f"gunicorn-{port}.log" if extra_env or db_name else "gunicorn.log")
    command = [str(gunicorn), "config.wsgi", "-c", "gunicorn.conf.py"]
    if "--no-control-socket" in subprocess.run([str(gunicorn), "--help"], capture_output=True, text=True).stdout:
        # Leave the per-user control socket (~/.gunicorn/gunicorn.ctl) to any other gunicorn on the machine.
        command.append("--no-control-socket")
    log(
        f"starting {' '.join(command)} on {HOST}:{port} ({shape_variables(env)}, "
        f"DJANGO_SETTINGS_MODULE=benchmarks.settings{', database ' + db_name if db_name else ''})"
    )
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(
        base_url=f"http://{HOST}:{port}", process=process, log_path=log_path, db_name=db_name or bench.db_name
    )
    try:
        wait_until_ready(server)
        yield server
    finally:
        stop_server(server)


def wait_until_ready(server: Server, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.process.returncode}:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(f"{server.base_url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer /healthz within {timeout:.0f} s:\n{server.log_tail()}")


def stop_server(server: Server) -> None:
    """SIGTERM to the master (a graceful stop of its workers), SIGKILL to its process group if it lingers."""
    process = server.process
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # the group gunicorn leads (start_new_session)
            process.wait(timeout=5)
    if pgrep("-g", str(process.pid)):  # workers left in its group
        os.killpg(process.pid, signal.SIGKILL)
    log(f"gunicorn stopped (exit {process.returncode})")
